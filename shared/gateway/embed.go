package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
)

// DefaultEmbeddingBudget is how long the semantic cache's embedding call
// may take when the policy sets no budget: the most a slow embedding
// backend can add to a request before it is sent on without the cache.
const DefaultEmbeddingBudget = 150 * time.Millisecond

// embedCall is one embedding call made for the semantic cache: what it
// cost, to be settled in the ledger against the request's key once the
// request ends, so the ledger's write never waits in front of the answer.
type embedCall struct {
	ex     *exchange
	ticket *ledger.Ticket
	usage  api.Usage
	sent   bool // the backend answered: its tokens were spent
}

// embed turns text into a vector through the AIBackend named backend,
// asking it for model, as a client's /v1/embeddings request would be sent
// there: the provider's translator for embeddings and the exchange's
// upstreamRequest, so addressing, credentials and signing are the same.
// The whole call, admission included, gets budget (DefaultEmbeddingBudget
// when 0); past it the call is abandoned and an error returned, which the
// caller takes as "no semantic lookup". Settle the returned call when the
// request ends, whatever the error.
func (ex *exchange) embed(table *route.Table, backend, model, text string, budget time.Duration) ([]float32, *embedCall, error) {
	call := &embedCall{ex: ex}
	if budget <= 0 {
		budget = DefaultEmbeddingBudget
	}
	ctx, cancel := context.WithTimeout(ex.r.Context(), budget)
	defer cancel()
	b := backendNamed(table, backend)
	if b == nil {
		return nil, call, fmt.Errorf("embedding backend %s is not in the route table", backend)
	}
	p, err := ex.g.cfg.Providers.Lookup(b)
	if err != nil {
		return nil, call, err
	}
	tr, err := p.Translator(b, api.EndpointEmbeddings, model)
	if err != nil {
		return nil, call, fmt.Errorf("embedding backend %s: %w", backend, err)
	}
	body, err := json.Marshal(embeddingRequest{Model: model, Input: text, EncodingFormat: "float"})
	if err != nil {
		return nil, call, err
	}
	if ex.g.limiter != nil {
		// The embedding is part of the client's request, not another one:
		// its tokens count against the key, its request count does not.
		k := ex.key
		k.Limits.RequestsPerMinute = 0
		id := ex.id
		if f := ex.g.cfg.SettleID; f != nil {
			if v := f(ex.r); v != "" {
				id = v // a retried Lambda invocation records its embedding once too
			}
		}
		t, err := ex.g.limiter.Admit(ctx, ledger.Request{ID: id + ":embedding", Key: k, Model: model, Body: body, NoOutput: true})
		if err != nil {
			return nil, call, fmt.Errorf("embedding not admitted: %w", err)
		}
		call.ticket = t
	}
	path, out, err := tr.Request(body)
	if err != nil {
		return nil, call, err
	}
	cred := ""
	if b.Credential != "" {
		v, ok := ex.g.creds.Credential(b.Credential)
		if !ok {
			return nil, call, fmt.Errorf("embedding backend %s: credential %q is not configured", backend, b.Credential)
		}
		cred = v
	}
	// A plain exchange for the embedding model: upstreamRequest addresses
	// the request by the exchange's model, and the client's route filters
	// belong to the client's backend, not to this one.
	sub := &exchange{g: ex.g, r: ex.r, id: ex.id, model: model}
	req, err := sub.upstreamRequest(ctx, &upstream{b: b, p: p, tr: tr, rule: &route.Rule{}, path: path, cred: cred}, out)
	if err != nil {
		return nil, call, err
	}
	resp, err := ex.g.send(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, call, fmt.Errorf("embedding backend %s did not answer within %v: %w", backend, budget, err)
		}
		return nil, call, fmt.Errorf("embedding backend %s: %w", backend, err)
	}
	defer resp.Body.Close()
	raw, err := readUpTo(resp.Body, resp.ContentLength, ex.g.cfg.MaxResponseBytes+1)
	if err != nil {
		return nil, call, fmt.Errorf("embedding backend %s: reading the answer: %w", backend, err)
	}
	call.sent = true
	if resp.StatusCode >= 300 {
		return nil, call, fmt.Errorf("embedding backend %s: %w", backend, tr.Error(resp.StatusCode, raw))
	}
	if int64(len(raw)) > ex.g.cfg.MaxResponseBytes {
		return nil, call, fmt.Errorf("embedding backend %s answered more than %d bytes", backend, ex.g.cfg.MaxResponseBytes)
	}
	answer, err := tr.Response(raw)
	call.usage = tr.Usage()
	if err != nil {
		return nil, call, fmt.Errorf("embedding backend %s: %w", backend, err)
	}
	var emb embeddingResponse
	if err := json.Unmarshal(answer, &emb); err != nil || len(emb.Data) != 1 || len(emb.Data[0].Embedding) == 0 {
		return nil, call, fmt.Errorf("embedding backend %s answered no embedding (%v)", backend, err)
	}
	return emb.Data[0].Embedding, call, nil
}

// settle records the call's usage against the key, as the request's own
// settle does: before the handler returns in Lambda, after it locally.
func (c *embedCall) settle() {
	t := c.ticket
	if t == nil {
		return
	}
	o := ledger.Outcome{Usage: c.usage, Started: c.sent}
	ctx := context.WithoutCancel(c.ex.r.Context())
	if !c.ex.g.cfg.SettleInBackground || t.SettlesInMemory() {
		t.Settle(ctx, o)
		return
	}
	c.ex.g.pending.Add(1)
	go func() {
		defer c.ex.g.pending.Done()
		t.Settle(ctx, o)
	}()
}

type embeddingRequest struct {
	Model          string `json:"model"`
	Input          string `json:"input"`
	EncodingFormat string `json:"encoding_format"`
}

type embeddingResponse struct {
	Data []struct {
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// backendNamed finds an AIBackend of the table by its namespace/name.
func backendNamed(t *route.Table, name string) *route.Backend {
	for i := range t.Backends {
		if b := &t.Backends[i]; b.Name == name && b.Kind != route.KindService {
			return b
		}
	}
	return nil
}
