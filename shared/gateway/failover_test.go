package gateway_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

// faulty is an upstream that misbehaves one way, counting the requests it
// gets; release lets requests it holds go.
type faulty struct {
	mode    string
	hits    atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newFaulty(t *testing.T, mode string) (*faulty, string) {
	f := &faulty{mode: mode, release: make(chan struct{})}
	url := gatewaytest.Upstream(t, f)
	t.Cleanup(f.free) // before the server closes: it waits for held requests
	return f, url + "/v1"
}

func (f *faulty) free() { f.once.Do(func() { close(f.release) }) }

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	io.Copy(io.Discard, r.Body) // so the server notices when the gateway gives up
	switch f.mode {
	case "429":
		w.Header().Set("Retry-After", "30")
		http.Error(w, `{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}`, http.StatusTooManyRequests)
	case "500", "503":
		code := map[string]int{"500": 500, "503": 503}[f.mode]
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":{"message":"down","type":"server_error"}}`, code)
	case "529":
		http.Error(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, 529)
	case "hang":
		select { // before any header
		case <-r.Context().Done():
		case <-f.release:
		}
	case "reset":
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	case "malformed":
		// A 200 whose body is cut, on a connection that then closes cleanly.
		conn, buf, _ := http.NewResponseController(w).Hijack()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
			`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis`)
		buf.Flush()
		conn.Close()
	case "stall", "cut":
		w.Header().Set("Content-Type", "text/event-stream")
		for _, s := range []string{"Hel", "lo"} {
			w.Write([]byte(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"` + s + `"},"finish_reason":null}]}` + "\n\n"))
		}
		http.NewResponseController(w).Flush()
		if f.mode == "cut" {
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
			return
		}
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	}
}

// clock is a settable gateway clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)} }

// threeBackends builds a gateway before a route of three backends, tried
// in order (the random draw is always 0), under pol.
func threeBackends(t *testing.T, pol *route.BackendPolicy, c *clock, urls ...string) *gatewaytest.Gateway {
	tab := gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(urls...)})
	tab.Rules[0].Balance = pol
	return gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Now: c.Now, Rand: func(int) int { return 0 }}))
}

const chat = `{"model":"m","messages":[{"role":"user","content":"ping"}]}`
const streamPing = `{"model":"m","stream":true,"messages":[{"role":"user","content":"ping"}]}`

// TestFaultyBackendFailsOver: whatever way the first backend fails before
// the first byte, the client gets the next backend's answer, with no trace
// of the failure (no Retry-After on the 200), and the failing backend is
// left alone afterwards: its breaker is open or it is cooling down.
func TestFaultyBackendFailsOver(t *testing.T) {
	tests := []struct {
		mode   string
		stream bool
	}{
		{"429", false}, {"500", false}, {"503", false}, {"529", false},
		{"hang", true}, {"hang", false}, {"reset", false}, {"malformed", false},
	}
	for _, tt := range tests {
		name := tt.mode
		if tt.stream {
			name += "/stream"
		}
		t.Run(name, func(t *testing.T) {
			bad, badURL := newFaulty(t, tt.mode)
			good := &gatewaytest.Recorder{}
			goodURL := gatewaytest.Upstream(t, good.Wrap(&mock.OpenAI{})) + "/v1"
			pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 1},
				Timeouts: route.Timeouts{FirstByte: 300 * time.Millisecond}}
			g := threeBackends(t, pol, newClock(), badURL, goodURL, goodURL+"/")
			body := chat
			if tt.stream {
				body = streamPing
			}
			for i := range 3 {
				resp, out := g.Post(t, "/v1/chat/completions", body)
				if resp.StatusCode != 200 || !strings.Contains(out, "ping") {
					t.Fatalf("request %d: status %d: %s", i, resp.StatusCode, out)
				}
				if b := resp.Header.Get("X-Sluice-Backend"); b != "default/m-1" {
					t.Errorf("request %d: answered by %q, want default/m-1", i, b)
				}
				if ra := resp.Header.Get("Retry-After"); ra != "" {
					t.Errorf("request %d: a 200 carries Retry-After: %s from the failed attempt", i, ra)
				}
			}
			if n := bad.hits.Load(); n != 1 {
				t.Errorf("the failing backend got %d requests, want 1: it should be left alone after failing", n)
			}
		})
	}
}

// TestStreamFailureAfterFirstByte: a stream that stalls or is cut after its
// first chunks ends with an error event in the client's protocol, and the
// backend is marked failed.
func TestStreamFailureAfterFirstByte(t *testing.T) {
	for _, mode := range []string{"stall", "cut"} {
		t.Run(mode, func(t *testing.T) {
			_, badURL := newFaulty(t, mode)
			pol := &route.BackendPolicy{Timeouts: route.Timeouts{Idle: 200 * time.Millisecond}}
			g := threeBackends(t, pol, newClock(), badURL)
			resp, out := g.Post(t, "/v1/chat/completions", streamPing)
			if resp.StatusCode != 200 || !strings.Contains(out, `"Hel"`) {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			if !strings.Contains(out, `"error"`) {
				t.Fatalf("the stream ended without an error event:\n%s", out)
			}
			if mode == "stall" && !strings.Contains(out, "sent nothing for 200ms") {
				t.Errorf("the error event does not say the backend went silent:\n%s", out)
			}
			if h := g.Balancer().Health("default/m", pol); h.Failures != 1 {
				t.Errorf("backend health %+v, want one failure recorded", h)
			}
		})
	}
}

// TestStalledStreamAnthropicClient: an Anthropic client's stalled stream
// ends with Anthropic's error event, read by the official SDK.
func TestStalledStreamAnthropicClient(t *testing.T) {
	_, badURL := newFaulty(t, "stall")
	pol := &route.BackendPolicy{Timeouts: route.Timeouts{Idle: 200 * time.Millisecond}}
	g := threeBackends(t, pol, newClock(), badURL)
	client := g.Anthropic()
	stream := client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
		Model: "m", MaxTokens: 16,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("ping"))},
	})
	var text strings.Builder
	for stream.Next() {
		if d, ok := stream.Current().AsAny().(anthropic.ContentBlockDeltaEvent); ok {
			text.WriteString(d.Delta.Text)
		}
	}
	if text.String() != "Hello" {
		t.Errorf("text %q before the stall, want Hello", text.String())
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "sent nothing for 200ms") {
		t.Errorf("stream error %v, want the idle timeout", err)
	}
}

// TestOutageIsBoundedByRetryBudget: with every backend down, retries stay
// within the route's budget instead of tripling upstream traffic; the
// breakers are kept shut to measure the budget alone.
func TestOutageIsBoundedByRetryBudget(t *testing.T) {
	var urls []string
	var bad []*faulty
	for range 3 {
		f, u := newFaulty(t, "503")
		bad, urls = append(bad, f), append(urls, u)
	}
	pol := &route.BackendPolicy{RetryBudget: 0.2, MinRetries: 5,
		Breaker: route.BreakerPolicy{ConsecutiveFailures: 1 << 20, MinRequests: 1 << 20}}
	g := threeBackends(t, pol, newClock(), urls...)
	const requests = 50
	for range requests {
		resp, _ := g.Post(t, "/v1/chat/completions", chat)
		if resp.StatusCode != 503 {
			t.Fatalf("status %d, want the backends' 503", resp.StatusCode)
		}
		if resp.Header.Get("Retry-After") != "1" {
			t.Errorf("the failed answer lost the backend's Retry-After")
		}
	}
	var hits int64
	for _, f := range bad {
		hits += f.hits.Load()
	}
	if max := int64(requests*12/10 + 5); hits > max || hits <= requests {
		t.Errorf("%d upstream requests for %d client requests; want more than %d and at most %d", hits, requests, requests, max)
	}
}

// TestOutageWithDefaults: with the default policy the breakers open and an
// outage costs each backend a handful of requests, not a third of all.
func TestOutageWithDefaults(t *testing.T) {
	var urls []string
	var bad []*faulty
	for range 3 {
		f, u := newFaulty(t, "503")
		bad, urls = append(bad, f), append(urls, u)
	}
	g := threeBackends(t, nil, newClock(), urls...)
	const requests = 60
	for range requests {
		g.Post(t, "/v1/chat/completions", chat)
	}
	var hits int64
	for _, f := range bad {
		hits += f.hits.Load()
	}
	if hits > requests+10 {
		t.Errorf("%d upstream requests for %d client requests", hits, requests)
	}
}

// TestBreakerProbesAndCloses: an open breaker lets one probe through after
// its cool-down; the probe's success brings the backend back.
func TestBreakerProbesAndCloses(t *testing.T) {
	c := newClock()
	var down atomic.Bool
	down.Store(true)
	flaky := &gatewaytest.Recorder{}
	flakyURL := gatewaytest.Upstream(t, flaky.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, `{"error":{"message":"down"}}`, http.StatusBadGateway)
			return
		}
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))) + "/v1"
	goodURL := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1"
	pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 2, CoolDown: 10 * time.Second}}
	g := threeBackends(t, pol, c, flakyURL, goodURL)
	served := func() string {
		resp, out := g.Post(t, "/v1/chat/completions", chat)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, out)
		}
		return resp.Header.Get("X-Sluice-Backend")
	}
	steps := []struct {
		advance  time.Duration
		down     bool
		want     string
		wantHits int
		breaker  string
	}{
		{0, true, "default/m-1", 1, "closed"},
		{0, true, "default/m-1", 2, "open"},
		{0, true, "default/m-1", 2, "open"},                   // left alone
		{10 * time.Second, true, "default/m-1", 3, "open"},    // the probe fails
		{10 * time.Second, false, "default/m-0", 4, "closed"}, // the probe succeeds
		{0, false, "default/m-0", 5, "closed"},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		down.Store(s.down)
		if got := served(); got != s.want {
			t.Errorf("step %d: served by %s, want %s", i, got, s.want)
		}
		if n := flaky.Count(); n != s.wantHits {
			t.Errorf("step %d: flaky backend hit %d times, want %d", i, n, s.wantHits)
		}
		if h := g.Balancer().Health("default/m-0", pol); h.Breaker != s.breaker {
			t.Errorf("step %d: breaker %s, want %s", i, h.Breaker, s.breaker)
		}
	}
}

// TestPriorityTiersFallThroughAndComeBack with the official OpenAI SDK.
func TestPriorityTiersFallThroughAndComeBack(t *testing.T) {
	c := newClock()
	var down atomic.Bool
	primary := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, `{"error":{"message":"down"}}`, http.StatusServiceUnavailable)
			return
		}
		(&mock.OpenAI{}).ServeHTTP(w, r)
	})) + "/v1"
	backup := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1"
	pol := &route.BackendPolicy{Strategy: route.StrategyPriority, Tiers: map[string]int{"default/m-1": 1},
		Breaker: route.BreakerPolicy{ConsecutiveFailures: 1, CoolDown: 5 * time.Second}}
	// The backup comes first in the rule: only its tier keeps it back.
	g := threeBackends(t, pol, c, backup, primary)
	pol.Tiers = map[string]int{"default/m-0": 1}
	client := g.OpenAI()
	served := func() string {
		var resp *http.Response
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("ping")},
		}, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Get("X-Sluice-Backend")
	}
	steps := []struct {
		advance time.Duration
		down    bool
		want    string
	}{
		{0, false, "default/m-1"},
		{0, true, "default/m-0"},                // falls through
		{0, false, "default/m-0"},               // the primary's breaker is open
		{5 * time.Second, false, "default/m-1"}, // probed, closed: back
		{0, false, "default/m-1"},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		down.Store(s.down)
		if got := served(); got != s.want {
			t.Errorf("step %d: served by %s, want %s", i, got, s.want)
		}
	}
}

// TestSingleBackendRetriedAfterBackoff: a route's only backend is retried
// once it asked for a short wait.
func TestSingleBackendRetriedAfterBackoff(t *testing.T) {
	var n atomic.Int64
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After-Ms", "50")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
			return
		}
		(&mock.OpenAI{}).ServeHTTP(w, r)
	})) + "/v1"
	g := threeBackends(t, nil, newClock(), up)
	resp, out := g.Post(t, "/v1/chat/completions", chat)
	if resp.StatusCode != 200 || n.Load() != 2 {
		t.Fatalf("status %d after %d attempts: %s", resp.StatusCode, n.Load(), out)
	}
}

// TestFallbackToAnotherModel: when the rule's backends fail, the policy's
// fallback serves another model on another provider, and the answer says
// so in its model field and x-sluice-backend; read with the official SDK.
func TestFallbackToAnotherModel(t *testing.T) {
	_, badURL := newFaulty(t, "503")
	claude := &gatewaytest.Recorder{}
	claudeURL := gatewaytest.Upstream(t, claude.Wrap(&mock.Anthropic{}))
	tab := gatewaytest.Table(t, gatewaytest.Routes{"gpt-4o": gatewaytest.OpenAIAt(badURL)})
	tab.Backends = append(tab.Backends, route.Backend{Name: "default/claude", Provider: "anthropic", Endpoint: claudeURL + "/v1"})
	tab.Rules[0].Balance = &route.BackendPolicy{Fallbacks: []route.Fallback{{Backend: 1, Model: "claude-sonnet-4-5"}}}
	g := gatewaytest.New(t, gatewaytest.Prepared(t, tab))
	var resp *http.Response
	client := g.OpenAI()
	c, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("ping")},
	}, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != "claude-sonnet-4-5" || resp.Header.Get("X-Sluice-Backend") != "default/claude" {
		t.Errorf("model %q from %q, want claude-sonnet-4-5 from default/claude", c.Model, resp.Header.Get("X-Sluice-Backend"))
	}
	if sent := claude.Last(t); !strings.Contains(string(sent.Body), `"model":"claude-sonnet-4-5"`) {
		t.Errorf("the fallback was asked %s", sent.Body)
	}
}

// TestClientErrorIsNotRetried: a 400 from the backend reaches the client
// as it is; no other backend is asked.
func TestClientErrorIsNotRetried(t *testing.T) {
	var hits atomic.Int64
	bad := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, `{"error":{"message":"bad messages","type":"invalid_request_error"}}`, 400)
	})) + "/v1"
	g := threeBackends(t, nil, newClock(), bad, bad+"/", bad+"//")
	resp, _ := g.Post(t, "/v1/chat/completions", chat)
	if resp.StatusCode != 400 || hits.Load() != 1 {
		t.Errorf("status %d after %d attempts, want 400 after 1", resp.StatusCode, hits.Load())
	}
}

// TestTableSwapKeepsLatency: the balancer's state is keyed by backend
// name, so a new route table naming the same backend, at another index,
// keeps what was learnt about it, and least-latency routing goes on.
func TestTableSwapKeepsLatency(t *testing.T) {
	slow := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // before its headers: a slow first byte
		(&mock.OpenAI{}).ServeHTTP(w, r)
	})) + "/v1"
	fast := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1"
	pol := &route.BackendPolicy{Strategy: route.StrategyLeastLatency}
	table := func(first, second string) *route.Table {
		tab := gatewaytest.Table(t, gatewaytest.Routes{"m": {
			{Name: "ns/" + first, Provider: "openai", Endpoint: map[string]string{"slow": slow, "fast": fast}[first]},
			{Name: "ns/" + second, Provider: "openai", Endpoint: map[string]string{"slow": slow, "fast": fast}[second]},
		}})
		tab.Rules[0].Balance = pol
		return tab
	}
	tables := &swappable{}
	tables.t.Store(table("slow", "fast"))
	g := gatewaytest.New(t, nil, gatewaytest.WithStore(tables, anyKey{}), gatewaytest.WithConfig(gateway.Config{Now: time.Now}))
	post := func() string {
		resp, out := g.Do(t, "POST", "/v1/chat/completions", streamPing, "Authorization", "Bearer sk-any")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, out)
		}
		return resp.Header.Get("X-Sluice-Backend")
	}
	post() // each backend is tried once: no latency known yet
	post()
	before := g.Balancer().Latency("ns/fast", "m")
	if before == 0 || g.Balancer().Latency("ns/slow", "m") == 0 {
		t.Fatal("no latency learnt")
	}
	tables.t.Store(table("fast", "slow"))
	if got := g.Balancer().Latency("ns/fast", "m"); got != before {
		t.Errorf("latency after the swap %v, want %v", got, before)
	}
	for i := range 3 {
		if b := post(); b != "ns/fast" {
			t.Errorf("request %d after the swap went to %s, want the faster ns/fast", i, b)
		}
	}
}

type swappable struct{ t atomic.Pointer[route.Table] }

func (s *swappable) Table() *route.Table { return s.t.Load() }

// anyKey accepts every presented key.
type anyKey struct{}

func (anyKey) Check(context.Context, string) (ledger.Key, error) { return ledger.Key{ID: "k"}, nil }

// TestContextLengthFallsBackToLargerContext: a prompt too long for the
// route's backend goes to the policy's larger-context fallback, which
// serves nothing else.
func TestContextLengthFallsBackToLargerContext(t *testing.T) {
	small := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1" // model error-context: context_length_exceeded
	large := &gatewaytest.Recorder{}
	largeURL := gatewaytest.Upstream(t, large.Wrap(&mock.Anthropic{}))
	tab := gatewaytest.Table(t, gatewaytest.Routes{"error-context": gatewaytest.OpenAIAt(small)})
	tab.Backends = append(tab.Backends, route.Backend{Name: "default/long", Provider: "anthropic", Endpoint: largeURL + "/v1"})
	tab.Rules[0].Balance = &route.BackendPolicy{Fallbacks: []route.Fallback{{Backend: 1, Model: "claude-long", ContextOnly: true}}}
	g := gatewaytest.New(t, gatewaytest.Prepared(t, tab))
	resp, out := g.Post(t, "/v1/chat/completions", `{"model":"error-context","messages":[{"role":"user","content":"ping"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Backend") != "default/long" || !strings.Contains(out, `"model":"claude-long"`) {
		t.Fatalf("status %d from %s: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Backend"), out)
	}
	if large.Count() != 1 {
		t.Errorf("the larger-context backend was asked %d times, want 1", large.Count())
	}
}
