package balance

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// clock is a settable clock for the tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// first always draws zero, so weighted picks take the first open share.
func first(int) int { return 0 }

func newTest(rand func(int) int) (*Balancer, *clock) {
	c := &clock{t: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
	if rand == nil {
		rand = first
	}
	return New(Config{Now: c.now, Rand: rand}), c
}

func cands(names ...string) []Candidate {
	out := make([]Candidate, len(names))
	for i, n := range names {
		out[i] = Candidate{Backend: i, Name: n, Weight: 1, Group: i}
	}
	return out
}

// serve runs one request to its end, the backends answering as outcome
// says, and returns the names tried in order.
func serve(b *Balancer, pol *route.BackendPolicy, cs []Candidate, outcome func(name string) Outcome) []string {
	r := b.Begin(context.Background(), "ns/route", "m", pol, nil, cs)
	var tried []string
	for {
		p, ok := r.Next()
		if !ok {
			return tried
		}
		name := cs[p.Index].Name
		tried = append(tried, name)
		o := outcome(name)
		r.Done(p, o)
		if o.Class == Success {
			return tried
		}
	}
}

func failing(names ...string) func(string) Outcome {
	return func(n string) Outcome {
		for _, f := range names {
			if f == n {
				return Outcome{Class: Transient, Status: 503}
			}
		}
		return Outcome{Class: Success, Status: 200}
	}
}

func TestFailover(t *testing.T) {
	tests := []struct {
		name    string
		pol     *route.BackendPolicy
		tiers   []int
		failing []string
		want    []string
	}{
		{"first answers", nil, nil, nil, []string{"a"}},
		{"next on failure", nil, nil, []string{"a"}, []string{"a", "b"}},
		{"attempt limit", &route.BackendPolicy{MaxAttempts: 2}, nil, []string{"a", "b", "c"}, []string{"a", "b"}},
		{"every backend once", nil, nil, []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"tiers", &route.BackendPolicy{Strategy: route.StrategyPriority}, []int{1, 1, 0}, nil, []string{"c"}},
		{"tier falls through", &route.BackendPolicy{Strategy: route.StrategyPriority}, []int{1, 1, 0},
			[]string{"c"}, []string{"c", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTest(nil)
			cs := cands("a", "b", "c")
			for i, tier := range tt.tiers {
				cs[i].Tier = tier
			}
			got := serve(b, tt.pol, cs, failing(tt.failing...))
			if !equal(got, tt.want) {
				t.Errorf("tried %v, want %v", got, tt.want)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 413, 422} {
		b, _ := newTest(nil)
		got := serve(b, nil, cands("a", "b"), func(string) Outcome {
			return Outcome{Class: Classify(status, []byte(`{"error":{"message":"bad"}}`)), Status: status}
		})
		if len(got) != 1 {
			t.Errorf("status %d: tried %v, want one attempt", status, got)
		}
	}
}

func TestBreakerOpensProbesCloses(t *testing.T) {
	b, c := newTest(nil)
	pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 2, CoolDown: 10 * time.Second}}
	down := true
	outcome := func(n string) Outcome {
		if n == "a" && down {
			return Outcome{Class: Transient}
		}
		return Outcome{Class: Success, Status: 200}
	}
	for range 2 {
		if got := serve(b, pol, cands("a", "b"), outcome); !equal(got, []string{"a", "b"}) {
			t.Fatalf("before the breaker opens: tried %v", got)
		}
	}
	if h := b.Health("a", pol); h.Breaker != "open" || h.Available {
		t.Fatalf("after two failures: %+v, want open", h)
	}
	if got := serve(b, pol, cands("a", "b"), outcome); !equal(got, []string{"b"}) {
		t.Fatalf("while open: tried %v, want b only", got)
	}
	c.advance(10 * time.Second)
	// The probe fails: open again.
	if got := serve(b, pol, cands("a", "b"), outcome); !equal(got, []string{"a", "b"}) {
		t.Fatalf("probe: tried %v", got)
	}
	if h := b.Health("a", pol); h.Breaker != "open" {
		t.Fatalf("after a failed probe: %+v, want open", h)
	}
	c.advance(10 * time.Second)
	down = false
	if got := serve(b, pol, cands("a", "b"), outcome); !equal(got, []string{"a"}) {
		t.Fatalf("probe: tried %v", got)
	}
	if h := b.Health("a", pol); h.Breaker != "closed" || !h.Available {
		t.Fatalf("after a good probe: %+v, want closed", h)
	}
}

func TestOneProbeAtATime(t *testing.T) {
	b, c := newTest(nil)
	pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 1}}
	serve(b, pol, cands("a", "b"), failing("a"))
	c.advance(DefaultCoolDown)
	r1 := b.Begin(context.Background(), "r", "m", pol, nil, cands("a", "b"))
	p1, _ := r1.Next()
	r2 := b.Begin(context.Background(), "r", "m", pol, nil, cands("a", "b"))
	p2, _ := r2.Next()
	if r1.cands[p1.Index].Name != "a" || r2.cands[p2.Index].Name != "b" {
		t.Errorf("first request probes %s, second goes to %s; want a then b", r1.cands[p1.Index].Name, r2.cands[p2.Index].Name)
	}
}

