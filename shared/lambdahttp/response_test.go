package lambdahttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

// withMethod returns the fixture with its HTTP method replaced.
func withMethod(t *testing.T, raw json.RawMessage, method string) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["httpMethod"]; ok {
		m["httpMethod"] = method
	} else {
		m["requestContext"].(map[string]any)["http"].(map[string]any)["method"] = method
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// urlHeaders is the payload 2.0 form of a header, as the tests expect it:
// values comma-joined, Set-Cookie moved to cookies.
func urlHeaders(h http.Header) (map[string]string, []string) {
	single := map[string]string{}
	var cookies []string
	for k, vs := range h {
		if k == "Set-Cookie" {
			cookies = vs
			continue
		}
		single[k] = strings.Join(vs, ",")
	}
	return single, cookies
}

func TestBuffered(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		handler http.HandlerFunc
		status  int
		header  http.Header
		body    string
		base64  bool
	}{
		{
			name: "text with multi-value headers and cookies",
			handler: func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Content-Type", "text/plain; charset=utf-8")
				h.Add("X-Multi", "a")
				h.Add("X-Multi", "b")
				h.Add("Set-Cookie", "a=1")
				h.Add("Set-Cookie", "b=2")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "hello")
			},
			status: 201,
			header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Multi": {"a", "b"}, "Set-Cookie": {"a=1", "b=2"}},
			body:   "hello",
		},
		{
			name: "json stays text",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"object":"list"}`)
			},
			status: 200,
			header: http.Header{"Content-Type": {"application/json"}},
			body:   `{"object":"list"}`,
		},
		{
			name: "binary is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				w.Write([]byte("\x89PNG\x00\x01"))
			},
			status: 200,
			header: http.Header{"Content-Type": {"image/png"}},
			body:   "iVBORwAB",
			base64: true,
		},
		{
			name: "invalid utf-8 in a text type is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte("\"\xff\""))
			},
			status: 200,
			header: http.Header{"Content-Type": {"application/json"}},
			body:   "Iv8i",
			base64: true,
		},
		{
			name: "content type sniffed as net/http does",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<html><body>hi</body></html>")
			},
			status: 200,
			header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			body:   "<html><body>hi</body></html>",
		},
		{
			name: "header changes after the first write are ignored",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "a")
				w.Header().Set("X-Late", "1")
				io.WriteString(w, "b")
			},
			status: 200,
			header: http.Header{"Content-Type": {"text/plain"}},
			body:   "ab",
		},
		{
			name: "flush is accepted and changes nothing",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: 1\n\n")
				if err := http.NewResponseController(w).Flush(); err != nil {
					panic(err)
				}
				io.WriteString(w, "data: 2\n\n")
			},
			status: 200,
			header: http.Header{"Content-Type": {"text/event-stream"}},
			body:   "data: 1\n\ndata: 2\n\n",
		},
		{
			name:    "empty response",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			status:  200,
			header:  http.Header{},
		},
		{
			name: "no body with 204",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				if _, err := io.WriteString(w, "x"); !errors.Is(err, http.ErrBodyNotAllowed) {
					panic("write allowed on 204")
				}
			},
			status: 204,
			header: http.Header{},
		},
		{
			name:   "no body for HEAD",
			method: http.MethodHead,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "not sent")
			},
			status: 200,
			header: http.Header{"Content-Type": {"text/plain"}},
		},
		{
			name: "panic becomes a clean 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Partial", "1")
				io.WriteString(w, "partial")
				panic("boom")
			},
			status: 500,
			header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}},
			body:   "Internal Server Error\n",
		},
		{
			name: "abort becomes a clean 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "partial")
				panic(http.ErrAbortHandler)
			},
			status: 500,
			header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}},
			body:   "Internal Server Error\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("rest", func(t *testing.T) {
				ev := loadEvent(t, "rest-get.json")
				if tt.method != "" {
					ev = withMethod(t, ev, tt.method)
				}
				out, err := NewHandler(tt.handler, Config{Logger: discard()})(invokeCtx(), ev)
				if err != nil {
					t.Fatal(err)
				}
				want := events.APIGatewayProxyResponse{
					StatusCode: tt.status, MultiValueHeaders: tt.header, Body: tt.body, IsBase64Encoded: tt.base64,
				}
				if !reflect.DeepEqual(out, want) {
					t.Errorf("response\n got %#v\nwant %#v", out, want)
				}
			})
			t.Run("function url", func(t *testing.T) {
				ev := loadEvent(t, "url-post.json")
				if tt.method != "" {
					ev = withMethod(t, ev, tt.method)
				}
				out, err := NewHandler(tt.handler, Config{Logger: discard()})(invokeCtx(), ev)
				if err != nil {
					t.Fatal(err)
				}
				headers, cookies := urlHeaders(tt.header)
				if len(headers) == 0 {
					headers = nil
				}
				want := events.LambdaFunctionURLResponse{
					StatusCode: tt.status, Headers: headers, Cookies: cookies, Body: tt.body, IsBase64Encoded: tt.base64,
				}
				if !reflect.DeepEqual(out, want) {
					t.Errorf("response\n got %#v\nwant %#v", out, want)
				}
			})
		})
	}
}

func TestIsText(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"text/plain; charset=utf-8", true},
		{"TEXT/HTML", true},
		{"text/event-stream", true},
		{"application/json", true},
		{"Application/JSON; charset=utf-8", true},
		{"application/problem+json", true},
		{"image/svg+xml", true},
		{"application/x-www-form-urlencoded", true},
		{"application/x-ndjson", true},
		{"application/octet-stream", false},
		{"image/png", false},
		{"multipart/form-data; boundary=x", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsText(tt.ct); got != tt.want {
			t.Errorf("IsText(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}

// prelude is either streaming prelude; fields absent in one format stay zero.
type prelude struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
}

// within runs f and fails the test if it takes longer than a few seconds:
// a read that hangs means bytes are stuck in a buffer somewhere.
func within[T any](t *testing.T, what string, f func() (T, error)) T {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r.v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
	panic("unreachable")
}

// readPrelude reads the JSON prelude and the 8 NUL bytes after it.
func readPrelude(t *testing.T, br *bufio.Reader) prelude {
	t.Helper()
	raw := within(t, "read prelude", func() ([]byte, error) {
		b, err := br.ReadBytes(0)
		if err != nil {
			return nil, err
		}
		var nul [7]byte
		if _, err := io.ReadFull(br, nul[:]); err != nil {
			return nil, err
		}
		if nul != [7]byte{} {
			return nil, errors.New("prelude not followed by 8 NUL bytes")
		}
		return b[:len(b)-1], nil
	})
	var p prelude
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("prelude %q: %v", raw, err)
	}
	return p
}

func readN(t *testing.T, br *bufio.Reader, n int) string {
	t.Helper()
	return string(within(t, "read body part", func() ([]byte, error) {
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		return b, err
	}))
}

// invokeStream calls the streaming handler with a timeout (it returns once
// the header is known) and returns the response as a reader.
func invokeStream(t *testing.T, h http.Handler, fixture string) (io.Reader, *bufio.Reader) {
	t.Helper()
	resp := within(t, "invoke", func() (any, error) {
		return NewHandler(h, Config{Stream: true, Logger: discard()})(invokeCtx(), loadEvent(t, fixture))
	})
	r, ok := resp.(io.Reader)
	if !ok {
		t.Fatalf("response %T is not a reader", resp)
	}
	return r, bufio.NewReader(r)
}

// TestStreamEventByEvent checks each flushed event reaches the reader while
// the handler is still running, and that EOF comes only after the handler's
// after-response work.
func TestStreamEventByEvent(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		typ     any
		want    prelude
	}{
		{
			name: "rest", fixture: "rest-get.json", typ: &events.APIGatewayProxyStreamingResponse{},
			want: prelude{StatusCode: 200, MultiValueHeaders: map[string][]string{
				"Content-Type": {"text/event-stream"}, "X-Multi": {"1", "2"}, "Set-Cookie": {"a=1"},
			}},
		},
		{
			name: "function url", fixture: "url-post.json", typ: &events.LambdaFunctionURLStreamingResponse{},
			want: prelude{StatusCode: 200, Headers: map[string]string{
				"Content-Type": "text/event-stream", "X-Multi": "1,2",
			}, Cookies: []string{"a=1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release, finishWork := make(chan struct{}), make(chan struct{})
			var workDone atomic.Bool
			var reqCtx context.Context
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reqCtx = r.Context()
				w.Header().Set("Content-Type", "text/event-stream")
				w.Header().Add("X-Multi", "1")
				w.Header().Add("X-Multi", "2")
				w.Header().Add("Set-Cookie", "a=1")
				rc := http.NewResponseController(w)
				io.WriteString(w, "data: 1\n\n")
				if err := rc.Flush(); err != nil {
					panic(err)
				}
				<-release
				io.WriteString(w, "data: 2\n\n")
				rc.Flush()
				<-finishWork // usage records, cache writes...
				workDone.Store(true)
			})
			r, br := invokeStream(t, h, tt.fixture)
			if reflect.TypeOf(r) != reflect.TypeOf(tt.typ) {
				t.Fatalf("response type %T, want %T", r, tt.typ)
			}
			if got := readPrelude(t, br); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("prelude\n got %+v\nwant %+v", got, tt.want)
			}
			if got := readN(t, br, len("data: 1\n\n")); got != "data: 1\n\n" {
				t.Fatalf("first event %q", got)
			}
			close(release)
			if got := readN(t, br, len("data: 2\n\n")); got != "data: 2\n\n" {
				t.Fatalf("second event %q", got)
			}
			atEOF := make(chan bool, 1)
			go func() {
				io.Copy(io.Discard, br)
				atEOF <- workDone.Load()
			}()
			close(finishWork)
			select {
			case done := <-atEOF:
				if !done {
					t.Fatal("body reached EOF before the handler returned")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no EOF after the handler returned")
			}
			if ids, _ := FromContext(reqCtx); ids.Lambda != "lambda-req-1" || ids.Gateway == "" {
				t.Errorf("request ids %+v", ids)
			}
			if reqCtx.Err() == nil {
				t.Error("request context not canceled after ServeHTTP returned")
			}
		})
	}
}

// TestStreamSniffsAfterWriteHeader: as with net/http, WriteHeader alone
// sends nothing, so the first Write still decides the Content-Type.
func TestStreamSniffsAfterWriteHeader(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Header().Set("X-Late", "ignored")
		io.WriteString(w, "<html>hi</html>")
	})
	_, br := invokeStream(t, h, "url-post.json")
	want := prelude{StatusCode: 202, Headers: map[string]string{"Content-Type": "text/html; charset=utf-8"}}
	if got := readPrelude(t, br); !reflect.DeepEqual(got, want) {
		t.Errorf("prelude %+v, want %+v", got, want)
	}
}

// TestStreamFlushSendsHeader: the handler returns its response (so the
// runtime can send the prelude) on Flush, before any body byte.
func TestStreamFlushSendsHeader(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Accel", "1")
		w.WriteHeader(http.StatusAccepted)
		http.NewResponseController(w).Flush()
		<-release
		io.WriteString(w, "late")
	})
	_, br := invokeStream(t, h, "url-post.json")
	want := prelude{StatusCode: 202, Headers: map[string]string{"X-Accel": "1"}}
	if got := readPrelude(t, br); !reflect.DeepEqual(got, want) {
		t.Errorf("prelude %+v, want %+v", got, want)
	}
	close(release)
	if got := string(within(t, "read rest", func() ([]byte, error) { return io.ReadAll(br) })); got != "late" {
		t.Errorf("body %q", got)
	}
}

func TestStreamEnds(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		body    string
		errType string // error the body ends with, "" for a clean EOF
	}{
		{
			name:    "nothing written",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			status:  200,
		},
		{
			name: "panic after the first event",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "data: 1\n\n")
				http.NewResponseController(w).Flush()
				panic("boom")
			},
			status: 200, body: "data: 1\n\n", errType: ErrorTypePanic,
		},
		{
			name: "abort after the first event",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "data: 1\n\n")
				panic(http.ErrAbortHandler)
			},
			status: 200, body: "data: 1\n\n", errType: ErrorTypeAbort,
		},
		{
			name: "panic after WriteHeader but before any byte is a 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				panic("boom")
			},
			status: 500, body: "Internal Server Error\n",
		},
		{
			name: "panic before the header is a 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Partial", "1")
				panic("boom")
			},
			status: 500, body: "Internal Server Error\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, br := invokeStream(t, tt.handler, "rest-get.json")
			if p := readPrelude(t, br); p.StatusCode != tt.status {
				t.Errorf("status %d, want %d", p.StatusCode, tt.status)
			}
			type result struct {
				body []byte
				err  error
			}
			res := within(t, "read body", func() (result, error) {
				b, err := io.ReadAll(br)
				return result{b, err}, nil
			})
			if string(res.body) != tt.body {
				t.Errorf("body %q, want %q", res.body, tt.body)
			}
			var ie messages.InvokeResponse_Error
			switch {
			case tt.errType == "" && res.err != nil:
				t.Errorf("body ended with %v, want EOF", res.err)
			case tt.errType != "" && (!errors.As(res.err, &ie) || ie.Type != tt.errType):
				t.Errorf("body ended with %v, want error type %s", res.err, tt.errType)
			}
		})
	}
}

// TestStreamReaderGone: once the runtime stops reading, writes fail and the
// request's context ends, as when a client hangs up on net/http.
func TestStreamReaderGone(t *testing.T) {
	release := make(chan struct{})
	result := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "data: 1\n\n")
		<-release
		if _, err := io.WriteString(w, "data: 2\n\n"); err == nil {
			result <- errors.New("write after the reader closed succeeded")
			return
		}
		if err := http.NewResponseController(w).Flush(); err == nil {
			result <- errors.New("flush after the reader closed succeeded")
			return
		}
		<-r.Context().Done()
		result <- nil
	})
	r, br := invokeStream(t, h, "url-post.json")
	readPrelude(t, br)
	readN(t, br, len("data: 1\n\n"))
	r.(io.Closer).Close()
	close(release)
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler not told the reader went away")
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func BenchmarkHandler(b *testing.B) {
	body := bytes.Repeat([]byte(`{"id":"chatcmpl-1","object":"chat.completion.chunk"}`), 8)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_0123456789abcdef")
		w.Write(body)
	})
	for _, bc := range []struct {
		name    string
		fixture string
		stream  bool
	}{
		{"rest/buffered", "rest-get.json", false},
		{"rest/stream", "rest-get.json", true},
		{"url/buffered", "url-post.json", false},
		{"url/stream", "url-post.json", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ev := loadEvent(b, bc.fixture)
			fn := NewHandler(h, Config{Stream: bc.stream})
			ctx := invokeCtx()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := fn(ctx, ev)
				if err != nil {
					b.Fatal(err)
				}
				if r, ok := resp.(io.Reader); ok {
					if _, err := io.Copy(io.Discard, r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
