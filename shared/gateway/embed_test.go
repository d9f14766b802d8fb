package gateway_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

// settledBudgets is a ledger budget store that keeps what is settled.
type settledBudgets struct {
	mu  sync.Mutex
	got []ledger.Settlement
}

func (s *settledBudgets) Reserve(context.Context, ledger.Bucket, int64, int64) (bool, int64, error) {
	return true, 0, nil
}
func (s *settledBudgets) Release(context.Context, ledger.Bucket, int64) error { return nil }
func (s *settledBudgets) Settle(_ context.Context, st ledger.Settlement) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, st)
	return false, nil
}

func (s *settledBudgets) all() []ledger.Settlement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ledger.Settlement(nil), s.got...)
}

func cosine32(a []float32, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * b[i]
		aa += float64(a[i]) * float64(a[i])
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// TestEmbedThroughEveryProvider sends the semantic cache's embedding call
// to each kind of backend that serves embeddings, over real sockets, and
// checks the vector, the upstream request (path, auth, signature: the
// Bedrock mock verifies SigV4) and the usage recorded against the key.
func TestEmbedThroughEveryProvider(t *testing.T) {
	var oaiSeen, azSeen, gemSeen gatewaytest.Recorder
	oai := gatewaytest.Upstream(t, oaiSeen.Wrap(&mock.OpenAI{}))
	az := gatewaytest.Upstream(t, azSeen.Wrap(&mock.OpenAI{}))
	gem := gatewaytest.Upstream(t, gemSeen.Wrap(&mock.Gemini{}))
	br := gatewaytest.Upstream(t, gatewaytest.BedrockMock())
	tab := gatewaytest.Prepared(t, &route.Table{Version: 1, Backends: []route.Backend{
		{Name: "default/openai", Provider: "openai", Endpoint: oai + "/v1", Credential: "openai-key"},
		{Name: "default/azure", Provider: "azure-openai", Endpoint: az, Credential: "azure-key", APIVersion: "2025-04-01-preview",
			ModelMap: map[string]string{"embed": "prod-embed"}},
		{Name: "default/gemini", Provider: "gemini", Endpoint: gem + "/v1beta", Credential: "gemini-key",
			ModelMap: map[string]string{"embed": "gemini-embedding-001"}},
		{Name: "default/bedrock", Provider: "bedrock", Endpoint: br, ModelMap: map[string]string{"embed": "amazon.titan-embed-text-v2:0"}},
	}})
	budgets := &settledBudgets{}
	g := gatewaytest.New(t, tab,
		gatewaytest.WithConfig(gateway.Config{Limiter: ledger.NewLimiter(ledger.LimiterConfig{}, nil, budgets)}),
		gatewaytest.WithCredentials(map[string]string{"openai-key": "sk-up", "azure-key": "az-up", "gemini-key": "AIza-up"}))
	const question = "What is the capital of France?"
	cases := []struct {
		backend, model string
		dims           int
		check          func(t *testing.T)
	}{
		{"default/openai", "text-embedding-3-small", 256, func(t *testing.T) {
			s := oaiSeen.Last(t)
			if s.URL != "/v1/embeddings" || s.Header.Get("Authorization") != "Bearer sk-up" {
				t.Fatalf("upstream saw %s %v", s.URL, s.Header)
			}
		}},
		{"default/azure", "embed", 256, func(t *testing.T) {
			s := azSeen.Last(t)
			if s.URL != "/openai/deployments/prod-embed/embeddings?api-version=2025-04-01-preview" || s.Header.Get("api-key") != "az-up" {
				t.Fatalf("upstream saw %s %v", s.URL, s.Header)
			}
		}},
		{"default/gemini", "embed", 256, func(t *testing.T) {
			s := gemSeen.Last(t)
			if !strings.HasPrefix(s.URL, "/v1beta/models/gemini-embedding-001:") || s.Header.Get("x-goog-api-key") != "AIza-up" {
				t.Fatalf("upstream saw %s %v", s.URL, s.Header)
			}
		}},
		{"default/bedrock", "embed", 1024, func(*testing.T) {}},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.backend, func(t *testing.T) {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/v1/chat/completions", nil)
			vec, err := g.Embed(r, ledger.Key{ID: "k1", Consumer: "acme"}, c.backend, c.model, question, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(vec) != c.dims || cosine32(vec, mock.Embedding(question, c.dims)) < 0.9999 {
				t.Fatalf("%d dims, not the mock's embedding of the question", len(vec))
			}
			c.check(t)
			got := budgets.all()
			last := got[len(got)-1]
			if last.KeyID != "k1" || last.Consumer != "acme" || last.Model != c.model || last.Usage.InputTokens == 0 ||
				last.Usage.OutputTokens != 0 || last.RequestID != "req-embed:embedding" {
				t.Fatalf("settled %+v", last)
			}
		})
	}
}

func TestEmbedFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	broken := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusInternalServerError)
	}))
	oai := gatewaytest.Upstream(t, &mock.OpenAI{})
	tab := gatewaytest.Prepared(t, &route.Table{Version: 1, Backends: []route.Backend{
		{Name: "default/slow", Provider: "openai", Endpoint: slow + "/v1"},
		{Name: "default/broken", Provider: "openai", Endpoint: broken + "/v1"},
		{Name: "default/openai", Provider: "openai", Endpoint: oai + "/v1"},
		{Name: "default/nocred", Provider: "openai", Endpoint: oai + "/v1", Credential: "missing"},
		{Name: "Service/default/web", Kind: route.KindService, Endpoint: oai},
	}})
	budgets := &settledBudgets{}
	g := gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Limiter: ledger.NewLimiter(ledger.LimiterConfig{}, nil, budgets)}))
	cases := []struct {
		name, backend, model, want string
		budget                     time.Duration
	}{
		{"a slow backend is abandoned at the budget", "default/slow", "m", "did not answer within 20ms", 20 * time.Millisecond},
		{"a backend error", "default/broken", "m", "embedding backend default/broken", time.Minute},
		{"an unknown backend", "default/none", "m", "not in the route table", time.Minute},
		{"a Service is no embedding backend", "Service/default/web", "m", "not in the route table", time.Minute},
		{"a missing credential", "default/nocred", "m", `credential "missing" is not configured`, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
			vec, err := g.Embed(r, ledger.Key{ID: "k1"}, c.backend, c.model, "hello", c.budget)
			if err == nil || vec != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, %v; want an error with %q", vec, err, c.want)
			}
		})
	}
	for _, s := range budgets.all() {
		if s.Usage.Total() != 0 && !s.Estimated {
			t.Errorf("a failed embedding recorded usage: %+v", s)
		}
	}
}
