package gateway

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// hedgeable reports whether the rule's policy hedges this request: hedging
// is on, and the request's path is not one the policy marks as having side
// effects.
func (ex *exchange) hedgeable(rule *route.Rule, ep api.Endpoint) bool {
	pol := rule.Balance
	if pol == nil || pol.Hedge == nil || ep == api.EndpointCountTokens {
		return false
	}
	return !slices.Contains(pol.Hedge.ExcludePaths, ex.r.URL.Path)
}

// racer is one attempt of a hedged race, run in its own goroutine up to
// its first token: a stream's first event, or a whole answer's headers.
type racer struct {
	pick  balance.Pick
	at    *try
	up    *upstream
	ctx   context.Context
	watch *watchdog
	resp  *http.Response
	rd    provider.EventReader // the stream, its first event in first
	first sse.Event
	err   error
	// finished: its result was taken from the race (won or failed).
	finished bool
	// rec is the racer's own telemetry record: racers run at once, so
	// they cannot share the exchange's.
	rec telemetry.Attempt
}

// close ends a racer that lost or failed.
func (r *racer) close() {
	r.watch.stop()
	if r.resp != nil {
		r.resp.Body.Close()
	}
}

// race runs the request's first attempt and, while it has no first token
// after the hedge delay, hedged attempts on the next eligible backends.
// The first to produce a token wins and is relayed; the others are
// cancelled at once. over says the exchange is done (answered, or a byte
// reached the client); otherwise at and err are the last failure, for the
// failover loop to go on from.
func (ex *exchange) race(req *balance.Request, pick balance.Pick, table *route.Table, rule *route.Rule, ep api.Endpoint, body []byte) (at *try, over bool, err error) {
	cands := req.Candidates()
	results := make(chan *racer, 1+max(rule.Balance.Hedge.MaxHedges, 1))
	running := 0
	var active []*racer
	var lastErr error
	var lastTry *try
	start := func(p balance.Pick) bool {
		c := &cands[p.Index]
		if c.Backend < 0 {
			req.Done(p, balance.Outcome{Class: balance.ClientError})
			return false
		}
		b := &table.Backends[c.Backend]
		at := &try{b: b, model: ex.model, tm: timeoutsOf(rule, b, table, c)}
		attemptBody := body
		if c.Model != "" && c.Model != ex.model {
			nb, err := api.SetModel(body, c.Model)
			if err != nil {
				req.Done(p, balance.Outcome{Abandoned: true})
				lastErr, lastTry = err, at
				return false
			}
			at.model, attemptBody = c.Model, nb
			ex.fallbacks++
		}
		ex.attempts++
		up, out, err := ex.prepare(at, ep, attemptBody, rule)
		if up.tr == nil {
			req.Done(p, ex.outcome(at, err))
			lastErr, lastTry = err, at
			return false
		}
		ctx, watch := ex.attemptContext(at, true)
		rec := telemetry.Attempt{Operation: operation(ep), Route: ex.route, Backend: b.Name, Provider: b.Provider,
			Model: at.model, Start: ex.g.now()}
		if t, ok := ex.g.telemetry.(Tracer); ok {
			ctx = t.StartAttempt(ctx, rec.Start)
		}
		r := &racer{pick: p, at: at, up: &up, ctx: ctx, watch: watch, rec: rec}
		active = append(active, r)
		running++
		go ex.run(r, out, results)
		return true
	}
	if !start(pick) {
		return lastTry, false, lastErr
	}
	hedges, maxHedges := 0, max(rule.Balance.Hedge.MaxHedges, 1)
	timer := time.NewTimer(ex.g.bal.HedgeDelay(rule.Balance.Hedge, cands[pick.Index].Name))
	defer timer.Stop()
	var winner *racer
	for running > 0 && winner == nil {
		select {
		case r := <-results:
			running--
			r.finished = true
			if r.err == nil {
				winner = r
				break
			}
			req.Done(r.pick, ex.outcome(r.at, r.err))
			ex.racerEnd(r, r.err, 0)
			lastErr, lastTry = r.err, r.at
			r.close()
		case <-timer.C:
			if hedges >= maxHedges {
				break
			}
			if p, ok := req.Hedge(); ok && start(p) {
				hedges++
				ex.hedges++
				timer.Reset(ex.g.bal.HedgeDelay(rule.Balance.Hedge, cands[p.Index].Name))
			}
		case <-ex.r.Context().Done():
			lastErr = &clientGone{ex.r.Context().Err()}
		}
		if ex.r.Context().Err() != nil {
			break
		}
	}
	// The losers are cancelled at once, their goroutines drained in the
	// background. Each had sent its prompt, which its provider bills: the
	// ledger counts their input with the winner's (hedgeUsage).
	if running > 0 {
		for _, r := range active {
			if !r.finished {
				r.watch.stop() // cancels its call at once
				req.Done(r.pick, balance.Outcome{Abandoned: true})
				ex.racerEnd(r, nil, 0) // cancelled, not failed: no error kind
			}
		}
		ex.hedgeLost += running
		n := running
		go func() {
			for range n {
				r := <-results
				r.close()
			}
		}()
	}
	if winner == nil {
		return lastTry, ex.r.Context().Err() != nil, lastErr
	}
	defer winner.close()
	ex.tr, ex.backend = winner.up.tr, winner.at.b.Name
	var rd provider.EventReader
	if winner.rd != nil {
		rd = &prefixed{EventReader: winner.rd, first: &winner.first}
	}
	err = ex.relay(winner.ctx, winner.up, winner.resp, rd)
	req.Done(winner.pick, ex.outcome(winner.at, err))
	ex.racerEnd(winner, err, ex.status)
	ex.att = winner.rec // the request's record names the winner's provider
	if err == nil && winner.at.model != ex.model {
		ex.servedModel = winner.at.model
	}
	return winner.at, err == nil || ex.wroteHeader || ex.r.Context().Err() != nil, err
}

