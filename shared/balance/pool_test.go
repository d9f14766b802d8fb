package balance

import (
	"context"
	"testing"

	"github.com/sluicegw/sluice/shared/route"
)

func poolTable(t *testing.T) *route.Table {
	t.Helper()
	tab := &route.Table{
		Backends: []route.Backend{{Name: "ns/a", MaxConcurrency: 1}, {Name: "ns/b", MaxConcurrency: 1}},
		Pools:    []route.Pool{{Name: "ns/pool", Members: []int{0, 1}, Objectives: map[string]int{"critical": 10, "batch": -1}}},
		Rules:    []route.Rule{{Route: "ns/r", Backends: []route.BackendRef{{Backend: -1, Weight: 1, Pool: 1}}}},
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
		b, _ := newTest(nil)
		for i := 0; i < tt.busy; i++ {
			b.state(tab.Backends[i].Name).inflight.Add(1)
		}
		if got := b.Admit(tab, 0, prio("batch"), 0); got != tt.batch {
			t.Errorf("busy %d: batch admitted %v, want %v", tt.busy, got, tt.batch)
		}
		if got := b.Admit(tab, 0, prio(""), 0); got != tt.normal {
			t.Errorf("busy %d: no objective admitted %v, want %v", tt.busy, got, tt.normal)
		}
		if got := b.Admit(tab, 0, prio("critical"), 0); got != tt.critical {
			t.Errorf("busy %d: critical admitted %v, want %v", tt.busy, got, tt.critical)
		}
	}
}

func TestPoolMemberIsLoadAware(t *testing.T) {
	tab := poolTable(t)
	b, _ := newTest(nil)
	cs := Candidates(tab, &tab.Rules[0], nil)
	b.state("ns/a").inflight.Add(1)
	for range 5 {
		r := b.Begin(context.Background(), "ns/r", "m", nil, nil, cs)
		p, _ := r.Next()
		if cs[p.Index].Name != "ns/b" {
			t.Fatalf("picked %s, want the idle member ns/b", cs[p.Index].Name)
		}
		r.Done(p, Outcome{Class: Success})
	}
	// With equal load, the member with the lower latency.
	b.state("ns/a").inflight.Add(-1)
	b.state("ns/a").observe("m", 50)
	b.state("ns/b").observe("m", 500)
	r := b.Begin(context.Background(), "ns/r", "m", nil, nil, cs)
	if p, _ := r.Next(); cs[p.Index].Name != "ns/a" {
		t.Errorf("picked %s, want the faster ns/a", cs[p.Index].Name)
	}
}
