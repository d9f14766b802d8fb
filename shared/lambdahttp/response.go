package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Error types a streamed response ends with when the handler panics after
// the header went out. aws-lambda-go sends them to the Runtime API in the
// Lambda-Runtime-Function-Error-Type trailer; API Gateway then cuts the
// client's connection, as net/http does for a panicking handler.
const (
	ErrorTypePanic = "HandlerPanic"   // any panic but http.ErrAbortHandler
	ErrorTypeAbort = "HandlerAborted" // panic(http.ErrAbortHandler)
)

// serve runs h and returns what it panicked with, if anything.
func (a *adapter) serve(h http.Handler, w http.ResponseWriter, r *http.Request) (panicked any) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
			if p == http.ErrAbortHandler {
				return
			}
			buf := make([]byte, 16<<10)
			buf = buf[:runtime.Stack(buf, false)]
			ids, _ := FromContext(r.Context())
			a.log.Error("lambdahttp: handler panicked",
				slog.String("request_id", ids.Lambda),
				slog.String("gateway_request_id", ids.Gateway),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Any("panic", p),
				slog.String("stack", string(buf)))
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

func panicError(p any) error {
	if p == http.ErrAbortHandler {
		return messages.InvokeResponse_Error{Type: ErrorTypeAbort, Message: "handler aborted the response"}
	}
	return messages.InvokeResponse_Error{Type: ErrorTypePanic, Message: fmt.Sprint(p)}
}

// internalError is what a client gets when the handler panics before any
// part of the response went out.
func internalError(w http.ResponseWriter) {
	h := w.Header()
	clear(h)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, "Internal Server Error\n")
}

// serveStream starts h and returns the streaming response as soon as the
// header is known; the body follows through a pipe.
func (a *adapter) serveStream(k eventKind, h http.Handler, r *http.Request, cancel context.CancelCauseFunc) any {
	pr, pw := io.Pipe()
	w := &streamWriter{
		kind:   k,
		header: make(http.Header),
		head:   r.Method == http.MethodHead,
		pr:     pr,
		pw:     pw,
		ready:  make(chan any, 1),
		cancel: cancel,
	}
	go func() {
		p := a.serve(h, w, r)
		cancel(nil)
		switch {
		case p == nil:
			w.Flush() // a handler that wrote nothing still answers
			pw.Close()
		case !w.sentHeader:
			w.header, w.wroteHeader = make(http.Header), false
			internalError(w)
			pw.Close()
		default:
			pw.CloseWithError(panicError(p))
		}
	}()
	return <-w.ready
}

// streamWriter sends the status and header on the first Write or Flush, and
// each Write straight into the pipe the runtime reads: nothing is buffered
// here, so a Write returns once the runtime has taken the bytes, and Flush
// has nothing to push.
type streamWriter struct {
	kind        eventKind
	header      http.Header
	sent        http.Header // header as of WriteHeader, as net/http keeps it
	wroteHeader bool
	sentHeader  bool
	status      int
	head        bool
	pr          *io.PipeReader
	pw          *io.PipeWriter
	ready       chan any // gets the response once
	cancel      context.CancelCauseFunc
	err         error // first failed write
}

