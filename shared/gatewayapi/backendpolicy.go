package gatewayapi

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/route"
)

// BackendPolicy (sluice.dev/v1alpha1) says how the backends of the
// HTTPRoutes, InferencePools or AIBackends it targets are chosen, retried,
// timed out, judged healthy and hedged. Between two policies on one target
// the older wins, as the Gateway API's conflict rules say.
type BackendPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              BackendPolicySpec `json:"spec"`
	Status            PolicyStatus      `json:"status,omitempty"`
}

// BackendPolicySpec is the desired state of a BackendPolicy.
type BackendPolicySpec struct {
	// TargetRefs are HTTPRoutes, InferencePools or AIBackends in the
	// policy's namespace.
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// Strategy: Weighted (default), Priority, LeastLatency,
	// LeastInFlight or LeastCost.
	Strategy string `json:"strategy,omitempty"`
	// Tiers puts AIBackends (by name) in priority tiers; 0, the default,
	// is the first.
	Tiers map[string]int `json:"tiers,omitempty"`
	// Fallbacks are AIBackends tried after the route's own, possibly for
	// another model.
	Fallbacks []BackendFallback `json:"fallbacks,omitempty"`
	Retry     *BackendRetry     `json:"retry,omitempty"`
	Breaker   *BackendBreaker   `json:"breaker,omitempty"`
	Timeouts  *BackendTimeouts  `json:"timeouts,omitempty"`
	Hedge     *BackendHedge     `json:"hedge,omitempty"`
}

// BackendFallback names a fallback AIBackend and the model asked of it.
type BackendFallback struct {
	Backend string `json:"backend"`
	Model   string `json:"model,omitempty"`
	// ContextOnly: only for requests too long for the other backends.
	ContextOnly bool `json:"contextOnly,omitempty"`
}

// BackendRetry bounds retries before the first byte reaches the client.
type BackendRetry struct {
	MaxAttempts int `json:"maxAttempts,omitempty"`
	// BudgetPercent caps retries at this share of the route's recent
	// requests; MinRetries are allowed whatever the share.
	BudgetPercent *int `json:"budgetPercent,omitempty"`
	MinRetries    int  `json:"minRetries,omitempty"`
	// ContentPolicy lets a content-policy refusal fall back.
	ContentPolicy bool `json:"contentPolicy,omitempty"`
}

// BackendBreaker configures each backend's circuit breaker.
type BackendBreaker struct {
	ConsecutiveFailures int            `json:"consecutiveFailures,omitempty"`
	ErrorRatePercent    int            `json:"errorRatePercent,omitempty"`
	MinRequests         int            `json:"minRequests,omitempty"`
	Window              *gwv1.Duration `json:"window,omitempty"`
	CoolDown            *gwv1.Duration `json:"coolDown,omitempty"`
}

// BackendTimeouts bound each attempt.
type BackendTimeouts struct {
	Connect   *gwv1.Duration `json:"connect,omitempty"`
	FirstByte *gwv1.Duration `json:"firstByte,omitempty"`
	Idle      *gwv1.Duration `json:"idle,omitempty"`
	Total     *gwv1.Duration `json:"total,omitempty"`
}

// BackendHedge turns hedging on.
type BackendHedge struct {
	Delay *gwv1.Duration `json:"delay,omitempty"`
	// Percentile, when set, hedges after that percentile of the backend's
	// recent times to first byte instead (Delay until it has samples).
	Percentile int `json:"percentile,omitempty"`
	MaxHedges  int `json:"maxHedges,omitempty"`
	// ExcludePaths are API paths whose requests have side effects and are
	// never hedged.
	ExcludePaths []string `json:"excludePaths,omitempty"`
}

var strategies = []string{route.StrategyWeighted, route.StrategyPriority, route.StrategyLeastLatency,
	route.StrategyLeastInFlight, route.StrategyLeastCost}

// backendPolicyTarget returns the index key of a target ("Kind/ns/name"),
// or "" when the ref's group and kind are not ones a BackendPolicy takes.
func backendPolicyTarget(ns string, t PolicyTargetRef) string {
	switch {
	case t.Group == GatewayGroup && t.Kind == "HTTPRoute",
		t.Group == InferenceGroup && t.Kind == "InferencePool",
		t.Group == SluiceGroup && t.Kind == "AIBackend":
		return t.Kind + "/" + ns + "/" + t.Name
	}
	return ""
}