func TestErrorRateOpensBreaker(t *testing.T) {
	b, _ := newTest(nil)
	pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 100, ErrorRate: 0.5, MinRequests: 4}}
	cs := cands("a")
	for i, o := range []Class{Success, Transient, Success, Transient} {
		r := b.Begin(context.Background(), "r", "m", pol, nil, cs)
		p, _ := r.Next()
		r.Done(p, Outcome{Class: o})
		if open := b.Health("a", pol).Breaker == "open"; open != (i == 3) {
			t.Fatalf("after %d outcomes: open %v", i+1, open)
		}
	}
}

func TestRetryAfterCoolsDown(t *testing.T) {
	b, c := newTest(nil)
	outcome := func(n string) Outcome {
		if n == "a" {
			return Outcome{Class: Transient, Status: 429, CoolDown: 30 * time.Second}
		}
		return Outcome{Class: Success}
	}
	if got := serve(b, nil, cands("a", "b"), outcome); !equal(got, []string{"a", "b"}) {
		t.Fatalf("tried %v", got)
	}
	if got := serve(b, nil, cands("a", "b"), failing()); !equal(got, []string{"b"}) {
		t.Fatalf("cooling down: tried %v, want b", got)
	}
	if h := b.Health("a", nil); h.Breaker != "closed" {
		t.Errorf("a 429 opened the breaker: %+v", h)
	}
	c.advance(30 * time.Second)
	if got := serve(b, nil, cands("a", "b"), failing()); !equal(got, []string{"a"}) {
		t.Fatalf("after the cooldown: tried %v, want a", got)
	}
}

func TestEveryBackendRestingStillServes(t *testing.T) {
	b, _ := newTest(nil)
	pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 1}}
	serve(b, pol, cands("a", "b"), failing("a", "b"))
	got := serve(b, pol, cands("a", "b"), failing())
	if len(got) != 1 {
		t.Errorf("tried %v, want one attempt despite open breakers", got)
	}
}

func TestRetryBudgetCapsRetries(t *testing.T) {
	b, c := newTest(nil)
	pol := &route.BackendPolicy{RetryBudget: 0.2, MinRetries: 2, Breaker: route.BreakerPolicy{ConsecutiveFailures: 1 << 30, MinRequests: 1 << 30}}
	attempts := 0
	const requests = 100
	for range requests {
		attempts += len(serve(b, pol, cands("a", "b", "c"), failing("a", "b", "c")))
		c.advance(10 * time.Millisecond)
	}
	// Without the budget: 300 attempts.
	if attempts > requests*12/10+2 {
		t.Errorf("%d attempts for %d requests; the budget allows at most %d", attempts, requests, requests*12/10+2)
	}
	if attempts <= requests {
		t.Errorf("%d attempts: no retry at all", attempts)
	}
}

func TestSameBackendRetriedWhenAlone(t *testing.T) {
	b, _ := newTest(nil)
	r := b.Begin(context.Background(), "r", "m", nil, nil, cands("a"))
	p, _ := r.Next()
	r.Done(p, Outcome{Class: Transient, Status: 429, CoolDown: 500 * time.Millisecond})
	p2, ok := r.Next()
	if !ok || p2.Index != 0 || p2.Wait != 500*time.Millisecond {
		t.Fatalf("got %+v %v, want the same backend after 500ms", p2, ok)
	}
	r.Done(p2, Outcome{Class: Transient, Status: 429, CoolDown: time.Minute})
	if _, ok := r.Next(); ok {
		t.Error("retried a backend that asked for a minute")
	}
}

func TestHTTPRouteRetry(t *testing.T) {
	b, _ := newTest(nil)
	retry := &route.Retry{Attempts: 1, Codes: []int{503}}
	run := func(status int) int {
		r := b.Begin(context.Background(), "r", "m", nil, retry, cands("a", "b", "c"))
		n := 0
		for {
			p, ok := r.Next()
			if !ok {
				return n
			}
			n++
			r.Done(p, Outcome{Class: Classify(status, nil), Status: status})
		}
	}
	if n := run(503); n != 2 {
		t.Errorf("503: %d attempts, want 2 (one retry)", n)
	}
	if n := run(500); n != 1 {
		t.Errorf("500: %d attempts, want 1 (not in codes)", n)
	}
}