var _ http.Flusher = (*streamWriter)(nil)

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(code int) {
	checkWriteHeaderCode(code)
	if w.wroteHeader || informational(code) {
		return
	}
	w.wroteHeader, w.status, w.sent = true, code, w.header.Clone()
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if !w.sentHeader {
		w.sendHeader(p)
	}
	if w.head {
		return len(p), nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if len(p) == 0 {
		return 0, nil // an empty pipe write would wait for a reader
	}
	n, err := w.pw.Write(p)
	if err != nil {
		w.err = fmt.Errorf("lambdahttp: response body: %w", err)
		w.cancel(w.err)
		return n, w.err
	}
	return n, nil
}

// Flush sends the header if it has not gone yet.
func (w *streamWriter) Flush() {
	w.WriteHeader(http.StatusOK)
	if !w.sentHeader {
		w.sendHeader(nil)
	}
}

// FlushError is Flush for http.ResponseController: it reports a response
// the runtime stopped reading.
func (w *streamWriter) FlushError() error {
	w.Flush()
	return w.err
}

// sendHeader hands the response, prelude first, to the runtime; p is the
// first body bytes, for sniffing.
func (w *streamWriter) sendHeader(p []byte) {
	w.sentHeader = true
	if len(p) > 0 && bodyAllowed(w.status) {
		sniff(w.sent, p)
	}
	if w.kind == kindREST {
		w.ready <- &events.APIGatewayProxyStreamingResponse{
			StatusCode:        w.status,
			MultiValueHeaders: w.sent,
			Body:              w.pr,
		}
		return
	}
	single, cookies := joinHeader(w.sent)
	w.ready <- &events.LambdaFunctionURLStreamingResponse{
		StatusCode: w.status,
		Headers:    single,
		Cookies:    cookies,
		Body:       w.pr,
	}
}

// serveBuffered runs h to completion and returns the whole response.
func (a *adapter) serveBuffered(k eventKind, h http.Handler, r *http.Request) any {
	w := &bufferWriter{header: make(http.Header), head: r.Method == http.MethodHead}
	if p := a.serve(h, w, r); p != nil {
		// Nothing has left yet, so the client gets a clean 500 rather than
		// a truncated body.
		w = &bufferWriter{header: make(http.Header), head: w.head}
		internalError(w)
	}
	w.Flush()
	if _, ok := w.sent["Content-Type"]; !ok && w.body.Len() > 0 {
		sniff(w.sent, w.body.Bytes())
	}
	body, b64 := encodeBody(w.sent.Get("Content-Type"), w.body.Bytes())
	if k == kindREST {
		return events.APIGatewayProxyResponse{
			StatusCode:        w.status,
			MultiValueHeaders: w.sent,
			Body:              body,
			IsBase64Encoded:   b64,
		}
	}
	single, cookies := joinHeader(w.sent)
	return events.LambdaFunctionURLResponse{
		StatusCode:      w.status,
		Headers:         single,
		Cookies:         cookies,
		Body:            body,
		IsBase64Encoded: b64,
	}
}

// bufferWriter keeps the whole response; Flush only fixes the header, so
// handlers that stream still work, their events arriving all at once.
type bufferWriter struct {
	header http.Header
	sent   http.Header // header as of WriteHeader, as net/http keeps it
	status int
	head   bool
	body   bytes.Buffer
}

var _ http.Flusher = (*bufferWriter)(nil)

func (w *bufferWriter) Header() http.Header { return w.header }

func (w *bufferWriter) WriteHeader(code int) {
	checkWriteHeaderCode(code)
	if w.status != 0 || informational(code) {
		return
	}
	w.status, w.sent = code, w.header.Clone()
}

func (w *bufferWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.head {
		return len(p), nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	return w.body.Write(p)
}

func (w *bufferWriter) Flush() { w.WriteHeader(http.StatusOK) }

// IsText reports whether a body of this Content-Type travels in the proxy
// JSON as a plain string rather than base64: text/*, JSON, XML, JavaScript,
// form, YAML, NDJSON and GraphQL types, and any type with a +json or +xml
// suffix. The media type is matched without parameters and ignoring case.
// Callers also send bodies that are not valid UTF-8 as base64, since a JSON
// string cannot carry them intact.
func IsText(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	if len(mt) >= 5 && strings.EqualFold(mt[:5], "text/") {
		return true
	}
	if len(mt) >= 5 {
		if s := mt[len(mt)-5:]; strings.EqualFold(s, "+json") {
			return true
		}
	}
	if len(mt) >= 4 && strings.EqualFold(mt[len(mt)-4:], "+xml") {
		return true
	}
	for _, t := range [...]string{
		"application/json", "application/xml", "application/javascript",
		"application/x-www-form-urlencoded", "application/yaml", "application/x-yaml",
		"application/x-ndjson", "application/ndjson", "application/jsonl", "application/graphql",
	} {
		if strings.EqualFold(mt, t) {
			return true
		}
	}
	return false
}

// encodeBody applies the IsText rule to a whole body.
func encodeBody(contentType string, b []byte) (string, bool) {
	if len(b) == 0 {
		return "", false
	}
	if IsText(contentType) && utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// joinHeader splits a header into payload 2.0's single-valued headers
// (values comma-joined) and cookies.
func joinHeader(h http.Header) (map[string]string, []string) {
	if len(h) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(h))
	var cookies []string
	for k, vs := range h {
		switch {
		case k == "Set-Cookie":
			cookies = vs
		case len(vs) == 1:
			single[k] = vs[0]
		case len(vs) > 1:
			single[k] = strings.Join(vs, ",")
		}
	}
	return single, cookies
}

// sniff sets Content-Type from the first bytes of the body when the handler
// set none, as net/http does; a handler that maps Content-Type to nil opts
// out, as with net/http.
func sniff(h http.Header, p []byte) {
	if _, ok := h["Content-Type"]; ok || len(h["Transfer-Encoding"]) > 0 {
		return
	}
	h.Set("Content-Type", http.DetectContentType(p))
}

func informational(code int) bool { return code >= 100 && code <= 199 && code != 101 }

func bodyAllowed(code int) bool {
	return (code < 100 || code > 199) && code != http.StatusNoContent && code != http.StatusNotModified
}

// checkWriteHeaderCode panics on codes net/http also refuses.
func checkWriteHeaderCode(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
}
