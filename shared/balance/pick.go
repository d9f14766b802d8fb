package balance

import (
	"context"
	"slices"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// Candidate is one backend a request may go to.
type Candidate struct {
	// Backend is the index in the route table's Backends; -1 for a ref
	// that did not resolve (its share of traffic is answered with a 500).
	Backend int
	Name    string
	Weight  int32
	// Group is the rule's backendRef the candidate comes from: the members
	// of one InferencePool share it and its weight.
	Group    int
	Pool     int // the pool's index plus one; zero outside pools
	Tier     int
	Cost     float64 // price of a million tokens, for LeastCost
	MaxConc  int
	Fallback bool
	// ContextOnly candidates take only requests too long for the others.
	ContextOnly bool
	// Model is the model asked of a fallback; "" is the client's.
	Model string
}

// Pick is the next attempt's backend.
type Pick struct {
	Index int // into the request's candidates
	// Wait is how long to wait before sending: a retry on the same
	// backend honours its backoff.
	Wait time.Duration
}

// Request is one client request's walk through its candidates. It is not
// safe for concurrent use, except that Done may be called from the
// goroutine of a hedged attempt.
type Request struct {
	b     *Balancer
	pol   *route.BackendPolicy
	retry *route.Retry
	route string
	model string
	cands []Candidate
	tried []bool
	probe []bool

	// Room for the usual few candidates, so that a request costs one
	// allocation here.
	candBuf  [4]Candidate
	triedBuf [8]bool

	attempts   int
	last       Class
	lastIdx    int
	lastWait   time.Duration
	lastStatus int
	// Exhausted says why Next said no more: "attempts", "budget" or "".
	Exhausted string
}

var defaultPolicy = route.BackendPolicy{}

// Begin starts a request on a rule's candidates. pol may be nil (defaults);
// retry is the HTTPRoute rule's retry field, whose attempts, codes and
// backoff AI routes honour too.
func (b *Balancer) Begin(ctx context.Context, routeName, model string, pol *route.BackendPolicy, retry *route.Retry, cands []Candidate) *Request {
	r := b.begin(ctx, routeName, model, pol, retry)
	r.setCandidates(cands)
	return r
}

// BeginRule starts a request on a rule of table t, with the candidates
// Candidates would list.
func (b *Balancer) BeginRule(ctx context.Context, t *route.Table, rule *route.Rule, model string, cost func(*route.Backend) float64) *Request {
	r := new(Request)
	b.StartRule(ctx, r, t, rule, model, cost)
	return r
}

// StartRule is BeginRule into r, which the caller owns: a gateway keeps
// it in its per-request state and saves an allocation per request.
func (b *Balancer) StartRule(ctx context.Context, r *Request, t *route.Table, rule *route.Rule, model string, cost func(*route.Backend) float64) {
	b.start(ctx, r, rule.Route, model, rule.Balance, rule.Retry)
	r.setCandidates(appendCandidates(r.candBuf[:0], t, rule, cost))
}

func (b *Balancer) begin(ctx context.Context, routeName, model string, pol *route.BackendPolicy, retry *route.Retry) *Request {
	r := new(Request)
	b.start(ctx, r, routeName, model, pol, retry)
	return r
}

func (b *Balancer) start(ctx context.Context, r *Request, routeName, model string, pol *route.BackendPolicy, retry *route.Retry) {
	if pol == nil {
		pol = &defaultPolicy
	}
	b.refreshShared(ctx)
	b.budget(routeName).request(b.cfg.Now())
	*r = Request{b: b, pol: pol, retry: retry, route: routeName, model: model, lastIdx: -1}
}

func (r *Request) setCandidates(cands []Candidate) {
	r.cands = cands
	n := len(cands)
	if 2*n <= len(r.triedBuf) {
		r.tried, r.probe = r.triedBuf[:n:n], r.triedBuf[n:2*n]
	} else {
		r.tried, r.probe = make([]bool, n), make([]bool, n)
	}
}

// Candidates is the request's candidates, as Begin got them.
func (r *Request) Candidates() []Candidate { return r.cands }

// Attempts is the number of attempts Next has handed out.
func (r *Request) Attempts() int { return r.attempts }

func (r *Request) maxAttempts() int {
	if r.retry != nil && r.retry.Attempts > 0 {
		return r.retry.Attempts + 1
	}
	return or(r.pol.MaxAttempts, DefaultMaxAttempts)
}

// Next chooses the next attempt's backend, or says there is none: every
// eligible backend was tried, the attempt limit or the route's retry
// budget is reached, or the last outcome is not worth a retry.
func (r *Request) Next() (Pick, bool) {
	return r.next(false)
}

// Hedge chooses a backend for a hedged attempt beside one in flight: the
// next eligible backend, within the attempt limit and the retry budget
// (hedges are retries that start early). Never the same backend.
func (r *Request) Hedge() (Pick, bool) {
	return r.next(true)
}

func (r *Request) next(hedge bool) (Pick, bool) {
	now := r.b.cfg.Now()
	if r.attempts > 0 {
		if !hedge && !r.retryable() {
			return Pick{}, false
		}
		if r.attempts >= r.maxAttempts() {
			r.Exhausted = "attempts"
			return Pick{}, false
		}
	}
	i := r.choose(now, true)
	if i < 0 && r.attempts == 0 && !hedge {
		// Every backend is resting: one attempt still goes out, to the
		// strategy's choice among them, rather than refusing to serve.
		i = r.choose(now, false)
	}
	wait := time.Duration(0)
	if i < 0 && !hedge && r.attempts > 0 && r.last == Transient && r.onlyOne() {
		// The same backend is retried only when it is the only one, after
		// its backoff.
		wait = max(r.lastWait, r.backoff())
		if wait > maxSameBackendWait {
			return Pick{}, false
		}
		i = r.lastIdx
	}
	if i < 0 {
		return Pick{}, false
	}
	if r.attempts > 0 && !r.b.budget(r.route).retry(now, r.budgetFraction(), or(r.pol.MinRetries, DefaultMinRetries)) {
		r.Exhausted = "budget"
		return Pick{}, false
	}
	c := &r.cands[i]
	r.tried[i] = true
	r.attempts++
	r.lastIdx = i
	if c.Backend >= 0 {
		s := r.b.state(c.Name)
		r.probe[i] = s.claim(now)
	}
	return Pick{Index: i, Wait: wait}, true
}

// budgetFraction is the share of recent requests retries may reach: a
// negative RetryBudget means none beyond MinRetries, zero the default.
func (r *Request) budgetFraction() float64 {
	switch f := r.pol.RetryBudget; {
	case f < 0:
		return 0
	case f == 0:
		return DefaultRetryBudget
	default:
		return f
	}
}

func (r *Request) backoff() time.Duration {
	if r.retry != nil && r.retry.Backoff > 0 {
		return r.retry.Backoff
	}
	return 100 * time.Millisecond
}

// onlyOne reports whether the request has one backend to go to.
func (r *Request) onlyOne() bool {
	n := 0
	for i := range r.cands {
		if !r.cands[i].ContextOnly {
			n++
		}
	}
	return n == 1
}

func (r *Request) retryable() bool {
	switch r.last {
	case Transient:
	case ContextLength:
	case ContentPolicy:
		return r.pol.RetryContentPolicy
	default:
		return false
	}
	if r.retry != nil && len(r.retry.Codes) > 0 && r.lastStatus != 0 && !r.retry.Retries(r.lastStatus) {
		return false
	}
	return true
}

// choose applies the strategy to the untried candidates that may take the
// request now (healthy only when healthy is set): the rule's own before
// its fallbacks, the lowest tier first. -1 when none is left.
func (r *Request) choose(now time.Time, healthy bool) int {
	var buf [16]bool
	var ok []bool
	if len(r.cands) <= len(buf) {
		ok = buf[:len(r.cands)]
	} else {
		ok = make([]bool, len(r.cands))
	}
	any := false
	contextMode := r.attempts > 0 && r.last == ContextLength
	for _, phase := range []bool{false, true} { // own backends, then fallbacks
		bestTier := int(^uint(0) >> 1)
		for i := range r.cands {
			c := &r.cands[i]
			if r.tried[i] || c.Fallback != phase || c.ContextOnly != contextMode {
				continue
			}
			if healthy && c.Backend >= 0 {
				if avail, _ := r.b.state(c.Name).available(now, r.b.sharedMark(c.Name)); !avail {
					continue
				}
			}
			if c.Tier < bestTier {
				clear(ok)
				bestTier = c.Tier
			}
			if c.Tier == bestTier {
				ok[i] = true
				any = true
			}
		}
		if any {
			break
		}
	}
	if !any {
		return -1
	}
	return r.pick(ok)
}

// pick chooses among the candidates marked ok by the policy's strategy.
func (r *Request) pick(ok []bool) int {
	switch r.pol.Strategy {
	case route.StrategyLeastInFlight:
		return r.least(ok, func(c *Candidate) float64 { return r.load(c) })
	case route.StrategyLeastLatency:
		return r.least(ok, func(c *Candidate) float64 { return float64(r.b.state(c.Name).latency(r.modelOf(c))) })
	case route.StrategyLeastCost:
		return r.least(ok, func(c *Candidate) float64 { return c.Cost })
	}
	return r.weighted(ok)
}

func (r *Request) modelOf(c *Candidate) string {
	if c.Model != "" {
		return c.Model
	}
	return r.model
}

// load is a candidate's requests in flight relative to its bound.
func (r *Request) load(c *Candidate) float64 {
	if c.Backend < 0 {
		return 0
	}
	l := float64(r.b.state(c.Name).inflight.Load())
	if c.MaxConc > 0 {
		l /= float64(c.MaxConc)
	}
	return l
}

// least picks the lowest score, by weight among equals.
func (r *Request) least(ok []bool, score func(*Candidate) float64) int {
	best := 0.0
	var buf [16]bool
	var tie []bool
	if len(ok) <= len(buf) {
		tie = buf[:len(ok)]
	} else {
		tie = make([]bool, len(ok))
	}
	found := false
	for i := range r.cands {
		if !ok[i] {
			continue
		}
		s := score(&r.cands[i])
		switch {
		case !found || s < best:
			clear(tie)
			best, found = s, true
			tie[i] = true
		case s == best:
			tie[i] = true
		}
	}
	return r.flatWeighted(tie)
}

// flatWeighted draws one candidate by its weight.
func (r *Request) flatWeighted(ok []bool) int {
	var total int32
	for i := range r.cands {
		if ok[i] {
			total += max(r.cands[i].Weight, 0)
		}
	}
	if total <= 0 {
		return slices.Index(ok, true)
	}
	x := int32(r.b.cfg.Rand(int(total)))
	for i := range r.cands {
		if !ok[i] {
			continue
		}
		if x < r.cands[i].Weight {
			return i
		}
		x -= max(r.cands[i].Weight, 0)
	}
	return -1
}

// weighted draws a backendRef by weight among those with a candidate left,
// then, inside an InferencePool, the member with the least load for its
// recent latency.
func (r *Request) weighted(ok []bool) int {
	var total int32
	seen := -1
	for i := range r.cands {
		c := &r.cands[i]
		if ok[i] && c.Group != seen {
			total += c.Weight
			seen = c.Group
		}
	}
	if total <= 0 {
		return -1
	}
	x := int32(r.b.cfg.Rand(int(total)))
	seen = -1
	for i := range r.cands {
		c := &r.cands[i]
		if !ok[i] || c.Group == seen {
			continue
		}
		seen = c.Group
		if x < c.Weight {
			if c.Pool > 0 {
				return r.poolMember(ok, c.Group)
			}
			return i
		}
		x -= c.Weight
	}
	return -1
}

// poolMember picks the pool member with the lowest in-flight count
// weighted by its recent latency; ties go to the first.
func (r *Request) poolMember(ok []bool, group int) int {
	best, bestScore := -1, 0.0
	for i := range r.cands {
		c := &r.cands[i]
		if !ok[i] || c.Group != group {
			continue
		}
		score := r.load(c) + 1
		if lat := r.b.state(c.Name).latency(r.modelOf(c)); lat > 0 {
			score *= float64(lat)
		}
		if best < 0 || score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}