func TestStrategies(t *testing.T) {
	tests := []struct {
		strategy string
		setup    func(b *Balancer, cs []Candidate)
		want     string
	}{
		{route.StrategyLeastLatency, func(b *Balancer, cs []Candidate) {
			b.state("a").observe("m", 300*time.Millisecond)
			b.state("b").observe("m", 100*time.Millisecond)
			b.state("c").observe("m", 200*time.Millisecond)
		}, "b"},
		{route.StrategyLeastInFlight, func(b *Balancer, cs []Candidate) {
			b.state("a").inflight.Add(2)
			b.state("b").inflight.Add(1)
			b.state("c").inflight.Add(3)
		}, "b"},
		{route.StrategyLeastCost, func(b *Balancer, cs []Candidate) {
			cs[0].Cost, cs[1].Cost, cs[2].Cost = 5, 3, 0.5
		}, "c"},
		{route.StrategyWeighted, func(b *Balancer, cs []Candidate) {
			cs[0].Weight = 0
		}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			b, _ := newTest(nil)
			cs := cands("a", "b", "c")
			tt.setup(b, cs)
			got := serve(b, &route.BackendPolicy{Strategy: tt.strategy}, cs, failing())
			if got[0] != tt.want {
				t.Errorf("picked %s, want %s", got[0], tt.want)
			}
		})
	}
}

func TestLatencyDecays(t *testing.T) {
	b, _ := newTest(nil)
	b.state("a").observe("m", time.Second)
	for range 20 {
		b.state("a").observe("m", 100*time.Millisecond)
	}
	if l := b.Latency("a", "m"); l < 100*time.Millisecond || l > 110*time.Millisecond {
		t.Errorf("latency %v, want close to 100ms after many fast answers", l)
	}
	if l := b.Latency("a", "other"); l != 0 {
		t.Errorf("another model's latency %v, want 0", l)
	}
}

