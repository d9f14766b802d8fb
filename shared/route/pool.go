package route

import (
	"math/rand/v2"
	"sort"
	"sync/atomic"
)

// ObjectiveHeader names the InferenceObjective a request belongs to, as in
// the Gateway API Inference Extension.
const ObjectiveHeader = "X-Gateway-Inference-Objective"

// Pool is an InferencePool: AIBackends chosen by label, balanced by load,
// with priorities from its InferenceObjectives.
type Pool struct {
	Name       string         `json:"name"` // namespace/name
	Members    []int          `json:"members"`
	Objectives map[string]int `json:"objectives,omitempty"` // objective name → priority
	// Balance is the BackendPolicy attached to the pool; nil: defaults.
	Balance *BackendPolicy `json:"balance,omitempty"`

	bands []int // distinct priorities, highest first; 0 is always a band
}

func (p *Pool) prepare() {
	seen := map[int]bool{0: true}
	p.bands = []int{0}
	for _, pr := range p.Objectives {
		if !seen[pr] {
			seen[pr] = true
			p.bands = append(p.bands, pr)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(p.bands)))
}

// inflight counts requests in flight per backend of one table.
type inflight []atomic.Int64

// Acquire counts a request in flight to backend b; Release ends it.
func (t *Table) Acquire(b int) { t.inflight[b].Add(1) }

// Release ends a request counted by Acquire.
func (t *Table) Release(b int) { t.inflight[b].Add(-1) }

// InFlight reports the requests in flight to backend b.
func (t *Table) InFlight(b int) int64 { return t.inflight[b].Load() }

// Priority is the priority of a request naming objective in pool p; zero
// when it names none, or one the pool does not know.
func (t *Table) Priority(pool int, objective string) int {
	if objective == "" {
		return 0
	}
	return t.Pools[pool].Objectives[objective]
}

// Band is the place of priority among the pool's priority bands (0 the
// highest) and the number of bands.
func (t *Table) Band(pool, priority int) (band, bands int) {
	p := &t.Pools[pool]
	for i, b := range p.bands {
		band = i
		if priority >= b {
			break
		}
	}
	return band, len(p.bands)
}

// Admit decides whether a pool takes a request of the given priority now.
// A pool whose members all have a concurrency bound is saturated when its
// requests in flight reach the sum of the bounds. With k priority bands,
// band i (0 the highest) may fill only (k-i)/k of that capacity, so as load
// grows the lowest priorities are shed first and the highest keeps it all.
func (t *Table) Admit(pool, priority int) bool {
	p := &t.Pools[pool]
	var capacity, busy int64
	for _, m := range p.Members {
		c := int64(t.Backends[m].MaxConcurrency)
		if c <= 0 {
			return true // unbounded: never saturated
		}
		capacity += c
		busy += t.inflight[m].Load()
	}
	band := 0
	for i, b := range p.bands {
		if priority >= b {
			band = i
			break
		}
		band = i
	}
	k := int64(len(p.bands))
	return busy*k < capacity*(k-int64(band))
}

// PickMember chooses the least-loaded member not tried yet, relative to
// its concurrency bound; -1 when every member was tried.
func (t *Table) PickMember(pool int, tried []bool) int {
	best, bestLoad, ties := -1, 0.0, 0
	for _, m := range t.Pools[pool].Members {
		if tried[m] {
			continue
		}
		load := float64(t.inflight[m].Load())
		if c := t.Backends[m].MaxConcurrency; c > 0 {
			load /= float64(c)
		}
		switch {
		case best < 0 || load < bestLoad:
			best, bestLoad, ties = m, load, 1
		case load == bestLoad:
			ties++
			if rand.IntN(ties) == 0 { // reservoir: a fair pick among equals
				best = m
			}
		}
	}
	return best
}
