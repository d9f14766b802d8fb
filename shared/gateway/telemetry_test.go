package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// records keeps copies of the records a gateway hands over; done receives
// each request's as it ends.
type records struct {
	mu       sync.Mutex
	attempts []telemetry.Attempt
	done     chan telemetry.Request
}

func newRecords() *records { return &records{done: make(chan telemetry.Request, 16)} }

func (r *records) Attempt(_ context.Context, a *telemetry.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, *a)
}

func (r *records) Request(_ context.Context, rec *telemetry.Request) { r.done <- *rec }

func (r *records) next(t *testing.T) telemetry.Request {
	t.Helper()
	select {
	case rec := <-r.done:
		return rec
	case <-time.After(10 * time.Second):
		t.Fatal("no request record")
	}
	return telemetry.Request{}
}

const chatUsage = `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}`

// TestRecordOfARequest: one record per attempt and per request, with
// the key, route, backend, provider, tokens and attempts; a backend that
// failed first is an attempt with its error kind.
func TestRecordOfARequest(t *testing.T) {
	failing := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	}))
	ok := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(chatUsage))
	}))
	recs := newRecords()
	g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(failing, ok)}),
		gatewaytest.WithConfig(gateway.Config{Telemetry: recs}))
	resp, body := g.Post(t, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	rec := recs.next(t)
	want := telemetry.Request{
		ID: resp.Header.Get("X-Request-Id"), Method: "POST", Path: "/v1/chat/completions",
		KeyID: rec.KeyID, Route: "default/m", Backend: "default/m-1", Provider: "openai", Operation: "chat",
		Model: "m", Status: 200, InputTokens: 7, OutputTokens: 3, CachedTokens: 2, ReasoningTokens: 1,
		Start: rec.Start, Latency: rec.Latency, Attempts: 2,
	}
	if rec.KeyID == "" || !strings.Contains(g.Key, rec.KeyID) {
		t.Errorf("key id %q is not the key's (%s)", rec.KeyID, g.Key)
	}
	if strings.Contains(rec.KeyID, g.Key[len(g.Key)-8:]) {
		t.Errorf("key id %q holds the secret", rec.KeyID)
	}
	if rec != want {
		t.Errorf("record\n%+v\nwant\n%+v", rec, want)
	}
	recs.mu.Lock()
	defer recs.mu.Unlock()
	if len(recs.attempts) != 2 {
		t.Fatalf("attempts %+v", recs.attempts)
	}
	if a := recs.attempts[0]; a.Route != "default/m" || a.Backend != "default/m-0" || a.Status != 503 || a.ErrorKind == "" || a.Provider != "openai" {
		t.Errorf("first attempt %+v", a)
	}
	if a := recs.attempts[1]; a.Route != "default/m" || a.Backend != "default/m-1" || a.Status != 200 || a.ErrorKind != "" {
		t.Errorf("second attempt %+v", a)
	}
}

// TestClientClosed: a client that goes away, before the answer starts or
// in the middle of a stream, is recorded as client_closed with status
// 499 and logged as information, never as a 5xx warning.
func TestClientClosed(t *testing.T) {
	tests := []struct {
		name   string
		stream bool
	}{
		{"before the answer", false},
		{"mid-stream", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arrived, release := make(chan struct{}), make(chan struct{})
			up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.stream {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Write([]byte(`data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}` + "\n\n"))
					w.(http.Flusher).Flush()
				}
				close(arrived)
				select { // hang until the gateway gives up or the test ends
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(func() { close(release) })
			var logs syncBuffer
			recs := newRecords()
			rec := telemetry.New(telemetry.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Sinks: []telemetry.Sink{recs}})
			g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": {route.Backend{Provider: "openai", Endpoint: up}}}),
				gatewaytest.WithConfig(gateway.Config{Telemetry: rec}))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			body := `{"model":"m","stream":` + map[bool]string{true: "true", false: "false"}[tt.stream] + `,"messages":[{"role":"user","content":"hi"}]}`
			req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+g.Key)
			errc := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					bufio.NewReader(resp.Body).ReadString('\n') // the first event
					cancel()
					resp.Body.Close()
				}
				errc <- err
			}()
			<-arrived
			if !tt.stream {
				cancel()
			}
			<-errc
			got := recs.next(t)
			if got.Status != telemetry.StatusClientClosed || got.ErrorKind != telemetry.KindClientClosed {
				t.Errorf("status %d kind %q, want 499 client_closed", got.Status, got.ErrorKind)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, logs.Bytes())
			}
			if line["level"] != "INFO" || line["status"] != 499.0 || line["error_kind"] != "client_closed" {
				t.Errorf("log line %s", logs.Bytes())
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
