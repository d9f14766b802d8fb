// Package balance chooses backends for the gateway: selection strategies,
// live backend state (requests in flight, time to first byte, circuit
// breakers, cooldowns), retry decisions and hedging delays. Configuration
// comes from route (BackendPolicy); the state lives here, keyed by backend
// name, so a new route table keeps what was learnt about its backends.
package balance

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// Defaults of a BackendPolicy's zero fields.
const (
	DefaultMaxAttempts         = 3
	DefaultRetryBudget         = 0.2
	DefaultMinRetries          = 10
	DefaultBudgetWindow        = 10 * time.Second
	DefaultConsecutiveFailures = 5
	DefaultErrorRate           = 0.5
	DefaultMinRequests         = 20
	DefaultBreakerWindow       = 10 * time.Second
	DefaultCoolDown            = 5 * time.Second
	// DefaultRateLimitCoolDown rests a backend that answered 429 without
	// saying for how long.
	DefaultRateLimitCoolDown = time.Second
	// MaxCoolDown bounds what a backend's Retry-After can ask for.
	MaxCoolDown = 5 * time.Minute
	// DefaultStreamFirstByte bounds a stream's wait for its first byte and
	// DefaultIdle the silence between its events, when no policy does.
	DefaultStreamFirstByte = 60 * time.Second
	DefaultIdle            = 60 * time.Second
	// DefaultSharedRefresh bounds how stale the shared health marks read
	// from Redis may be.
	DefaultSharedRefresh = time.Second
	// maxSameBackendWait is the longest a request waits to retry its only
	// backend.
	maxSameBackendWait = 2 * time.Second
)

// Shared carries breaker and cooldown marks between gateway instances
// (Redis in production). Marks are "unavailable until".
type Shared interface {
	Mark(ctx context.Context, backend string, until time.Time) error
	Load(ctx context.Context) (map[string]time.Time, error)
}

// Config holds a Balancer's dependencies; zero values mean the defaults.
type Config struct {
	// Now is the clock (nil: time.Now); Rand draws from [0, n) (nil:
	// math/rand/v2), safe for concurrent use.
	Now  func() time.Time
	Rand func(n int) int
	// Shared, when set, spreads health marks between instances; errors
	// from it leave the local state in charge.
	Shared Shared
	// SharedRefresh bounds the age of the marks read from Shared.
	SharedRefresh time.Duration
	Logger        *slog.Logger
}

// Balancer holds the live state of every backend and route it has seen.
// It is safe for concurrent use.
type Balancer struct {
	cfg      Config
	backends sync.Map // name → *state
	budgets  sync.Map // route → *budget

	sharedMu    sync.Mutex
	sharedNext  time.Time // when the shared marks are read again
	publishNext time.Time // when a mark may be written again after a failure
	sharedBusy  atomic.Bool
	sharedMarks atomic.Pointer[map[string]time.Time]
}

// New returns a Balancer.
func New(cfg Config) *Balancer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.IntN
	}
	if cfg.SharedRefresh <= 0 {
		cfg.SharedRefresh = DefaultSharedRefresh
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Balancer{cfg: cfg}
}

func (b *Balancer) state(name string) *state {
	if s, ok := b.backends.Load(name); ok {
		return s.(*state)
	}
	s, _ := b.backends.LoadOrStore(name, &state{})
	return s.(*state)
}

func (b *Balancer) budget(name string) *budget {
	if s, ok := b.budgets.Load(name); ok {
		return s.(*budget)
	}
	s, _ := b.budgets.LoadOrStore(name, &budget{})
	return s.(*budget)
}

// InFlight reports the requests this Balancer has in flight to backend.
func (b *Balancer) InFlight(backend string) int64 { return b.state(backend).inflight.Load() }

// Latency is the decaying average time to first byte of backend for model
// (zero before the first sample).
func (b *Balancer) Latency(backend, model string) time.Duration {
	return b.state(backend).latency(model)
}

