package route

import "sort"

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
