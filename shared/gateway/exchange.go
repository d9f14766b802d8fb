package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// exchange is one request's state from arrival to the last byte.
type exchange struct {
	g     *Gateway
	w     http.ResponseWriter
	r     *http.Request
	start time.Time
	id    string

	model       string
	stream      bool
	route       string
	backend     string
	status      int
	wroteHeader bool
	anthropic   bool // the client speaks Anthropic's protocol

	key      ledger.Key
	ticket   *ledger.Ticket      // admission's reservation, settled once
	tr       provider.Translator // the attempt that answered
	streamed ledger.TextCounter  // generated text streamed, for estimates

	// Set by the attempt loop and the cache (agreed names), read by the
	// telemetry at the end of the request.
	attempts, fallbacks, hedges int
	servedModel                 string
	ttft                        time.Duration
	cacheResult                 string  // hit, miss, bypass, or "" when no cache policy applies
	savedTokens                 int64   // the tokens a cache hit saved
	cache                       *cached // the cache's state, when a CachePolicy applies

	semantic *semanticState // the semantic cache's state, once its lookup ran

	tap     *tap     // in front of w when the cache or the access log watches the answer
	bodyLog *bodyLog // the texts to log, when an AccessLogPolicy applies

	// The telemetry's records, reused across attempts.
	tried int
	att   telemetry.Attempt
	rec   telemetry.Request

	firstTry  try             // the usual single attempt, kept here to spare an allocation
	balance   balance.Request // the balancer's state for this request, likewise
	hedgeLost int             // hedged attempts cancelled after sending, billed with the winner
}

func (ex *exchange) serve() error {
	r := ex.r
	ep := api.EndpointOf(r.URL.Path)
	if ep == api.EndpointUnknown {
		table := ex.g.tables.Table()
		if table == nil {
			ex.plainError(http.StatusServiceUnavailable, "no routes are configured yet")
			return nil
		}
		return ex.serveHTTPRoute(table)
	}
	// A bad key is refused before the body is read or a backend touched.
	key, err := ex.g.keys.Check(r.Context(), keyFrom(r.Header))
	if err != nil {
		return authError(err)
	}
	ex.key = key
	table := ex.g.tables.Table()
	if table == nil {
		return api.Errorf(api.ErrUnavailable, "no routes are configured yet")
	}
	switch ep {
	case api.EndpointModels, api.EndpointModel:
		if r.Method != http.MethodGet {
			return methodNotAllowed(ex.w, http.MethodGet)
		}
		if ep == api.EndpointModel {
			return ex.oneModel(table, r.URL.Path[len(api.ModelsPrefix):])
		}
		return ex.models(table)
	case api.EndpointChatCompletions, api.EndpointEmbeddings, api.EndpointResponses,
		api.EndpointMessages, api.EndpointCountTokens:
		if r.Method != http.MethodPost {
			return methodNotAllowed(ex.w, http.MethodPost)
		}
		return ex.forward(table, ep)
	}
	return api.Errorf(api.ErrNotFound, "%s is not served yet", r.URL.Path)
}

func authError(err error) error {
	var e *api.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, ledger.ErrNoKey):
		return api.Errorf(api.ErrUnauthorized, "missing API key: send it as 'Authorization: Bearer sk-sluice-...' or 'x-api-key: sk-sluice-...'")
	case errors.Is(err, ledger.ErrMalformed), errors.Is(err, ledger.ErrUnknownKey):
		return api.Errorf(api.ErrUnauthorized, "invalid API key")
	case errors.Is(err, ledger.ErrRevokedKey), errors.Is(err, ledger.ErrExpiredKey):
		return api.Errorf(api.ErrUnauthorized, "invalid API key: %v", err)
	}
	return fmt.Errorf("%w: %w", api.ErrUnavailable, err)
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return &api.Error{Kind: api.ErrBadRequest, Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
		Message: "method not allowed; use " + allow}
}