// Health is what the Balancer knows of one backend now.
type Health struct {
	Breaker   string    // closed, open or half-open
	Until     time.Time // the end of an open breaker or a cooldown; zero when neither
	Failures  int       // consecutive failures
	Available bool      // a request may go there now
}

// Health reports backend's state.
func (b *Balancer) Health(backend string, pol *route.BackendPolicy) Health {
	now := b.cfg.Now()
	s := b.state(backend)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := Health{Breaker: s.breaker.String(), Failures: s.consecutive}
	h.Until = s.openUntil
	if s.coolUntil.After(h.Until) {
		h.Until = s.coolUntil
	}
	if m := b.sharedMark(backend); m.After(h.Until) {
		h.Until = m
	}
	h.Available = !h.Until.After(now) && s.breaker != breakerHalfOpen
	return h
}

// sharedMark is the mark another instance left on backend, if any.
func (b *Balancer) sharedMark(backend string) time.Time {
	if m := b.sharedMarks.Load(); m != nil {
		return (*m)[backend]
	}
	return time.Time{}
}

// refreshShared reads the shared marks when they are older than the
// refresh bound: one small read per bound per instance, made by whichever
// request comes first while the others use what is there. A failed read
// leaves the local state in charge, and the next try waits a while, so a
// Redis that is down costs one request a short timeout now and then.
func (b *Balancer) refreshShared(ctx context.Context) {
	if b.cfg.Shared == nil {
		return
	}
	now := b.cfg.Now()
	b.sharedMu.Lock()
	stale := !now.Before(b.sharedNext)
	if stale {
		b.sharedNext = now.Add(b.cfg.SharedRefresh)
	}
	b.sharedMu.Unlock()
	if !stale || !b.sharedBusy.CompareAndSwap(false, true) {
		return
	}
	defer b.sharedBusy.Store(false)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
	defer cancel()
	marks, err := b.cfg.Shared.Load(ctx)
	if err != nil {
		b.sharedMu.Lock()
		b.sharedNext = now.Add(sharedRetryAfterError)
		b.sharedMu.Unlock()
		b.cfg.Logger.Warn("balance: reading shared backend health failed; using local state", slog.String("error", err.Error()))
		return
	}
	b.sharedMarks.Store(&marks)
}

const (
	sharedReadTimeout     = 100 * time.Millisecond
	sharedRetryAfterError = 5 * time.Second
)

// publish spreads a mark to the other instances. It runs only when a
// breaker opens or a cooldown starts, under a short bound of its own, so a
// slow or absent Redis costs that request little and the others nothing.
func (b *Balancer) publish(backend string, until time.Time) {
	if b.cfg.Shared == nil {
		return
	}
	if m := b.sharedMarks.Load(); m != nil && !(*m)[backend].Before(until) {
		return
	}
	now := b.cfg.Now()
	b.sharedMu.Lock()
	skip := now.Before(b.publishNext)
	b.sharedMu.Unlock()
	if skip {
		return // Redis failed a moment ago: no request waits on it again yet
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedWriteTimeout)
	defer cancel()
	if err := b.cfg.Shared.Mark(ctx, backend, until); err != nil {
		b.sharedMu.Lock()
		b.publishNext = now.Add(sharedRetryAfterError)
		b.sharedMu.Unlock()
		b.cfg.Logger.Warn("balance: sharing backend health failed", slog.String("backend", backend), slog.String("error", err.Error()))
	}
}

const sharedWriteTimeout = 250 * time.Millisecond

// HedgeDelay is how long a request waits for backend's first byte before
// it is hedged: the policy's percentile of the backend's recent times to
// first byte once there are some, else its fixed delay; zero: no hedge.
func (b *Balancer) HedgeDelay(h *route.HedgePolicy, backend string) time.Duration {
	if h == nil {
		return 0
	}
	if h.Percentile > 0 {
		if d := b.state(backend).percentile(h.Percentile); d > 0 {
			return d
		}
	}
	return h.Delay
}
