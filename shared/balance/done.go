package balance

import (
	"net/http"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// Outcome is how an attempt ended.
type Outcome struct {
	Class  Class
	Status int // the upstream's status; zero when it was not reached or timed out
	// CoolDown is how long the backend asked to be left alone (Retry-After
	// and the providers' reset headers), zero when it did not say.
	CoolDown time.Duration
	// FirstByte is the time from sending to the first byte, zero when none
	// came.
	FirstByte time.Duration
	// Abandoned: the attempt was cancelled for reasons of the request's own
	// (the client left, a hedge won); it says nothing of the backend.
	Abandoned bool
}

// Done records the outcome of the attempt Next handed out as pick.
func (r *Request) Done(p Pick, o Outcome) {
	c := &r.cands[p.Index]
	r.last, r.lastStatus, r.lastWait = o.Class, o.Status, o.CoolDown
	if c.Backend < 0 {
		return
	}
	r.b.record(c.Name, r.modelOf(c), r.pol, r.probe[p.Index], o)
}

// record updates a backend's state with one attempt's outcome.
func (b *Balancer) record(name, model string, pol *route.BackendPolicy, probe bool, o Outcome) {
	now := b.cfg.Now()
	s := b.state(name)
	s.inflight.Add(-1)
	if o.Abandoned {
		if probe {
			s.release()
		}
		return
	}
	if o.FirstByte > 0 {
		s.observe(model, o.FirstByte)
	}
	if o.Class != Transient {
		s.succeed(now, &pol.Breaker)
		return
	}
	if o.Status == http.StatusTooManyRequests || o.CoolDown > 0 {
		d := o.CoolDown
		if d <= 0 {
			d = DefaultRateLimitCoolDown
		}
		if until := now.Add(d); s.coolDown(until) {
			b.publish(name, until)
		}
		if o.Status == http.StatusTooManyRequests {
			return // rate-limited is not broken
		}
	}
	if until := s.fail(now, &pol.Breaker); !until.IsZero() {
		b.publish(name, until)
	}
}
