package route

import "time"

// Strategies a BackendPolicy chooses among.
const (
	StrategyWeighted      = "Weighted"
	StrategyPriority      = "Priority"
	StrategyLeastLatency  = "LeastLatency"
	StrategyLeastInFlight = "LeastInFlight"
	StrategyLeastCost     = "LeastCost"
)

// BackendPolicy is a compiled BackendPolicy: how a rule's or a pool's
// backends are chosen, retried, timed out, judged healthy and hedged. It is
// configuration only; the live state it governs is package balance's.
// Zero fields mean balance's defaults.
type BackendPolicy struct {
	Name     string `json:"name"` // namespace/name of the BackendPolicy
	Strategy string `json:"strategy,omitempty"`
	// Tiers gives backends (by Backend.Name) a priority tier; lower
	// tiers serve first, absent backends are tier 0.
	Tiers map[string]int `json:"tiers,omitempty"`
	// Fallbacks are tried after every backend of the rule: backends that
	// may serve another model than the one asked (Model, when set).
	Fallbacks []Fallback `json:"fallbacks,omitempty"`

	MaxAttempts int     `json:"maxAttempts,omitempty"`
	RetryBudget float64 `json:"retryBudget,omitempty"` // retries as a fraction of recent requests
	// MinRetries are allowed per budget window whatever the fraction, so
	// a quiet route can still retry.
	MinRetries int `json:"minRetries,omitempty"`
	// RetryContentPolicy lets a content-policy refusal fall back.
	RetryContentPolicy bool `json:"retryContentPolicy,omitempty"`

	Breaker  BreakerPolicy `json:"breaker,omitzero"`
	Timeouts Timeouts      `json:"timeouts,omitzero"`
	Hedge    *HedgePolicy  `json:"hedge,omitempty"`
}

// Fallback is a backend tried after the rule's own, possibly for another
// model; ContextOnly fallbacks serve only requests too long for the others.
type Fallback struct {
	Backend     int    `json:"backend"`
	Model       string `json:"model,omitempty"`
	ContextOnly bool   `json:"contextOnly,omitempty"`
}

// BreakerPolicy opens a backend's circuit after consecutive failures or an
// error rate over a window, and probes it again after CoolDown.
type BreakerPolicy struct {
	ConsecutiveFailures int           `json:"consecutiveFailures,omitempty"`
	ErrorRate           float64       `json:"errorRate,omitempty"`
	MinRequests         int           `json:"minRequests,omitempty"`
	Window              time.Duration `json:"window,omitempty"`
	CoolDown            time.Duration `json:"coolDown,omitempty"`
}

// Timeouts bound one attempt: reaching the backend, its first byte, the
// silence between stream events, and the whole attempt.
type Timeouts struct {
	Connect   time.Duration `json:"connect,omitempty"`
	FirstByte time.Duration `json:"firstByte,omitempty"`
	Idle      time.Duration `json:"idle,omitempty"`
	Total     time.Duration `json:"total,omitempty"`
}

// HedgePolicy sends a request that has no first byte after Delay (or after
// the backend's Percentile of recent time to first byte, when set) to the
// next eligible backend too.
type HedgePolicy struct {
	Delay      time.Duration `json:"delay,omitempty"`
	Percentile float64       `json:"percentile,omitempty"`
	MaxHedges  int           `json:"maxHedges,omitempty"`
	// ExcludePaths are API paths whose requests have side effects: never
	// hedged.
	ExcludePaths []string `json:"excludePaths,omitempty"`
}
