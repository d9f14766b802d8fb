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

func TestPriority(t *testing.T) {
	tab := poolTable(t)
	for _, tt := range []struct {
		objective      string
		priority, band int
	}{{"critical", 10, 0}, {"", 0, 1}, {"unknown", 0, 1}, {"batch", -1, 2}} {
		p := tab.Priority(0, tt.objective)
		band, bands := tab.Band(0, p)
		if p != tt.priority || band != tt.band || bands != 3 {
			t.Errorf("%q: priority %d band %d of %d, want %d, %d of 3", tt.objective, p, band, bands, tt.priority, tt.band)
		}
	}
}
