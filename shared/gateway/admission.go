package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
)

// Limiter admits requests against limits and budgets and settles what
// they cost (ledger.Limiter).
type Limiter interface {
	Admit(ctx context.Context, req ledger.Request) (*ledger.Ticket, error)
}

// admit runs admission for a routed model request: the key's limits and
// the route's TokenLimitPolicy. The ticket it keeps on ex is settled by
// settle, whatever happens next.
func (ex *exchange) admit(rule *route.Rule, ep api.Endpoint, body []byte) error {
	if ex.g.limiter == nil {
		return nil
	}
	id := ex.id
	if f := ex.g.cfg.SettleID; f != nil {
		if v := f(ex.r); v != "" {
			id = v
		}
	}
	t, err := ex.g.limiter.Admit(ex.r.Context(), ledger.Request{
		ID: id, Key: ex.key, Model: ex.model, Body: body, Policy: rule.Limits, NoOutput: ep == api.EndpointEmbeddings, Route: rule.Route,
	})
	var ref *ledger.Refusal
	var big *ledger.TooLarge
	switch {
	case errors.As(err, &big):
		// Never admitted, whatever the wait: a client error, not a 429
		// that clients and SDKs would retry.
		return &api.Error{Kind: api.ErrBadRequest, Code: "request_too_large", Message: big.Message}
	case errors.As(err, &ref):
		ref.SetHeaders(ex.w.Header())
		return &api.Error{Kind: api.ErrRateLimited, Message: ref.Message}
	case errors.Is(err, ledger.ErrUnavailable):
		ex.w.Header().Set("Retry-After", "1")
		return api.Errorf(api.ErrUnavailable, "limits cannot be checked right now; try again shortly")
	case err != nil:
		return err
	}
	ex.ticket = t
	t.SetHeaders(ex.w.Header())
	return nil
}

// settle records what the exchange cost: the provider's usage figures, an
// estimate when a stream was cut before they came, nothing when it failed
// before any byte reached the client. In Lambda it runs before the handler
// returns, so the sandbox is not frozen with the debit unwritten; with
// Config.SettleInBackground it runs after, unless it is only an in-memory
// add to the usage batch (a key without limits), done at once. err is how
// the exchange ended.
func (ex *exchange) settle(err error) {
	t := ex.ticket
	if t == nil {
		return
	}
	o := ledger.Outcome{Started: ex.wroteHeader && ex.status < 300, Streamed: &ex.streamed, ErrorKind: errorKind(err, ex.r)}
	if ex.tr != nil {
		o.Usage = ex.hedgeUsage(ex.tr.Usage())
	}
	if ex.cacheResult == cacheHit {
		o.Usage, o.Saved = api.Usage{Reported: true}, ex.cache.saved // no provider tokens
	}
	ctx := context.WithoutCancel(ex.r.Context())
	if !ex.g.cfg.SettleInBackground || t.SettlesInMemory() {
		t.Settle(ctx, o) // failures are logged by the ledger
		return
	}
	ex.g.pending.Add(1)
	go func() {
		defer ex.g.pending.Done()
		t.Settle(ctx, o)
	}()
}

// Wait blocks until settles running in the background are done: call it
// on shutdown.
func (g *Gateway) Wait() { g.pending.Wait() }

var _ http.Handler = (*Gateway)(nil)
