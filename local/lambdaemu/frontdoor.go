package lambdaemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"strconv"
	"time"
)

const (
	// maxBufferedResponse is Lambda's limit for a buffered response.
	maxBufferedResponse = 6 << 20
	// maxPrelude bounds the JSON before the 8 NUL bytes of a stream.
	maxPrelude = 1 << 20
)

// exchange is one front-door request, for its log line.
type exchange struct {
	e       *Emulator
	w       http.ResponseWriter
	r       *http.Request
	id      ids
	start   time.Time
	status  int
	sandbox int
	stream  bool
	err     error
}

// ServeHTTP is the API Gateway front door: it turns r into a REST proxy
// event, invokes the function in a free sandbox and relays the response.
// A streamed response is copied as each chunk arrives from the runtime,
// flushed every time; a buffered one is decoded from its JSON. Errors look
// as API Gateway makes them: 502 {"message": "Internal server error"} when
// the function fails before the response began, 504 when it times out, and
// an aborted connection when it fails mid-stream.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	x := &exchange{e: e, w: w, r: r, id: newIDs(now), start: now}
	defer x.logDone() // also when aborting with a panic
	x.serve()
}

func (x *exchange) serve() {
	e, r := x.e, x.r
	payload, err := e.event(r, x.id, x.start)
	if err != nil {
		x.err = err
		switch {
		case errors.Is(err, errTooLarge) && e.cfg.RequestTooLarge != nil:
			x.setGatewayHeaders()
			x.status = http.StatusRequestEntityTooLarge
			e.cfg.RequestTooLarge.ServeHTTP(x.w, r)
		case errors.Is(err, errTooLarge):
			x.gatewayError(http.StatusRequestEntityTooLarge, "Request Too Long")
		default:
			x.gatewayError(http.StatusBadRequest, "Bad Request")
		}
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), e.cfg.Timeout)
	defer cancel()

	var sb *sandbox
	var inv *invocation
	for attempt := 0; ; attempt++ {
		if sb, err = e.acquire(ctx); err == nil {
			inv = &invocation{
				id:       x.id.lambda,
				event:    payload,
				deadline: time.Now().Add(e.cfg.Timeout),
				traceID:  x.id.traceID + ";Parent=" + randomHex(8) + ";Sampled=0",
				result:   make(chan *result, 1),
				timedOut: make(chan struct{}),
				gone:     make(chan struct{}),
			}
			if err = sb.dispatch(ctx, inv); err == nil {
				break
			}
		}
		// A sandbox that died while idle never saw the event: try once more.
		if errors.Is(err, errSandboxExited) && attempt == 0 {
			continue
		}
		x.err = err
		switch {
		case errors.Is(err, ErrClosed):
			x.gatewayError(http.StatusServiceUnavailable, "Service Unavailable")
		case r.Context().Err() != nil:
			// The client left; nobody to answer.
		case errors.Is(err, context.DeadlineExceeded):
			x.gatewayError(http.StatusGatewayTimeout, "Endpoint request timed out")
		default:
			x.gatewayError(http.StatusBadGateway, "Internal server error")
		}
		return
	}
	x.sandbox = sb.id
	defer close(inv.gone)

	var res *result
	select {
	case res = <-inv.result:
	case <-inv.timedOut:
		x.err = fmt.Errorf("task timed out after %v", e.cfg.Timeout)
		x.gatewayError(http.StatusGatewayTimeout, "Endpoint request timed out")
		return
	case <-sb.exited:
		x.err = fmt.Errorf("%w during the invocation: %w", errSandboxExited, sb.exitErr)
		x.gatewayError(http.StatusBadGateway, "Internal server error")
		return
	case <-r.Context().Done():
		x.err = fmt.Errorf("client gone: %w", context.Cause(r.Context()))
		return
	}
	if res.errType != "" {
		x.err = fmt.Errorf("function error %s", res.errType)
		x.gatewayError(http.StatusBadGateway, "Internal server error")
		return
	}
	defer res.release()
	if res.req.Header.Get("Content-Type") == contentTypeHTTPResp {
		x.relayStream(res, inv)
	} else {
		x.relayBuffered(res, inv)
	}
}

// failed maps a broken response body to the error and status API Gateway
// would give.
func (x *exchange) failed(inv *invocation, err error) {
	select {
	case <-inv.timedOut:
		x.err = fmt.Errorf("task timed out after %v: %w", x.e.cfg.Timeout, err)
		x.gatewayError(http.StatusGatewayTimeout, "Endpoint request timed out")
	default:
		x.err = err
		x.gatewayError(http.StatusBadGateway, "Internal server error")
	}
}

// prelude is the JSON before the body of a streamed response: API
// Gateway's (statusCode, headers, multiValueHeaders, cookies) or a function
// URL's (statusCode, headers, cookies).
type prelude struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
}

// relayStream reads the prelude, sends the header and then copies the body
// chunk by chunk, flushing each, so the first event reaches the client
// while the function is still running.
func (x *exchange) relayStream(res *result, inv *invocation) {
	x.stream = true
	br := bufio.NewReader(res.req.Body) // reads bigger than its buffer bypass it
	pre, err := readPrelude(br)
	if err != nil {
		if typ := res.req.Trailer.Get(trailerErrorType); typ != "" {
			err = fmt.Errorf("function error %s before the response began", typ)
		}
		x.failed(inv, fmt.Errorf("response prelude: %w", err))
		return
	}
	h := x.w.Header()
	for k, v := range pre.Headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	for k, vs := range pre.MultiValueHeaders { // these win, as in API Gateway
		h[textproto.CanonicalMIMEHeaderKey(k)] = vs
	}
	for _, c := range pre.Cookies {
		h.Add("Set-Cookie", c)
	}
	dropHopHeaders(h)
	h.Del("Content-Length")
	x.setGatewayHeaders()
	x.writeHeader(pre.StatusCode)
	rc := http.NewResponseController(x.w)
	rc.Flush()

	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := x.w.Write(buf[:n]); werr != nil {
				x.err = fmt.Errorf("client gone: %w", werr)
				return
			}
			rc.Flush()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			x.abort(inv, fmt.Errorf("response stream: %w", err))
		}
	}
	if typ := res.req.Trailer.Get(trailerErrorType); typ != "" {
		x.abort(inv, fmt.Errorf("function error %s mid-stream", typ))
	}
}