// hedgeUsage adds to the winner's usage what the cancelled hedges cost:
// the prompt each sent, counted as the winner's input. They were cancelled
// before their first token, so they produced no output.
func (ex *exchange) hedgeUsage(u api.Usage) api.Usage {
	if ex.hedgeLost > 0 && u.Reported {
		extra := int64(ex.hedgeLost)
		u.InputTokens += extra * u.InputTokens
		u.CachedTokens += extra * u.CachedTokens
	}
	return u
}

// racerEnd hands a racer's record to the telemetry, ending its span. A
// cancelled loser has neither status nor error kind: it did not fail.
func (ex *exchange) racerEnd(r *racer, err error, status int) {
	a := &r.rec
	a.Duration, a.Status = ex.g.now().Sub(a.Start), status
	if err != nil {
		a.Status, a.ErrorKind = api.Status(err), errorKind(err, ex.r)
	}
	ex.g.telemetry.Attempt(r.ctx, a)
}

// run is a racer's goroutine: the call, then a stream's first event.
func (ex *exchange) run(r *racer, out []byte, results chan<- *racer) {
	resp, err := ex.call(r.ctx, r.watch, r.up, out)
	if err == nil && ex.stream {
		if rd := eventReader(r.up.tr, resp); rd != nil {
			ev, e := rd.Next()
			if e != nil {
				resp.Body.Close()
				resp, err = nil, ex.sendError(r.at, r.ctx)
			} else {
				r.rd, r.first = rd, ev
			}
		}
	}
	r.resp, r.err = resp, err
	results <- r
}

// prefixed yields an event already read, then the rest of the stream.
type prefixed struct {
	provider.EventReader
	first *sse.Event
}

func (p *prefixed) Next() (sse.Event, error) {
	if p.first != nil {
		ev := *p.first
		p.first = nil
		return ev, nil
	}
	return p.EventReader.Next()
}

// Ready reports an event already read as ready.
func (p *prefixed) Ready() bool {
	if p.first != nil {
		return true
	}
	b, ok := p.EventReader.(provider.Buffered)
	return ok && b.Ready()
}
