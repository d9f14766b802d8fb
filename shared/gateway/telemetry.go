package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// Telemetry receives the record of each upstream attempt and of each
// request as they end (telemetry.Recorder). The records are the
// exchange's own, reused: a Telemetry must not keep them past the call.
type Telemetry interface {
	Attempt(ctx context.Context, a *telemetry.Attempt)
	Request(ctx context.Context, r *telemetry.Request)
}

// Tracer is an optional ability of a Telemetry: it opens a span for a
// request (from the client's headers, which may continue a trace) or an
// attempt, and returns the context that carries it; the attempt's goes
// with the upstream request. Each span ends with its record.
type Tracer interface {
	StartRequest(ctx context.Context, h http.Header, at time.Time) context.Context
	StartAttempt(ctx context.Context, at time.Time) context.Context
}

// ChunkTimer is an optional ability of a Telemetry: what records the time
// between a streamed answer's chunks, or nil when nothing does.
type ChunkTimer interface {
	ChunkTimer(ctx context.Context, operation, provider, model string) func(time.Duration)
}

// timeChunks times rd's events when the Telemetry asks for it.
func (ex *exchange) timeChunks(ctx context.Context, up *upstream, rd provider.EventReader) provider.EventReader {
	t, ok := ex.g.telemetry.(ChunkTimer)
	if !ok {
		return rd
	}
	model := up.model
	if model == "" {
		model = ex.model
	}
	rec := t.ChunkTimer(ctx, operation(api.EndpointOf(ex.r.URL.Path)), up.b.Provider, model)
	if rec == nil {
		return rd
	}
	return &timedReader{EventReader: rd, now: ex.g.now, rec: rec}
}

// timedReader hands the time between successive events to rec.
type timedReader struct {
	provider.EventReader
	now  func() time.Time
	rec  func(time.Duration)
	last time.Time
}

func (t *timedReader) Next() (sse.Event, error) {
	ev, err := t.EventReader.Next()
	if err == nil {
		now := t.now()
		if !t.last.IsZero() {
			t.rec(now.Sub(t.last))
		}
		t.last = now
	}
	return ev, err
}

// Ready passes on whether an event is already buffered.
func (t *timedReader) Ready() bool {
	b, ok := t.EventReader.(provider.Buffered)
	return ok && b.Ready()
}

// traceRequest opens the request's span when the Telemetry traces. The
// request is copied only when the context changed.
func (ex *exchange) traceRequest() {
	if t, ok := ex.g.telemetry.(Tracer); ok {
		ctx := ex.r.Context()
		if c := t.StartRequest(ctx, ex.r.Header, ex.start); c != ctx {
			ex.r = ex.r.WithContext(c)
		}
	}
}

// attemptStart opens an attempt's record (and span); attemptEnd closes it
// with the attempt's error. The request's context is restored after, so
// the next attempt's span is a sibling, not a child.
func (ex *exchange) attemptStart(b *route.Backend) *http.Request {
	r := ex.r
	ex.tried++
	ex.att = telemetry.Attempt{Operation: operation(api.EndpointOf(r.URL.Path)), Route: ex.route, Backend: b.Name,
		Provider: b.Provider, Model: ex.model, Start: ex.g.now()}
	if t, ok := ex.g.telemetry.(Tracer); ok {
		ctx := r.Context()
		if c := t.StartAttempt(ctx, ex.att.Start); c != ctx {
			ex.r = r.WithContext(c)
		}
	}
	return r
}

func (ex *exchange) attemptEnd(r *http.Request, errp *error) {
	a := &ex.att
	a.Duration = ex.g.now().Sub(a.Start)
	if err := *errp; err != nil {
		a.Status = api.Status(err)
		a.ErrorKind = errorKind(err, ex.r)
	} else {
		a.Status = ex.status
	}
	ex.g.telemetry.Attempt(ex.r.Context(), a)
	ex.r = r
}

// logDone hands the request's record to the telemetry: the access log,
// metrics and trace all read it.
func (ex *exchange) logDone(err error) {
	rec := &ex.rec
	*rec = telemetry.Request{
		ID: ex.id, Method: ex.r.Method, Path: ex.r.URL.Path,
		KeyID: ex.key.ID, Consumer: ex.key.Consumer,
		Route: ex.route, Backend: ex.backend, Provider: ex.att.Provider,
		Operation: operation(api.EndpointOf(ex.r.URL.Path)),
		Model:     ex.model, ServedModel: ex.servedModel, Stream: ex.stream,
		Status: ex.status, Cache: ex.cacheResult, SavedTokens: ex.savedTokens,
		Start: ex.start, Latency: ex.g.now().Sub(ex.start), TTFT: ex.ttft,
		Attempts: max(ex.attempts, ex.tried), Fallbacks: ex.fallbacks, Hedges: ex.hedges,
	}
	if err != nil {
		rec.ErrorKind = errorKind(err, ex.r)
		rec.Error = err.Error()
		switch {
		case rec.ErrorKind == telemetry.KindClientClosed:
			rec.Status = telemetry.StatusClientClosed
		case !ex.wroteHeader:
			rec.Status = api.Status(err)
		}
	}
	if ex.tr != nil {
		u := ex.tr.Usage()
		rec.InputTokens, rec.OutputTokens = u.InputTokens, u.OutputTokens
		rec.CachedTokens, rec.ReasoningTokens = u.CachedTokens, u.ReasoningTokens
		if ex.ticket != nil {
			rec.CostMicros = int64(ex.ticket.Cost(u))
		}
		// Upstream events the answering translator had no use for.
		if c, ok := ex.tr.(provider.EventCounter); ok {
			rec.SkippedEvents = c.SkippedEvents()
		}
	}
	if ex.bodyLog != nil {
		ex.logTexts(rec)
	}
	ex.g.telemetry.Request(ex.r.Context(), rec)
}

// operation is the GenAI operation name of an endpoint; "" for plain
// HTTP routes and the model lists.
func operation(ep api.Endpoint) string {
	switch ep {
	case api.EndpointChatCompletions, api.EndpointMessages, api.EndpointResponses:
		return "chat"
	case api.EndpointEmbeddings:
		return "embeddings"
	case api.EndpointCountTokens:
		return "count_tokens"
	}
	return ""
}
