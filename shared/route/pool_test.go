package route

import "testing"

func poolTable(t *testing.T) *Table {
	t.Helper()
	tab := &Table{
		Backends: []Backend{{Name: "a", MaxConcurrency: 1}, {Name: "b", MaxConcurrency: 1}},
		Pools:    []Pool{{Name: "ns/pool", Members: []int{0, 1}, Objectives: map[string]int{"critical": 10, "batch": -1}}},
		Rules:    []Rule{{Route: "ns/r", Backends: []BackendRef{{Backend: -1, Weight: 1, Pool: 1}}}},
	}
	if err := tab.Prepare(); err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestAdmitShedsLowerPrioritiesFirst fills a pool of capacity 2 with three
// priority bands (10, 0, -1): the lowest band is shed at once, the default
// band at half, the highest only when the pool is full.
func TestAdmitShedsLowerPrioritiesFirst(t *testing.T) {
	tab := poolTable(t)
	prio := func(o string) int { return tab.Priority(0, o) }
	tests := []struct {
		busy                    int
		batch, normal, critical bool
	}{
		{0, true, true, true},
		{1, false, true, true},
		{2, false, false, false},
	}
	for _, tt := range tests {
		for i := 0; i < tt.busy; i++ {
			tab.Acquire(i)
		}
		if got := tab.Admit(0, prio("batch")); got != tt.batch {
			t.Errorf("busy %d: batch admitted %v, want %v", tt.busy, got, tt.batch)
		}
		if got := tab.Admit(0, prio("")); got != tt.normal {
			t.Errorf("busy %d: no objective admitted %v, want %v", tt.busy, got, tt.normal)
		}
		if got := tab.Admit(0, prio("critical")); got != tt.critical {
			t.Errorf("busy %d: critical admitted %v, want %v", tt.busy, got, tt.critical)
		}
		for i := 0; i < tt.busy; i++ {
			tab.Release(i)
		}
	}
	if tab.Priority(0, "unknown") != 0 {
		t.Error("an unknown objective should have priority 0")
	}
}

func TestPickMemberIsLoadAware(t *testing.T) {
	tab := poolTable(t)
	tab.Acquire(0)
	for i := 0; i < 20; i++ {
		if m := tab.PickMember(0, make([]bool, 2)); m != 1 {
			t.Fatalf("picked %d, want the idle member 1", m)
		}
	}
	if m := tab.PickMember(0, []bool{false, true}); m != 0 {
		t.Fatalf("with 1 tried, picked %d", m)
	}
	if m := tab.PickMember(0, []bool{true, true}); m != -1 {
		t.Fatalf("all tried, picked %d", m)
	}
}
