package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
)

// cannedTransport answers every request at once with a fixed response, so
// the benchmark measures the gateway's own work.
type cannedTransport struct {
	body        string
	contentType string
}

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	return &http.Response{
		StatusCode: 200, Header: http.Header{"Content-Type": {c.contentType}},
		Body: io.NopCloser(strings.NewReader(c.body)), Request: r,
	}, nil
}

func benchGateway(b *testing.B, tr http.RoundTripper, reqBody string) {
	benchGatewayWith(b, tr, reqBody, nil, ledger.Limits{})
}

func benchGatewayWith(b *testing.B, tr http.RoundTripper, reqBody string, lim gateway.Limiter, limits ledger.Limits) {
	g := gatewaytest.New(b, gatewaytest.Table(b, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")}),
		gatewaytest.WithConfig(gateway.Config{Transport: tr, Limiter: lim}), gatewaytest.WithKeyLimits(limits))
	body := []byte(reqBody)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+g.Key)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkChatCompletion(b *testing.B) {
	benchGateway(b, cannedTransport{contentType: "application/json",
		body: `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`},
		`{"model":"m","messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
}

func BenchmarkChatCompletionStream(b *testing.B) {
	chunk := `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi "},"finish_reason":null}]}` + "\n\n"
	benchGateway(b, cannedTransport{contentType: "text/event-stream", body: strings.Repeat(chunk, 20) + "data: [DONE]\n\n"},
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
}

// nopBudgets takes every reservation and batch at once: the benchmarks
// below measure the gateway's own admission and settle work.
type nopBudgets struct{}

func (nopBudgets) Reserve(context.Context, ledger.Bucket, int64, int64) (bool, int64, error) {
	return true, 0, nil
}
func (nopBudgets) Release(context.Context, ledger.Bucket, int64) error { return nil }
func (nopBudgets) Settle(context.Context, ledger.Settlement) (bool, error) {
	return false, nil
}
func (nopBudgets) SettleBatch(context.Context, string, []ledger.BatchRow) error { return nil }

const benchChat = `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`

// BenchmarkChatCompletionLedger: a key without limits, usage batched (the
// local process's setting).
func BenchmarkChatCompletionLedger(b *testing.B) {
	lim := ledger.NewLimiter(ledger.LimiterConfig{BatchUsage: time.Second}, nil, nopBudgets{})
	defer lim.Close()
	benchGatewayWith(b, cannedTransport{contentType: "application/json", body: benchChat},
		`{"model":"m","messages":[{"role":"user","content":"Hello there, how are you today?"}]}`, lim, ledger.Limits{})
}

// BenchmarkChatCompletionLimitedKey: a key with a daily quota and a budget
// (reservation, settle), the stores answering at once.
func BenchmarkChatCompletionLimitedKey(b *testing.B) {
	lim := ledger.NewLimiter(ledger.LimiterConfig{}, nil, nopBudgets{})
	benchGatewayWith(b, cannedTransport{contentType: "application/json", body: benchChat},
		`{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`, lim,
		ledger.Limits{TokensPerDay: 1 << 40, BudgetUSD: 1e6})
}
