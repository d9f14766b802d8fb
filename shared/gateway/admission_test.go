package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
)

// recordingLimiter records the ids it admits.
type recordingLimiter struct {
	ids   []string
	inner *ledger.Limiter
}

func (l *recordingLimiter) Admit(ctx context.Context, r ledger.Request) (*ledger.Ticket, error) {
	l.ids = append(l.ids, r.ID)
	return l.inner.Admit(ctx, r)
}

func TestSettleID(t *testing.T) {
	tests := []struct {
		name     string
		settleID func(*http.Request) string
		want     func(requestID string) string
	}{
		{"the request id by default", nil, func(id string) string { return id }},
		{"the runtime's id when it has one", func(*http.Request) string { return "lambda_abc" }, func(string) string { return "lambda_abc" }},
		{"the request id when the runtime has none", func(*http.Request) string { return "" }, func(id string) string { return id }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := &recordingLimiter{inner: ledger.NewLimiter(ledger.LimiterConfig{}, nil, nil)}
			g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")}),
				gatewaytest.WithConfig(gateway.Config{Transport: cannedTransport{contentType: "application/json", body: benchChat}, Limiter: lim, SettleID: tt.settleID}))
			w := g.Serve("POST", "/v1/chat/completions", `{"model":"m","messages":[]}`)
			if w.Code != 200 || len(lim.ids) != 1 || lim.ids[0] != tt.want(w.Header().Get("X-Request-Id")) {
				t.Fatalf("status %d, admitted %v, request id %s", w.Code, lim.ids, w.Header().Get("X-Request-Id"))
			}
		})
	}
}

// emptyWindows is a rate-window store whose every window is empty: each
// take fits if it fits the limit alone.
type emptyWindows struct{}

func (emptyWindows) Take(_ context.Context, _ []string, limits, costs []int64, _ time.Duration) (bool, []int64, error) {
	for i := range costs {
		if costs[i] > limits[i] {
			return false, make([]int64, len(costs)), nil
		}
	}
	return true, costs, nil
}

func (emptyWindows) Add(context.Context, []string, []int64, time.Duration) error { return nil }

// TestTooLargeForTheLimitIs400: a request whose worst case (input estimate
// plus max tokens) exceeds the key's tokens per minute can never be
// admitted, so it gets 400 request_too_large in the client's shape, with
// the figures and without Retry-After, and the backend is never asked.
func TestTooLargeForTheLimitIs400(t *testing.T) {
	var upstreamCalls atomic.Int32
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamCalls.Add(1)
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}),
		gatewaytest.WithKeyLimits(ledger.Limits{TokensPerMinute: 1000}),
		gatewaytest.WithConfig(gateway.Config{Limiter: ledger.NewLimiter(ledger.LimiterConfig{}, emptyWindows{}, nil)}))
	tests := []struct {
		name, path, body string
		headers          []string
		status           int
		want             string // in the body
	}{
		{"OpenAI client, max_tokens above the limit", "/v1/chat/completions", `{"model":"m","max_tokens":5000,"messages":[{"role":"user","content":"hi"}]}`,
			[]string{"Authorization", "Bearer " + g.Key}, 400,
			`{"error":{"message":"request too large: it may need 5011 tokens (11 input, estimated, and 5000 output at most), more than the limit of 1000 tokens per minute of this API key; it can never be admitted: lower max_tokens or shorten the input","type":"invalid_request_error","param":null,"code":"request_too_large"}}`},
		{"OpenAI client, no max_tokens: the default 4096 is reserved", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
			[]string{"Authorization", "Bearer " + g.Key}, 400, `"code":"request_too_large"`},
		{"Anthropic client", "/v1/messages", `{"model":"m","max_tokens":5000,"messages":[{"role":"user","content":"hi"}]}`,
			[]string{"x-api-key", g.Key, "anthropic-version", messages.Version}, 400,
			`{"type":"error","error":{"type":"invalid_request_error","message":"request too large: it may need 5011 tokens`},
		{"within the limit", "/v1/chat/completions", `{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`,
			[]string{"Authorization", "Bearer " + g.Key}, 200, `"object":"chat.completion"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := upstreamCalls.Load()
			resp, body := g.Do(t, http.MethodPost, tt.path, tt.body, tt.headers...)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s\nwant %d with %s", resp.StatusCode, body, tt.status, tt.want)
			}
			if tt.status == 400 {
				if ra := resp.Header.Get("Retry-After"); ra != "" {
					t.Errorf("Retry-After %q on a request that can never succeed", ra)
				}
				if n := upstreamCalls.Load() - before; n != 0 {
					t.Errorf("the backend was asked %d times", n)
				}
			}
		})
	}
}