// readBody reads the request body up to the configured limit.
func (ex *exchange) readBody() ([]byte, error) {
	limit := ex.g.cfg.MaxBodyBytes
	if ex.r.ContentLength > limit {
		return nil, api.Errorf(api.ErrTooLarge, "request body is %d bytes; the limit is %d", ex.r.ContentLength, limit)
	}
	body, err := readUpTo(ex.r.Body, ex.r.ContentLength, limit+1)
	if err != nil {
		return nil, api.Errorf(api.ErrBadRequest, "reading request body: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, api.Errorf(api.ErrTooLarge, "request body exceeds the limit of %d bytes", limit)
	}
	return body, nil
}

// readUpTo reads r to its end or to max bytes, whichever comes first, as
// io.ReadAll(io.LimitReader(r, max)) does, into a buffer sized for hint
// bytes (a Content-Length; negative when unknown) so that a body of the
// announced length is read with one allocation and no copy.
func readUpTo(r io.Reader, hint, max int64) ([]byte, error) {
	size := hint + 1 // room to see the end without growing
	if hint < 0 || size > 64<<10 {
		size = 512
	}
	if size > max {
		size = max
	}
	buf := make([]byte, 0, size)
	for int64(len(buf)) < max {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512) // the hint was short: grow as io.ReadAll does
		}
		room := buf[len(buf):cap(buf)]
		if int64(len(room)) > max-int64(len(buf)) {
			room = room[:max-int64(len(buf))]
		}
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// forward routes a model request to a backend and relays the answer.
func (ex *exchange) forward(table *route.Table, ep api.Endpoint) (err error) {
	body, err := ex.readBody()
	if err != nil {
		return err
	}
	peek, err := api.PeekBody(body)
	if err != nil {
		return err
	}
	ex.model, ex.stream = peek.Model, peek.Stream
	ex.r.Header.Set(route.ModelHeader, peek.Model)
	rule, _ := table.Match(ex.r, hostOf(ex.r.Host))
	if rule == nil {
		return &api.Error{Kind: api.ErrModelNotFound, Param: "model",
			Message: "the model '" + peek.Model + "' does not exist or no route serves it"}
	}
	ex.route = rule.Route
	if rule.Timeout > 0 {
		ctx, cancel := context.WithTimeout(ex.r.Context(), rule.Timeout)
		defer cancel()
		ex.r = ex.r.WithContext(ctx)
	}
	if rule.AccessLog != nil {
		ex.logBodies(rule.AccessLog, body)
	}
	if err := ex.admit(rule, ep, body); err != nil {
		return err
	}
	defer func() { ex.settle(err) }()
	if rule.Cache != nil {
		defer ex.settleEmbedding()
		if done, err := ex.cacheLookup(rule.Cache, ep, body); done {
			return err
		}
		defer ex.cacheStore()
	}
	// The balancer chooses each attempt's backend; one that fails before
	// the first byte reaches the client is retried elsewhere.
	return ex.tryBackends(table, rule, ep, body)
}

// retryable reports whether another backend may take the request: the
// upstream could not be reached, was overloaded or failed.
func retryable(err error) bool {
	if errors.Is(err, errTransport) {
		return true
	}
	s := api.Status(err)
	return s == http.StatusTooManyRequests || s >= 500
}

var errTransport = errors.New("upstream unreachable")

// attempt sends the request to one backend and relays its answer; at
// carries the backend, the model asked of it and its timeouts, and
// collects what the upstream said for the balancer.
func (ex *exchange) attempt(at *try, ep api.Endpoint, body []byte, rule *route.Rule) (err error) {
	defer ex.attemptEnd(ex.attemptStart(at.b), &err)
	up, out, err := ex.prepare(at, ep, body, rule)
	if up.tr == nil {
		return err // failed, or answered without an upstream (estimated counts)
	}
	ex.tr = up.tr
	ctx, watch := ex.attemptContext(at, false)
	defer watch.stop()
	resp, err := ex.call(ctx, watch, &up, out)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return ex.relay(ctx, &up, resp, nil)
}

// prepare finds the backend's provider and translator and translates the
// request. An upstream without a translator means the exchange is over:
// err says how, or the gateway answered itself (a count of tokens it
// estimated).
func (ex *exchange) prepare(at *try, ep api.Endpoint, body []byte, rule *route.Rule) (upstream, []byte, error) {
	b := at.b
	p, err := ex.g.cfg.Providers.Lookup(b)
	if err != nil {
		return upstream{}, nil, err
	}
	tr, err := p.Translator(b, ep, at.model)
	if ep == api.EndpointCountTokens && errors.Is(err, api.ErrNotFound) {
		// The backend's protocol cannot count Anthropic tokens: estimate.
		return upstream{}, nil, ex.estimateTokens(b, body)
	}
	if err != nil {
		return upstream{}, nil, err
	}
	path, out, err := tr.Request(body)
	if err != nil {
		return upstream{}, nil, err
	}
	cred := ""
	if b.Credential != "" {
		v, ok := ex.g.creds.Credential(b.Credential)
		if !ok {
			return upstream{}, nil, api.Errorf(api.ErrNoBackend, "backend %s: credential %q is not configured", b.Name, b.Credential)
		}
		cred = v
	}
	if c, ok := tr.(provider.ClientHeaderReader); ok {
		c.ClientHeader(ex.r.Header)
	}
	return upstream{b: b, p: p, tr: tr, rule: rule, path: path, cred: cred, model: at.model, at: at}, out, nil
}

// call sends the translated request and returns a successful response;
// a refusal becomes the translator's error, with what the balancer needs
// kept on the attempt.
func (ex *exchange) call(ctx context.Context, watch *watchdog, up *upstream, out []byte) (*http.Response, error) {
	at, tr := up.at, up.tr
	req, err := ex.upstreamRequest(ctx, up, out)
	if err != nil {
		return nil, err
	}
	sent := ex.g.now()
	resp, err := ex.g.send(req)
	if err != nil {
		return nil, ex.sendError(at, ctx)
	}
	watch.gotHeaders()
	at.status, at.firstByte = resp.StatusCode, ex.g.now().Sub(sent)
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	errBody, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	at.header, at.errBody = resp.Header, errBody
	at.retryAfter = resp.Header.Get("Retry-After")
	err = tr.Error(resp.StatusCode, errBody)
	// Providers that say when to retry in the body (Gemini's RetryInfo)
	// give it through the error.
	var ra provider.RetryAfterError
	if errors.As(err, &ra) && at.retryAfter == "" {
		at.retryAfter = ra.RetryAfter()
	}
	return nil, err
}

// relay passes a successful response to the client; rd, when set, is the
// stream's reader with what a hedged race already read.
func (ex *exchange) relay(ctx context.Context, up *upstream, resp *http.Response, rd provider.EventReader) error {
	tr := up.tr
	ex.w.Header().Set("X-Sluice-Backend", up.b.Name)
	if m := up.rule.Filters.ResponseHeaders; m != nil {
		m.Apply(ex.w.Header())
	}
	if f, ok := tr.(provider.Fanout); ok && !ex.stream && len(f.More()) > 0 {
		return ex.fanout(ctx, up, f, resp)
	}
	if ex.stream {
		if rd == nil {
			rd = eventReader(tr, resp)
		}
		if rd != nil {
			return ex.relayStream(tr, ex.timeChunks(ctx, up, ex.watchIdle(rd, up.at)))
		}
	}
	return ex.relayBody(tr, resp)
}

// eventReader reads a streamed answer's events; nil when it is not a
// stream after all.
func eventReader(tr provider.Translator, resp *http.Response) provider.EventReader {
	if d, ok := tr.(provider.StreamDecoder); ok {
		return d.NewEventReader(resp.Body)
	}
	if isEventStream(resp.Header.Get("Content-Type")) {
		return sse.NewReader(resp.Body)
	}
	return nil
}

// upstream is what every upstream call of one attempt shares: the backend,
// its provider and the request's translator, the route, the translated
// path and the credential.
type upstream struct {
	b     *route.Backend
	p     provider.Provider
	tr    provider.Translator
	rule  *route.Rule
	path  string
	cred  string
	model string // the model asked of the backend; "" is the exchange's
	at    *try
}

// upstreamRequest builds, authenticates and signs the request that sends
// body to u's backend: the provider's URL for the translated path, the
// translator's protocol headers, the credential as the provider takes it,
// the Accept a stream needs when the protocol set none, the route's
// header filters, and last, for providers that sign, the signature over
// exactly what is sent. Every upstream call of an exchange, a fan-out's
// included, is made here.
func (ex *exchange) upstreamRequest(ctx context.Context, u *upstream, body []byte) (*http.Request, error) {
	model := u.model
	if model == "" {
		model = ex.model
	}
	target, err := u.p.URL(u.b, model, u.path)
	if err != nil {
		return nil, fmt.Errorf("%w: backend %s: %w", api.ErrNoBackend, u.b.Name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: backend %s: bad endpoint: %w", api.ErrNoBackend, u.b.Name, err)
	}
	u.tr.Header(req.Header)
	u.p.Authorize(req.Header, u.b, u.cred)
	if ex.stream && req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/event-stream")
	}
	if m := u.rule.Filters.RequestHeaders; m != nil {
		m.Apply(req.Header)
	}
	if s, ok := u.p.(provider.Signer); ok {
		if err := s.Sign(ctx, req, u.b, body); err != nil {
			return nil, fmt.Errorf("%w: backend %s: signing: %w", api.ErrNoBackend, u.b.Name, err)
		}
	}
	return req, nil
}

func isEventStream(ct string) bool {
	return len(ct) >= 17 && ct[:17] == "text/event-stream"
}

func (ex *exchange) relayBody(tr provider.Translator, resp *http.Response) error {
	limit := ex.g.cfg.MaxResponseBytes
	raw, err := readUpTo(resp.Body, resp.ContentLength, limit+1)
	if err != nil {
		return &api.Error{Kind: errTransport, Status: http.StatusBadGateway, Code: "upstream_cut",
			Message: "backend " + ex.backend + " closed the connection mid-response"}
	}
	if int64(len(raw)) > limit {
		return api.Errorf(api.ErrUpstream, "backend %s answered more than %d bytes", ex.backend, limit)
	}
	out, err := tr.Response(raw)
	if err != nil {
		return err
	}
	if !tr.Usage().Reported && !json.Valid(raw) {
		// A body cut short on a connection that closed cleanly: nothing was
		// sent yet, so another backend may still answer. A body whose usage
		// decoded is whole, and is not scanned again.
		return &api.Error{Kind: errTransport, Status: http.StatusBadGateway, Code: "upstream_cut",
			Message: "backend " + ex.backend + " sent a malformed or incomplete response body"}
	}
	if ex.ticket != nil && !tr.Usage().Reported {
		ex.streamed.Add(out) // no usage reported: the ledger estimates from the text
	}
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	ex.writeHeader(http.StatusOK)
	_, err = ex.w.Write(out)
	return err
}

// relayStream passes events to the client one by one, flushing each at
// once. After the first byte a failure cannot change the status, so it
// becomes an error event in the client's protocol.
func (ex *exchange) relayStream(tr provider.Translator, rd provider.EventReader) error {
	h := ex.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	ex.writeHeader(http.StatusOK)
	rc := http.NewResponseController(ex.w)
	if err := rc.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	// Events are written and flushed as soon as no further one is already
	// buffered: those that arrived together leave together, in one write,
	// and none waits on the upstream unsent. buf holds what is translated
	// and not yet written.
	ready, _ := rd.(provider.Buffered)
	var buf []byte
	for {
		if len(buf) > 0 && (ready == nil || !ready.Ready()) {
			if _, err := ex.w.Write(buf); err != nil {
				return fmt.Errorf("client went away mid-stream: %w", err)
			}
			if err := rc.Flush(); err != nil {
				return fmt.Errorf("client went away mid-stream: %w", err)
			}
			buf = buf[:0]
		}
		n0 := len(buf)
		ev, err := rd.Next()
		if err == io.EOF {
			if end, ok := tr.(provider.StreamEnder); ok {
				if buf, err = end.StreamEnd(buf); err != nil {
					buf = tr.StreamError(buf[:n0], err)
				}
			}
			if len(buf) > 0 {
				ex.w.Write(buf)
				rc.Flush()
			}
			return err
		}
		if err != nil {
			var cause error = api.Errorf(api.ErrUpstream, "the backend stream failed mid-response")
			if ae := (*api.Error)(nil); errors.As(err, &ae) {
				cause = ae // a decoder's in-stream error (Bedrock exceptions) is client-safe
			}
			if ctxErr := ex.r.Context().Err(); ctxErr != nil {
				return fmt.Errorf("client went away mid-stream: %w", ctxErr)
			}
			buf = tr.StreamError(buf, cause)
			ex.w.Write(buf)
			rc.Flush()
			return fmt.Errorf("backend %s stream: %w: %w", ex.backend, cause, err)
		}
		if ex.ticket != nil {
			ex.streamed.Add(ev.Data)
		}
		buf, err = tr.StreamEvent(buf, ev)
		if err != nil {
			buf = tr.StreamError(buf[:n0], err)
			ex.w.Write(buf)
			rc.Flush()
			return err
		}
	}
}

func (ex *exchange) writeHeader(status int) {
	if ex.ttft == 0 {
		ex.ttft = ex.g.now().Sub(ex.start)
	}
	ex.status = status
	ex.wroteHeader = true
	ex.w.WriteHeader(status)
}

// estimateTokens answers count_tokens for a backend that cannot count:
// messages.EstimateTokens's figure, marked x-sluice-estimated: true.
func (ex *exchange) estimateTokens(b *route.Backend, body []byte) error {
	n, err := messages.EstimateTokens(body)
	if err != nil {
		return api.Errorf(api.ErrBadRequest, "request body is not a valid count_tokens request: %v", err)
	}
	out := strconv.AppendInt([]byte(`{"input_tokens":`), n, 10)
	out = append(out, '}')
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	h.Set("X-Sluice-Estimated", "true")
	h.Set("X-Sluice-Backend", b.Name)
	ex.writeHeader(http.StatusOK)
	_, err = ex.w.Write(out)
	return err
}

// models lists the models the route table can reach, in OpenAI's format,
// or in Anthropic's for Anthropic clients.
func (ex *exchange) models(table *route.Table) error {
	if ex.anthropic {
		return ex.anthropicModels(table)
	}
	var b bytes.Buffer
	b.WriteString(`{"object":"list","data":[`)
	created := strconv.FormatInt(table.Created.Unix(), 10)
	for i, m := range table.Models() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		b.Write(quote(m))
		b.WriteString(`,"object":"model","created":` + created + `,"owned_by":"sluice"}`)
	}
	b.WriteString(`]}`)
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	ex.writeHeader(http.StatusOK)
	_, err := ex.w.Write(b.Bytes())
	return err
}

