package balance

import "github.com/sluicegw/sluice/shared/route"

// Candidates lists the backends a rule can send a request to, in the
// rule's order: each ref, an InferencePool's members one by one, then the
// policy's fallbacks. cost prices a backend for the request's model; it is
// called only under the LeastCost strategy.
func Candidates(t *route.Table, rule *route.Rule, cost func(*route.Backend) float64) []Candidate {
	return appendCandidates(nil, t, rule, cost)
}

func appendCandidates(out []Candidate, t *route.Table, rule *route.Rule, cost func(*route.Backend) float64) []Candidate {
	pol := rule.Balance
	add := func(bi int, c Candidate) {
		if bi >= 0 {
			b := &t.Backends[bi]
			c.Name, c.MaxConc = b.Name, b.MaxConcurrency
			if pol != nil {
				c.Tier = pol.Tiers[b.Name]
				if pol.Strategy == route.StrategyLeastCost && cost != nil {
					c.Cost = cost(b)
				}
			}
		}
		c.Backend = bi
		out = append(out, c)
	}
	for g := range rule.Backends {
		ref := &rule.Backends[g]
		if ref.Pool > 0 {
			for _, m := range t.Pools[ref.Pool-1].Members {
				add(m, Candidate{Weight: ref.Weight, Group: g, Pool: ref.Pool})
			}
			continue
		}
		add(ref.Backend, Candidate{Weight: ref.Weight, Group: g})
	}
	if pol != nil {
		for i, f := range pol.Fallbacks {
			add(f.Backend, Candidate{Weight: 1, Group: len(rule.Backends) + i, Fallback: true,
				ContextOnly: f.ContextOnly, Model: f.Model})
		}
	}
	return out
}

// Admit decides whether an InferencePool takes a request of the given
// priority now, from the requests in flight to its members. A pool whose
// members all have a concurrency bound is saturated when its requests in
// flight reach the sum of the bounds. With k priority bands, band i (0 the
// highest) may fill only (k-i)/k of that capacity, so as load grows the
// lowest priorities are shed first and the highest keeps it all. self is
// what the caller already counts in flight to the pool for this request
// (one once Next picked a member), left out of the load.
func (b *Balancer) Admit(t *route.Table, pool, priority int, self int64) bool {
	p := &t.Pools[pool]
	var capacity, busy int64
	for _, m := range p.Members {
		be := &t.Backends[m]
		if be.MaxConcurrency <= 0 {
			return true // unbounded: never saturated
		}
		capacity += int64(be.MaxConcurrency)
		busy += b.state(be.Name).inflight.Load()
	}
	busy -= self
	band, k := t.Band(pool, priority)
	return busy*int64(k) < capacity*int64(k-band)
}
