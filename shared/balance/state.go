package balance

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen // one probe is out
)

func (s breakerState) String() string {
	switch s {
	case breakerOpen:
		return "open"
	case breakerHalfOpen:
		return "half-open"
	}
	return "closed"
}

// state is one backend's live state, shared by every route that uses it.
type state struct {
	inflight atomic.Int64

	mu          sync.Mutex
	breaker     breakerState
	openUntil   time.Time // while open: when a probe may go
	coolUntil   time.Time // rate-limited or asked to wait until then
	consecutive int
	winStart    time.Time
	winTotal    int
	winFailed   int
	ewma        map[string]float64 // model → time to first byte, in ns
	recent      [32]time.Duration  // the last times to first byte, any model
	nRecent     int
}

// available reports whether a request may go to the backend now, and
// whether it would be the half-open probe.
func (s *state) available(now, shared time.Time) (ok, probe bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.coolUntil) || now.Before(shared) {
		return false, false
	}
	switch s.breaker {
	case breakerOpen:
		return !now.Before(s.openUntil), true
	case breakerHalfOpen:
		return false, false
	}
	return true, false
}

// claim counts a request in flight and, when the backend's breaker is open
// and its cool-down over, turns it half-open for this request, its probe.
func (s *state) claim(now time.Time) (probe bool) {
	s.inflight.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.breaker != breakerOpen || now.Before(s.openUntil) {
		return false
	}
	s.breaker = breakerHalfOpen
	return true
}

// succeed records an answer: it closes a half-open breaker.
func (s *state) succeed(now time.Time, bp *route.BreakerPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consecutive = 0
	if s.breaker != breakerClosed {
		s.breaker = breakerClosed
		s.winStart, s.winTotal, s.winFailed = now, 0, 0
	}
	s.count(now, bp, false)
}

// fail records a failure and reports the time until which the breaker is
// open when this failure opened it (zero otherwise).
func (s *state) fail(now time.Time, bp *route.BreakerPolicy) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consecutive++
	s.count(now, bp, true)
	coolDown := or(bp.CoolDown, DefaultCoolDown)
	switch {
	case s.breaker == breakerHalfOpen:
	case s.breaker == breakerOpen:
		return time.Time{}
	case s.consecutive >= or(bp.ConsecutiveFailures, DefaultConsecutiveFailures):
	case s.winTotal >= or(bp.MinRequests, DefaultMinRequests) &&
		float64(s.winFailed) >= orf(bp.ErrorRate, DefaultErrorRate)*float64(s.winTotal):
	default:
		return time.Time{}
	}
	s.breaker = breakerOpen
	s.openUntil = now.Add(coolDown)
	return s.openUntil
}

// release ends a probe that had no verdict (the client left): the breaker
// is open again with its probe due at once.
func (s *state) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.breaker == breakerHalfOpen {
		s.breaker = breakerOpen
	}
}

func (s *state) count(now time.Time, bp *route.BreakerPolicy, failed bool) {
	if now.Sub(s.winStart) >= or(bp.Window, DefaultBreakerWindow) {
		s.winStart, s.winTotal, s.winFailed = now, 0, 0
	}
	s.winTotal++
	if failed {
		s.winFailed++
	}
}

// coolDown rests the backend until t, keeping a later rest already set;
// it reports whether t is new.
func (s *state) coolDown(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.After(s.coolUntil) {
		return false
	}
	s.coolUntil = t
	return true
}

// ewmaWeight is the weight of a new sample in the decaying average.
const ewmaWeight = 0.3

func (s *state) observe(model string, ttfb time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ewma == nil {
		s.ewma = map[string]float64{}
	}
	if old, ok := s.ewma[model]; ok {
		s.ewma[model] = old + ewmaWeight*(float64(ttfb)-old)
	} else {
		s.ewma[model] = float64(ttfb)
	}
	s.recent[s.nRecent%len(s.recent)] = ttfb
	s.nRecent++
}

func (s *state) latency(model string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.ewma[model])
}

// percentile is the q-th quantile (0 < q ≤ 1) of the recent times to first
// byte; zero before any.
func (s *state) percentile(q float64) time.Duration {
	s.mu.Lock()
	n := min(s.nRecent, len(s.recent))
	v := slices.Clone(s.recent[:n])
	s.mu.Unlock()
	if n == 0 {
		return 0
	}
	slices.Sort(v)
	i := int(q*float64(n)+0.999999) - 1
	return v[max(0, min(i, n-1))]
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func orf(v, def float64) float64 {
	if v <= 0 {
		return def
	}
	return v
}