// oneModel answers one model of the list, in OpenAI's or Anthropic's shape,
// or a 404 as the client's protocol words it.
func (ex *exchange) oneModel(table *route.Table, id string) error {
	models := table.Models()
	if i, ok := slices.BinarySearch(models, id); !ok || models[i] != id {
		return &api.Error{Kind: api.ErrModelNotFound, Param: "model",
			Message: fmt.Sprintf("the model %q does not exist: no route serves it (GET /v1/models lists those that do)", id)}
	}
	var b []byte
	if ex.anthropic {
		q := quote(id)
		b = append(b, `{"type":"model","id":`...)
		b = append(b, q...)
		b = append(b, `,"display_name":`...)
		b = append(b, q...)
		b = append(b, `,"created_at":`...)
		b = append(b, quote(table.Created.UTC().Format(time.RFC3339))...)
		b = append(b, '}')
	} else {
		b = append(b, `{"id":`...)
		b = append(b, quote(id)...)
		b = append(b, `,"object":"model","created":`...)
		b = strconv.AppendInt(b, table.Created.Unix(), 10)
		b = append(b, `,"owned_by":"sluice"}`...)
	}
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	ex.writeHeader(http.StatusOK)
	_, err := ex.w.Write(b)
	return err
}

func quote(s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// anthropicModels lists the models in Anthropic's format. The list is
// whole: has_more is false and no paging parameter changes it.
func (ex *exchange) anthropicModels(table *route.Table) error {
	var b bytes.Buffer
	created := quote(table.Created.UTC().Format(time.RFC3339))
	models := table.Models()
	b.WriteString(`{"data":[`)
	for i, m := range models {
		if i > 0 {
			b.WriteByte(',')
		}
		id := quote(m)
		b.WriteString(`{"type":"model","id":`)
		b.Write(id)
		b.WriteString(`,"display_name":`)
		b.Write(id)
		b.WriteString(`,"created_at":`)
		b.Write(created)
		b.WriteByte('}')
	}
	b.WriteString(`],"has_more":false,"first_id":`)
	if len(models) == 0 {
		b.WriteString(`null,"last_id":null}`)
	} else {
		b.Write(quote(models[0]))
		b.WriteString(`,"last_id":`)
		b.Write(quote(models[len(models)-1]))
		b.WriteByte('}')
	}
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	ex.writeHeader(http.StatusOK)
	_, err := ex.w.Write(b.Bytes())
	return err
}
