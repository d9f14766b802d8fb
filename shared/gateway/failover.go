package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

// try is one attempt on one backend: what it asked, and what the upstream
// said before any byte reached the client, for the balancer to judge.
type try struct {
	b     *route.Backend
	model string // the model asked of the backend: the client's, or a fallback's
	tm    route.Timeouts

	status     int         // the upstream's status; zero when it never answered
	header     http.Header // the upstream's headers on a refusal
	errBody    []byte      // the start of the upstream's error body
	retryAfter string      // when to retry, as the backend said it
	firstByte  time.Duration
	// cause says why the attempt's context ended, when the gateway ended it.
	cause atomic.Pointer[error]
	watch *watchdog // nil when the attempt has no bound

	// Room for the watchdog and the stream reader it guards, so that a
	// bounded attempt costs no allocations of its own for them.
	wd watchdog
	ir idleReader
}

// Errors that end an attempt the gateway timed out.
var (
	errConnectTimeout   = errors.New("connect timeout")
	errFirstByteTimeout = errors.New("first byte timeout")
	errIdleTimeout      = errors.New("idle timeout")
	errTotalTimeout     = errors.New("total timeout")
)

// Balancer is the gateway's backend chooser, for tests and operators that
// read its live state.
func (g *Gateway) Balancer() *balance.Balancer { return g.bal }

// tryBackends sends the request to the rule's backends as the balancer
// chooses them until one answers, the balancer has nothing more to offer,
// or a byte has reached the client.
func (ex *exchange) tryBackends(table *route.Table, rule *route.Rule, ep api.Endpoint, body []byte) error {
	var cost func(*route.Backend) float64
	if rule.Balance != nil && rule.Balance.Strategy == route.StrategyLeastCost {
		cost = ex.costOf(rule)
	}
	req := &ex.balance
	ex.g.bal.StartRule(ex.r.Context(), req, table, rule, ex.model, cost)
	cands := req.Candidates()
	var lastErr error
	var last *try
	for {
		pick, ok := req.Next()
		if !ok {
			break
		}
		c := &cands[pick.Index]
		if c.Backend < 0 {
			req.Done(pick, balance.Outcome{Class: balance.ClientError})
			break // an unresolved ref's share is answered with a 500
		}
		if c.Pool > 0 && req.Attempts() == 1 {
			pool := c.Pool - 1
			if !ex.g.bal.Admit(table, pool, table.Priority(pool, ex.r.Header.Get(route.ObjectiveHeader)), 1) {
				req.Done(pick, balance.Outcome{Abandoned: true})
				ex.w.Header().Set("Retry-After", "1")
				return &api.Error{Kind: api.ErrRateLimited, Code: "pool_saturated",
					Message: "the inference pool " + table.Pools[pool].Name + " is saturated; lower-priority requests are shed first"}
			}
		}
		if pick.Wait > 0 && !sleep(ex.r.Context(), pick.Wait) {
			req.Done(pick, balance.Outcome{Abandoned: true})
			break
		}
		if req.Attempts() == 1 && ex.hedgeable(rule, ep) {
			at, over, err := ex.race(req, pick, table, rule, ep, body)
			if over {
				return err
			}
			if err != nil {
				lastErr, last = err, at
			}
			continue
		}
		b := &table.Backends[c.Backend]
		at := &ex.firstTry // the usual single attempt lives in the exchange
		if req.Attempts() > 1 {
			at = new(try)
		}
		at.b, at.model, at.tm = b, ex.model, timeoutsOf(rule, b, table, c)
		attemptBody := body
		if c.Model != "" && c.Model != ex.model {
			// A fallback for another model: the request is sent as if the
			// client had asked for that model.
			nb, err := api.SetModel(body, c.Model)
			if err != nil {
				req.Done(pick, balance.Outcome{Abandoned: true})
				return err
			}
			at.model, attemptBody = c.Model, nb
			ex.fallbacks++
		}
		ex.backend = b.Name
		ex.attempts++
		err := ex.attempt(at, ep, attemptBody, rule)
		o := ex.outcome(at, err)
		req.Done(pick, o)
		if err == nil {
			if at.model != ex.model {
				ex.servedModel = at.model
			}
			return nil
		}
		if ex.wroteHeader || ex.r.Context().Err() != nil {
			return err
		}
		lastErr, last = err, at
	}
	if lastErr == nil {
		return api.Errorf(api.ErrNoBackend, "the route %s has no valid backend for this request", rule.Route)
	}
	// Only the answer the client gets carries the backend's advice on
	// when to retry; a failed attempt's never leaks onto a later success.
	if last != nil && last.retryAfter != "" && (last.status == http.StatusTooManyRequests || last.status == http.StatusServiceUnavailable || last.status == 529) {
		ex.w.Header().Set("Retry-After", last.retryAfter)
	}
	return lastErr
}