func (a *analysis) checkBackendPolicy(o *Object, p *BackendPolicy) {
	s := &p.Spec
	if len(s.TargetRefs) == 0 {
		a.add(o, "spec.targetRefs", "", "at least one target is required")
	}
	for i, t := range s.TargetRefs {
		field := fmt.Sprintf("spec.targetRefs[%d]", i)
		switch k := backendPolicyTarget(o.Namespace, t); {
		case k == "":
			a.add(o, field+".kind", "", "must be an HTTPRoute (%s), InferencePool (%s) or AIBackend (%s), got %s %q", GatewayGroup, InferenceGroup, SluiceGroup, t.Group, t.Kind)
		case t.Name == "":
			a.add(o, field+".name", "", "required")
		case a.idx[k] == nil:
			a.add(o, field+".name", PolicyReasonTargetNotFound, "%s", a.missing(t.Kind, o.Namespace, t.Name))
		}
	}
	if s.Strategy != "" && !slices.Contains(strategies, s.Strategy) {
		a.add(o, "spec.strategy", "", "must be one of %v, got %q", strategies, s.Strategy)
	}
	for _, name := range sortedKeys(s.Tiers) {
		if s.Tiers[name] < 0 {
			a.add(o, "spec.tiers."+name, "", "must not be negative, got %d", s.Tiers[name])
		}
		if a.idx["AIBackend/"+o.Namespace+"/"+name] == nil {
			a.add(o, "spec.tiers."+name, "", "%s", a.missing("AIBackend", o.Namespace, name))
		}
	}
	for i, f := range s.Fallbacks {
		field := fmt.Sprintf("spec.fallbacks[%d].backend", i)
		switch {
		case f.Backend == "":
			a.add(o, field, "", "required")
		case a.idx["AIBackend/"+o.Namespace+"/"+f.Backend] == nil:
			a.add(o, field, "", "%s", a.missing("AIBackend", o.Namespace, f.Backend))
		}
	}
	nonNeg := func(field string, v int) {
		if v < 0 {
			a.add(o, field, "", "must not be negative, got %d", v)
		}
	}
	dur := func(field string, d *gwv1.Duration) {
		if _, err := duration(d); err != nil {
			a.add(o, field, "", "%v (use Gateway API durations such as 500ms, 10s, 1m)", err)
		}
	}
	if r := s.Retry; r != nil {
		nonNeg("spec.retry.maxAttempts", r.MaxAttempts)
		nonNeg("spec.retry.minRetries", r.MinRetries)
		if r.BudgetPercent != nil && (*r.BudgetPercent < 0 || *r.BudgetPercent > 100) {
			a.add(o, "spec.retry.budgetPercent", "", "must be between 0 and 100, got %d", *r.BudgetPercent)
		}
	}
	if b := s.Breaker; b != nil {
		nonNeg("spec.breaker.consecutiveFailures", b.ConsecutiveFailures)
		nonNeg("spec.breaker.minRequests", b.MinRequests)
		if b.ErrorRatePercent < 0 || b.ErrorRatePercent > 100 {
			a.add(o, "spec.breaker.errorRatePercent", "", "must be between 0 and 100, got %d", b.ErrorRatePercent)
		}
		dur("spec.breaker.window", b.Window)
		dur("spec.breaker.coolDown", b.CoolDown)
	}
	if t := s.Timeouts; t != nil {
		dur("spec.timeouts.connect", t.Connect)
		dur("spec.timeouts.firstByte", t.FirstByte)
		dur("spec.timeouts.idle", t.Idle)
		dur("spec.timeouts.total", t.Total)
	}
	if h := s.Hedge; h != nil {
		dur("spec.hedge.delay", h.Delay)
		if h.Percentile < 0 || h.Percentile > 100 {
			a.add(o, "spec.hedge.percentile", "", "must be between 1 and 100, got %d", h.Percentile)
		}
		if h.Delay == nil && h.Percentile == 0 {
			a.add(o, "spec.hedge", "", "set delay, percentile or both")
		}
		nonNeg("spec.hedge.maxHedges", h.MaxHedges)
	}
}

// compileBackendPolicy turns a checked BackendPolicy into the route
// table's form; fallbacks become backends of the table through add.
func compileBackendPolicy(a *analysis, o *Object, add func(*route.Backend) int) *route.BackendPolicy {
	s := &o.Value.(*BackendPolicy).Spec
	out := &route.BackendPolicy{Name: o.Ref(), Strategy: s.Strategy}
	for name, tier := range s.Tiers {
		if out.Tiers == nil {
			out.Tiers = map[string]int{}
		}
		out.Tiers[o.Namespace+"/"+name] = tier
	}
	for _, f := range s.Fallbacks {
		bo := a.idx["AIBackend/"+o.Namespace+"/"+f.Backend]
		if bo == nil {
			continue
		}
		b := aiBackend(bo)
		out.Fallbacks = append(out.Fallbacks, route.Fallback{Backend: add(&b), Model: f.Model, ContextOnly: f.ContextOnly})
	}
	if r := s.Retry; r != nil {
		out.MaxAttempts, out.MinRetries, out.RetryContentPolicy = r.MaxAttempts, r.MinRetries, r.ContentPolicy
		if r.BudgetPercent != nil {
			out.RetryBudget = float64(*r.BudgetPercent) / 100
			if out.RetryBudget == 0 {
				out.RetryBudget = -1 // no retries beyond MinRetries
			}
		}
	}
	if b := s.Breaker; b != nil {
		out.Breaker = route.BreakerPolicy{ConsecutiveFailures: b.ConsecutiveFailures, MinRequests: b.MinRequests,
			ErrorRate: float64(b.ErrorRatePercent) / 100}
		out.Breaker.Window, _ = duration(b.Window)
		out.Breaker.CoolDown, _ = duration(b.CoolDown)
	}
	if t := s.Timeouts; t != nil {
		out.Timeouts.Connect, _ = duration(t.Connect)
		out.Timeouts.FirstByte, _ = duration(t.FirstByte)
		out.Timeouts.Idle, _ = duration(t.Idle)
		out.Timeouts.Total, _ = duration(t.Total)
	}
	if h := s.Hedge; h != nil {
		out.Hedge = &route.HedgePolicy{Percentile: float64(h.Percentile) / 100, MaxHedges: h.MaxHedges,
			ExcludePaths: h.ExcludePaths}
		out.Hedge.Delay, _ = duration(h.Delay)
	}
	return out
}

// balanceCompiler returns the compiled BackendPolicy in force on a target
// ("Kind/ns/name"), nil when none is; each policy is compiled once.
func balanceCompiler(a *analysis, add func(*route.Backend) int) func(string) *route.BackendPolicy {
	byTarget := a.inForce("BackendPolicy", backendPolicyTarget)
	compiled := map[*Object]*route.BackendPolicy{}
	return func(target string) *route.BackendPolicy {
		o := byTarget[target]
		if o == nil {
			return nil
		}
		if c, ok := compiled[o]; ok {
			return c
		}
		c := compileBackendPolicy(a, o, add)
		compiled[o] = c
		return c
	}
}