func TestFallbacks(t *testing.T) {
	cs := cands("a", "b", "big")
	cs[1].Fallback, cs[1].Model = true, "other-model"
	cs[2].Fallback, cs[2].ContextOnly = true, true
	tests := []struct {
		name    string
		outcome func(string) Outcome
		want    []string
	}{
		{"own first", failing(), []string{"a"}},
		{"fallback after own", failing("a"), []string{"a", "b"}},
		{"context length goes to the larger context", func(n string) Outcome {
			if n == "big" {
				return Outcome{Class: Success}
			}
			return Outcome{Class: ContextLength, Status: 400}
		}, []string{"a", "big"}},
		{"content policy does not fall back", func(string) Outcome {
			return Outcome{Class: ContentPolicy, Status: 400}
		}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTest(nil)
			if got := serve(b, nil, cs, tt.outcome); !equal(got, tt.want) {
				t.Errorf("tried %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   Class
	}{
		{0, "", Transient},
		{200, "", Success},
		{408, "", Transient},
		{409, "", Transient},
		{429, `{"__type":"ThrottlingException"}`, Transient},
		{500, "", Transient},
		{502, "", Transient},
		{503, `{"error":{"status":"UNAVAILABLE"}}`, Transient},
		{504, "", Transient},
		{529, `{"type":"error","error":{"type":"overloaded_error"}}`, Transient},
		{400, `{"error":{"code":"context_length_exceeded"}}`, ContextLength},
		{400, `{"type":"error","error":{"message":"prompt is too long: 250000 tokens > 200000 maximum"}}`, ContextLength},
		{400, `{"error":{"code":"content_policy_violation"}}`, ContentPolicy},
		{400, `{"error":{"message":"bad"}}`, ClientError},
		{401, "", ClientError},
		{404, "", ClientError},
	}
	for _, tt := range tests {
		if got := Classify(tt.status, []byte(tt.body)); got != tt.want {
			t.Errorf("Classify(%d, %s) = %d, want %d", tt.status, tt.body, got, tt.want)
		}
	}
}

func TestCoolDownFrom(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"date", http.Header{"Retry-After": {now.Add(20 * time.Second).Format(http.TimeFormat)}}, 20 * time.Second},
		{"ms", http.Header{"Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"openai reset", http.Header{"X-Ratelimit-Reset-Requests": {"6m0s"}, "X-Ratelimit-Reset-Tokens": {"20ms"}}, 5 * time.Minute},
		{"anthropic reset", http.Header{"Anthropic-Ratelimit-Requests-Reset": {now.Add(3 * time.Second).Format(time.RFC3339)}}, 3 * time.Second},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"capped", http.Header{"Retry-After": {"86400"}}, MaxCoolDown},
	}
	for _, tt := range tests {
		if got := CoolDownFrom(tt.h, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStateSurvivesNewCandidates(t *testing.T) {
	// A new route table builds new candidates: the state, keyed by name,
	// stays.
	b, _ := newTest(nil)
	b.state("a").observe("m", time.Second)
	cs := cands("x", "a")
	if got := b.Latency(cs[1].Name, "m"); got != time.Second {
		t.Errorf("latency %v after a new table, want 1s", got)
	}
}

func TestTierComesBack(t *testing.T) {
	b, c := newTest(nil)
	pol := &route.BackendPolicy{Strategy: route.StrategyPriority, Breaker: route.BreakerPolicy{ConsecutiveFailures: 1, CoolDown: time.Second}}
	cs := cands("primary", "backup")
	cs[1].Tier = 1
	down := true
	outcome := func(n string) Outcome {
		if n == "primary" && down {
			return Outcome{Class: Transient, Status: 503}
		}
		return Outcome{Class: Success}
	}
	steps := []struct {
		advance time.Duration
		down    bool
		want    []string
	}{
		{0, true, []string{"primary", "backup"}},
		{0, true, []string{"backup"}},
		{time.Second, false, []string{"primary"}}, // the probe closes it
		{0, false, []string{"primary"}},
	}
	for i, s := range steps {
		c.advance(s.advance)
		down = s.down
		if got := serve(b, pol, cs, outcome); !equal(got, s.want) {
			t.Errorf("step %d: tried %v, want %v", i, got, s.want)
		}
	}
}

func TestCandidates(t *testing.T) {
	tab := &route.Table{
		Backends: []route.Backend{{Name: "ns/a"}, {Name: "ns/p1", MaxConcurrency: 4}, {Name: "ns/p2"}, {Name: "ns/fb"}},
		Pools:    []route.Pool{{Name: "ns/pool", Members: []int{1, 2}}},
	}
	rule := &route.Rule{
		Backends: []route.BackendRef{{Backend: 0, Weight: 3}, {Backend: -1, Pool: 1, Weight: 1}, {Backend: -1, Weight: 2}},
		Balance: &route.BackendPolicy{Tiers: map[string]int{"ns/a": 1},
			Fallbacks: []route.Fallback{{Backend: 3, Model: "other"}}},
	}
	got := Candidates(tab, rule, nil)
	want := []Candidate{
		{Backend: 0, Name: "ns/a", Weight: 3, Group: 0, Tier: 1},
		{Backend: 1, Name: "ns/p1", Weight: 1, Group: 1, Pool: 1, MaxConc: 4},
		{Backend: 2, Name: "ns/p2", Weight: 1, Group: 1, Pool: 1},
		{Backend: -1, Weight: 2, Group: 2},
		{Backend: 3, Name: "ns/fb", Weight: 1, Group: 3, Fallback: true, Model: "other"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("candidate %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestHedge(t *testing.T) {
	b, _ := newTest(nil)
	r := b.Begin(context.Background(), "r", "m", &route.BackendPolicy{MaxAttempts: 2}, nil, cands("a", "b", "c"))
	p1, _ := r.Next()
	p2, ok := r.Hedge()
	if !ok || p2.Index == p1.Index {
		t.Fatalf("hedge %+v %v beside %+v, want another backend", p2, ok, p1)
	}
	if _, ok := r.Hedge(); ok {
		t.Error("a hedge past the attempt limit")
	}
	if b.InFlight("a")+b.InFlight("b") != 2 {
		t.Errorf("in flight %d + %d, want both counted", b.InFlight("a"), b.InFlight("b"))
	}
}

func TestHedgeDelay(t *testing.T) {
	b, _ := newTest(nil)
	h := &route.HedgePolicy{Delay: 300 * time.Millisecond, Percentile: 0.9}
	if d := b.HedgeDelay(h, "a"); d != 300*time.Millisecond {
		t.Errorf("with no samples: %v, want the fixed delay", d)
	}
	for i := 1; i <= 10; i++ {
		b.state("a").observe("m", time.Duration(i)*10*time.Millisecond)
	}
	if d := b.HedgeDelay(h, "a"); d != 90*time.Millisecond {
		t.Errorf("p90 of 10..100ms: %v, want 90ms", d)
	}
	if d := b.HedgeDelay(nil, "a"); d != 0 {
		t.Errorf("no hedge policy: %v", d)
	}
}