// outcome judges an attempt for the balancer.
func (ex *exchange) outcome(at *try, err error) balance.Outcome {
	o := balance.Outcome{Status: at.status, FirstByte: at.firstByte}
	switch {
	case err == nil:
		o.Class = balance.Success
	case ex.r.Context().Err() != nil:
		o.Abandoned = true
	case ex.wroteHeader:
		// Past the first byte: the request is lost to this backend, which
		// is marked failed so the next requests go elsewhere.
		o.Class, o.Status = balance.Transient, 0
	case at.status >= 300:
		o.Class = balance.Classify(at.status, at.errBody)
		o.CoolDown = balance.CoolDownFrom(at.header, ex.g.now())
		if o.CoolDown == 0 && at.retryAfter != "" {
			o.CoolDown = balance.RetryAfter(at.retryAfter, ex.g.now())
		}
	case retryable(err):
		o.Class, o.Status = balance.Transient, 0 // unreachable, timed out, or a cut or malformed answer
	default:
		o.Class = balance.ClientError
	}
	return o
}

// timeoutsOf is an attempt's timeouts: the backend's own policy, then the
// pool's, then the rule's, field by field; the rule's backendRequest
// timeout bounds the total too.
func timeoutsOf(rule *route.Rule, b *route.Backend, t *route.Table, c *balance.Candidate) route.Timeouts {
	var out route.Timeouts
	layer := func(p *route.BackendPolicy) {
		if p == nil {
			return
		}
		tm := &p.Timeouts
		out.Connect = cmp(out.Connect, tm.Connect)
		out.FirstByte = cmp(out.FirstByte, tm.FirstByte)
		out.Idle = cmp(out.Idle, tm.Idle)
		out.Total = cmp(out.Total, tm.Total)
	}
	layer(b.Balance)
	if c.Pool > 0 {
		layer(t.Pools[c.Pool-1].Balance)
	}
	layer(rule.Balance)
	if rule.BackendTimeout > 0 && (out.Total == 0 || rule.BackendTimeout < out.Total) {
		out.Total = rule.BackendTimeout
	}
	return out
}

func cmp(set, v time.Duration) time.Duration {
	if set != 0 {
		return set
	}
	return v
}

// attemptContext bounds one attempt with one timer (a watchdog): its
// total time, the time to connect and to the upstream's headers, and for
// streams the silence between events. Without any bound it adds nothing.
// The watchdog is nil then, and its methods do nothing.
// A hedged attempt (cancellable) always gets one, to be cancelled by.
func (ex *exchange) attemptContext(at *try, cancellable bool) (context.Context, *watchdog) {
	fb := at.tm.FirstByte
	if fb == 0 && ex.stream {
		fb = balance.DefaultStreamFirstByte
	}
	if fb == 0 && at.tm.Total == 0 && at.tm.Connect == 0 && !cancellable {
		return ex.r.Context(), nil
	}
	now := time.Now()
	ctx, cancel := context.WithCancel(ex.r.Context())
	w := &at.wd
	w.at, w.cancel = at, cancel
	if at.tm.Total > 0 {
		w.total = now.Add(at.tm.Total)
	}
	if fb > 0 {
		w.firstByte = now.Add(fb)
	}
	if at.tm.Connect > 0 {
		w.connect = now.Add(at.tm.Connect)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { w.connected.Store(true) }})
	}
	at.watch = w
	w.mu.Lock()
	w.timer = time.AfterFunc(w.next(now), w.fire)
	w.mu.Unlock()
	return ctx, w
}

// watchdog ends an attempt that outlives one of its bounds, recording why
// on the attempt. Reading a stream event costs it one atomic add.
type watchdog struct {
	at     *try
	cancel context.CancelFunc

	mu                        sync.Mutex
	timer                     *time.Timer
	phase                     int // waiting for headers, streaming, done
	total, connect, firstByte time.Time
	idle                      time.Duration
	seen                      int64

	connected atomic.Bool
	events    atomic.Int64
}

const (
	waiting = iota
	streaming
	done
)

// next is the wait until the next bound to check; mu held.
func (w *watchdog) next(now time.Time) time.Duration {
	d := time.Duration(1<<63 - 1)
	at := func(t time.Time) {
		if !t.IsZero() && t.Sub(now) < d {
			d = t.Sub(now)
		}
	}
	at(w.total)
	switch w.phase {
	case waiting:
		if !w.connected.Load() {
			at(w.connect)
		}
		at(w.firstByte)
	case streaming:
		if w.idle > 0 && w.idle < d {
			d = w.idle
		}
	}
	return max(d, 0)
}