// abort cuts the client's connection, as API Gateway does when a streamed
// response fails after its header went out.
func (x *exchange) abort(inv *invocation, err error) {
	select {
	case <-inv.timedOut:
		err = fmt.Errorf("task timed out after %v: %w", x.e.cfg.Timeout, err)
	default:
	}
	x.err = err
	panic(http.ErrAbortHandler)
}

// readPrelude reads up to and including the 8 NUL bytes that end it.
func readPrelude(br *bufio.Reader) (prelude, error) {
	var buf bytes.Buffer
	for {
		part, err := br.ReadSlice(0)
		buf.Write(part)
		if buf.Len() > maxPrelude {
			return prelude{}, errors.New("no 8-NUL separator in the first MB")
		}
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return prelude{}, err
		}
	}
	var nul [7]byte
	if _, err := io.ReadFull(br, nul[:]); err != nil {
		return prelude{}, fmt.Errorf("separator: %w", err)
	}
	if nul != [7]byte{} {
		return prelude{}, errors.New("prelude not followed by 8 NUL bytes")
	}
	var p prelude
	if err := json.Unmarshal(buf.Bytes()[:buf.Len()-1], &p); err != nil {
		return prelude{}, fmt.Errorf("decode: %w", err)
	}
	return p, nil
}

// proxyResponse is a buffered proxy integration response; cookies come
// from the payload 2.0 form, which a function may return too.
type proxyResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// relayBuffered decodes a whole APIGatewayProxyResponse and sends it.
func (x *exchange) relayBuffered(res *result, inv *invocation) {
	data, err := io.ReadAll(io.LimitReader(res.req.Body, maxBufferedResponse+1))
	tooLarge := len(data) > maxBufferedResponse && res.req.Header.Get(headerResponseMode) != "streaming"
	if tooLarge {
		res.reply = http.StatusRequestEntityTooLarge // what Lambda tells the runtime
	}
	res.release()
	switch {
	case err != nil:
		x.failed(inv, fmt.Errorf("response: %w", err))
		return
	case tooLarge:
		x.failed(inv, errors.New("Function.ResponseSizeTooLarge: response exceeds 6 MB"))
		return
	}
	if typ := res.req.Trailer.Get(trailerErrorType); typ != "" {
		x.failed(inv, fmt.Errorf("function error %s", typ))
		return
	}
	var out proxyResponse
	if err := json.Unmarshal(data, &out); err != nil || out.StatusCode < 100 || out.StatusCode > 999 {
		x.failed(inv, fmt.Errorf("malformed Lambda proxy response: %.200q", data))
		return
	}
	body := []byte(out.Body)
	if out.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(out.Body); err != nil {
			x.failed(inv, fmt.Errorf("malformed Lambda proxy response: body: %w", err))
			return
		}
	}
	h := x.w.Header()
	for k, v := range out.Headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	for k, vs := range out.MultiValueHeaders {
		h[textproto.CanonicalMIMEHeaderKey(k)] = vs
	}
	for _, c := range out.Cookies {
		h.Add("Set-Cookie", c)
	}
	dropHopHeaders(h)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.setGatewayHeaders()
	x.writeHeader(out.StatusCode)
	if _, err := x.w.Write(body); err != nil {
		x.err = fmt.Errorf("client gone: %w", err)
	}
}

// dropHopHeaders removes what belongs to one connection, not the response.
func dropHopHeaders(h http.Header) {
	for _, k := range [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		delete(h, k)
	}
}

// setGatewayHeaders adds the ids API Gateway puts on every response.
func (x *exchange) setGatewayHeaders() {
	h := x.w.Header()
	h.Set("X-Amzn-Requestid", x.id.gateway)
	h.Set("X-Amz-Apigw-Id", x.id.extended)
	h.Set("X-Amzn-Trace-Id", x.id.traceID)
}

func (x *exchange) writeHeader(code int) {
	if code == 0 {
		code = http.StatusOK
	}
	x.status = code
	x.w.WriteHeader(code)
}

// gatewayError answers as API Gateway does when it, not the function,
// produces the response.
func (x *exchange) gatewayError(code int, msg string) {
	h := x.w.Header()
	clear(h)
	h.Set("Content-Type", "application/json")
	x.setGatewayHeaders()
	x.writeHeader(code)
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	x.w.Write(b)
}

func (x *exchange) logDone() {
	level := slog.LevelInfo
	if x.err != nil || x.status >= 500 {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("request_id", x.id.gateway),
		slog.String("lambda_request_id", x.id.lambda),
		slog.String("method", x.r.Method),
		slog.String("path", x.r.URL.Path),
		slog.Int("status", x.status),
		slog.Bool("stream", x.stream),
		slog.Int("sandbox", x.sandbox),
		slog.Duration("duration", time.Since(x.start)),
	}
	if x.err != nil {
		attrs = append(attrs, slog.String("error", x.err.Error()))
	}
	x.e.log.LogAttrs(context.Background(), level, "lambdaemu: request", attrs...)
}