func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == done {
		return
	}
	now := time.Now()
	var cause error
	switch {
	case !w.total.IsZero() && !now.Before(w.total):
		cause = errTotalTimeout
	case w.phase == waiting && !w.connect.IsZero() && !w.connected.Load() && !now.Before(w.connect):
		cause = errConnectTimeout
	case w.phase == waiting && !w.firstByte.IsZero() && !now.Before(w.firstByte):
		cause = errFirstByteTimeout
	case w.phase == streaming && w.idle > 0:
		if n := w.events.Load(); n == w.seen {
			cause = errIdleTimeout
		} else {
			w.seen = n
		}
	}
	if cause != nil {
		w.at.cause.CompareAndSwap(nil, &cause)
		w.phase = done
		w.cancel()
		return
	}
	w.timer.Reset(w.next(now))
}

// gotHeaders ends the connect and first-byte bounds.
func (w *watchdog) gotHeaders() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase != waiting {
		return
	}
	w.phase = streaming
	if w.idle == 0 && w.total.IsZero() {
		w.timer.Stop()
		return
	}
	w.timer.Reset(w.next(time.Now()))
}

// watchIdle starts the idle bound of a stream's events.
func (w *watchdog) watchIdle(idle time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.phase == done {
		return
	}
	w.idle = idle
	w.seen = w.events.Load()
	w.timer.Reset(w.next(time.Now()))
}

func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.phase = done
	w.timer.Stop()
	w.mu.Unlock()
	w.cancel()
}

// sendError is the client-safe error for a send that failed.
func (ex *exchange) sendError(at *try, ctx context.Context) error {
	b := at.b
	if c := at.cause.Load(); c != nil {
		switch *c {
		case errConnectTimeout:
			return &api.Error{Kind: api.ErrTimeout, Code: "upstream_connect_timeout",
				Message: "backend " + b.Name + " could not be reached within " + at.tm.Connect.String()}
		case errFirstByteTimeout:
			return &api.Error{Kind: api.ErrTimeout, Code: "upstream_first_byte_timeout",
				Message: "backend " + b.Name + " sent nothing within its first-byte timeout"}
		case errTotalTimeout:
			return api.Errorf(api.ErrTimeout, "backend %s did not answer within the route's timeout", b.Name)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return api.Errorf(api.ErrTimeout, "backend %s did not answer within the route's timeout", b.Name)
	}
	if ctxErr := ex.r.Context().Err(); ctxErr != nil {
		return &clientGone{ctxErr}
	}
	return &api.Error{Kind: errTransport, Status: http.StatusBadGateway, Code: "upstream_unreachable",
		Message: "backend " + b.Name + " could not be reached"}
}

type clientGone struct{ err error }

func (e *clientGone) Error() string { return "client went away: " + e.err.Error() }
func (e *clientGone) Unwrap() error { return e.err }

// idleReader ends a stream whose upstream stays silent longer than its
// idle bound, and then says so in the error the client's stream ends with.
type idleReader struct {
	provider.EventReader
	w *watchdog
}

// watchIdle bounds the silence between a stream's events: the attempt's
// idle timeout, else balance.DefaultIdle.
func (ex *exchange) watchIdle(rd provider.EventReader, at *try) provider.EventReader {
	if at.watch == nil {
		return rd
	}
	idle := at.tm.Idle
	if idle == 0 {
		idle = balance.DefaultIdle
	}
	at.watch.watchIdle(idle)
	at.ir = idleReader{EventReader: rd, w: at.watch}
	return &at.ir
}

func (r *idleReader) Next() (ev sse.Event, err error) {
	ev, err = r.EventReader.Next()
	r.w.events.Add(1)
	if err != nil && err != io.EOF {
		if c := r.w.at.cause.Load(); c != nil && *c == errIdleTimeout {
			return ev, &api.Error{Kind: api.ErrTimeout, Code: "upstream_idle_timeout",
				Message: "backend " + r.w.at.b.Name + " sent nothing for " + r.w.idle.String() + " mid-stream"}
		}
	}
	return ev, err
}

// Ready passes on whether the next event is already buffered.
func (r *idleReader) Ready() bool {
	b, ok := r.EventReader.(provider.Buffered)
	return ok && b.Ready()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// costOf prices a backend for LeastCost: input plus output list price of
// the model it would serve, per million tokens.
func (ex *exchange) costOf(rule *route.Rule) func(*route.Backend) float64 {
	return func(b *route.Backend) float64 {
		m := b.UpstreamModel(ex.model)
		pr, ok := ex.g.prices[m]
		if rule.Limits != nil {
			if p, found := rule.Limits.Prices[m]; found {
				pr, ok = p, true
			}
		}
		if !ok {
			return 1e18 // unknown price: last
		}
		return pr.Input + pr.Output
	}
}
