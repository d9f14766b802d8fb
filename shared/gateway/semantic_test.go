package gateway_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/servertest"
	"github.com/sluicegw/sluice/shared/vectorindex"
	"github.com/sluicegw/sluice/shared/window"
)

// semantic is a CachePolicy of mode both, embedding with the mock OpenAI
// provider's deterministic embeddings.
var semantic = route.Cache{Policy: "default/semantic", Exact: true, Semantic: true, TTL: time.Hour, MaxBytes: 1 << 20,
	Threshold: 0.95, EmbeddingBackend: "embedder", EmbeddingModel: "text-embedding-3-small", EmbeddingBudget: time.Minute}

type semanticSetup struct {
	g              *gatewaytest.Gateway
	chat, embedded *gatewaytest.Recorder
	keys           map[string]string // consumer → API key, when keys were asked for
}

// twoKeys is a key store holding one key for each of two consumers.
type twoKeys map[string]ledger.Key

func (k twoKeys) GetKey(_ context.Context, id string) (ledger.Key, error) {
	if key, ok := k[id]; ok {
		return key, nil
	}
	return ledger.Key{}, ledger.ErrUnknownKey
}

// semanticGateway serves chat models to the mock providers under policy,
// with an embedding backend (default/embedder) on a mock OpenAI provider
// of its own, answers and vectors in the test binary's redis-server (or
// redisAddr). With consumers, the keys are one per consumer.
func semanticGateway(t testing.TB, redisAddr string, policy route.Cache, embedder http.Handler, consumers ...string) semanticSetup {
	t.Helper()
	s := semanticSetup{chat: &gatewaytest.Recorder{}, embedded: &gatewaytest.Recorder{}}
	oai := gatewaytest.Upstream(t, s.chat.Wrap(&mock.OpenAI{}))
	ant := gatewaytest.Upstream(t, s.chat.Wrap(&mock.Anthropic{}))
	if embedder == nil {
		embedder = &mock.OpenAI{}
	}
	emb := gatewaytest.Upstream(t, s.embedded.Wrap(embedder))
	tab := &route.Table{Version: 1}
	for _, model := range []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet"} {
		b := route.Backend{Name: "default/" + model, Provider: "openai", Endpoint: oai + "/v1"}
		if model == "claude-sonnet" {
			b.Provider, b.Endpoint = "anthropic", ant+"/v1"
		}
		tab.Backends = append(tab.Backends, b)
		p := policy
		p.Scope = "default/" + model + "/0"
		tab.Rules = append(tab.Rules, route.Rule{Route: "default/" + model, Cache: &p,
			Backends: []route.BackendRef{{Backend: len(tab.Backends) - 1, Weight: 1}}})
		tab.Entries = append(tab.Entries, route.Entry{Rule: len(tab.Rules) - 1, RouteName: "default/" + model,
			Match: route.Match{Path: route.PathMatch{Type: route.PathPrefix, Value: "/v1"},
				Headers: []route.ValueMatch{{Name: "x-sluice-model", Value: model}}}})
	}
	tab.Backends = append(tab.Backends, route.Backend{Name: "default/embedder", Provider: "openai", Endpoint: emb + "/v1"})
	gatewaytest.Prepared(t, tab)
	if redisAddr == "" {
		redisAddr = env.Redis(t)
	}
	rc, err := window.NewClient("redis://"+redisAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	rc.FlushAll(context.Background())
	idx, err := vectorindex.Open(context.Background(), rc, vectorindex.Config{})
	if err != nil {
		t.Fatal(err)
	}
	opts := []gatewaytest.Option{gatewaytest.WithConfig(gateway.Config{Cache: cache.NewRedis(rc, cache.StoreConfig{}), Vectors: idx})}
	if len(consumers) > 0 {
		s.keys = map[string]string{}
		store := twoKeys{}
		for _, c := range consumers {
			secret, k := ledger.NewKey(c, c, providertest.Now())
			store[k.ID], s.keys[c] = k, secret
		}
		opts = append(opts, gatewaytest.WithStore(staticTable{tab}, ledger.NewAuthenticator(store, 0, providertest.Now)))
	}
	s.g = gatewaytest.New(t, tab, opts...)
	return s
}

// askAs posts a chat completion with key (the harness's own when "").
func askAs(t *testing.T, s semanticSetup, key, body string, header ...string) (*http.Response, string) {
	t.Helper()
	if key == "" {
		key = s.g.Key
	}
	return s.g.Do(t, http.MethodPost, "/v1/chat/completions", body, append([]string{"Authorization", "Bearer " + key}, header...)...)
}

func TestSemanticCache(t *testing.T) {
	s := semanticGateway(t, "", semantic, nil)
	q := func(question string) string { return chatBody("gpt-4o", "Be brief.", question, "") }
	steps := []struct {
		name, body, want string
		embeds           bool // the embedding backend is asked
		header           []string
	}{
		{"first asked", q("What is the capital of France?"), "miss", true, nil},
		{"the same again: an exact hit, no embedding", q("What is the capital of France?"), "hit", false, nil},
		{"case and punctuation", q("WHAT IS THE CAPITAL OF FRANCE?!"), "hit", true, nil},
		{"reworded with filler words", q("Can you tell me what the capital of France is, please?"), "hit", true, nil},
		{"words reordered", q("France: what is the capital?"), "hit", true, nil},
		{"a near miss: another country", q("What is the capital of Spain?"), "miss", true, nil},
		{"the near miss is now stored", q("what is the capital of spain"), "hit", true, nil},
		{"another attribute", q("What is the population of France?"), "miss", true, nil},
		{"another system prompt", chatBody("gpt-4o", "Be long.", "what is the capital of france", ""), "miss", true, nil},
		{"another model", chatBody("gpt-4o-mini", "Be brief.", "what is the capital of france", ""), "miss", true, nil},
		{"a tool more", chatBody("gpt-4o", "Be brief.", "what is the capital of france", `,"tools":[{"type":"function","function":{"name":"f"}}]`), "miss", true, nil},
		{"a raised threshold refuses a paraphrase", q("Please tell me France's capital"), "miss", true, []string{"X-Sluice-Cache-Threshold", "0.999"}},
		{"a lowered threshold is ignored", q("What is the capital of Germany?"), "miss", true, []string{"X-Sluice-Cache-Threshold", "0.1"}},
		{"no-cache skips both lookups", q("what is the capital of france"), "bypass", false, []string{"Cache-Control", "no-cache"}},
	}
	for _, st := range steps {
		chats, embeds := s.chat.Count(), s.embedded.Count()
		resp, body := askAs(t, s, "", st.body, st.header...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", st.name, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Sluice-Cache"); got != st.want {
			t.Fatalf("%s: x-sluice-cache %q, want %q", st.name, got, st.want)
		}
		if hit := s.chat.Count() == chats; hit != (st.want == "hit") {
			t.Fatalf("%s: the chat backend reached: %v", st.name, !hit)
		}
		if embedded := s.embedded.Count() > embeds; embedded != st.embeds {
			t.Fatalf("%s: the embedding backend reached: %v", st.name, embedded)
		}
		sim := resp.Header.Get("X-Sluice-Cache-Similarity")
		semanticHit := st.want == "hit" && st.embeds
		if semanticHit {
			v, err := strconv.ParseFloat(sim, 64)
			if err != nil || v < 0.95 || v > 1 {
				t.Fatalf("%s: x-sluice-cache-similarity %q", st.name, sim)
			}
			if !strings.Contains(body, "You said: What is the capital of ") {
				t.Fatalf("%s: the answer served is not a stored one: %s", st.name, body)
			}
		} else if sim != "" {
			t.Fatalf("%s: x-sluice-cache-similarity %q on a %s", st.name, sim, st.want)
		}
	}
	if n := s.g.SemanticFailures(); n != 0 {
		t.Fatalf("%d semantic failures", n)
	}
}

func TestSemanticThresholdHeaderErrors(t *testing.T) {
	s := semanticGateway(t, "", semantic, nil)
	for _, v := range []string{"high", "1.5", "-0.2", "NaN"} {
		resp, body := askAs(t, s, "", chatBody("gpt-4o", "S", "Q?", ""), "X-Sluice-Cache-Threshold", v)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"invalid_request_error"`) || !strings.Contains(body, "X-Sluice-Cache-Threshold") {
			t.Fatalf("%q: status %d: %s", v, resp.StatusCode, body)
		}
	}
	if s.chat.Count() != 0 || s.embedded.Count() != 0 {
		t.Fatal("a refused request reached a backend")
	}
}

// TestSemanticTenantIsolation: with a per-consumer scope, a paraphrase
// from another consumer never reaches the first one's answer.
func TestSemanticTenantIsolation(t *testing.T) {
	p := semantic
	p.PerConsumer = true
	s := semanticGateway(t, "", p, nil, "acme", "globex")
	q := func(question string) string { return chatBody("gpt-4o", "Be brief.", question, "") }
	steps := []struct{ consumer, question, want string }{
		{"acme", "What is the capital of France?", "miss"},
		{"globex", "what is the capital of france", "miss"},
		{"globex", "What is the capital of France?", "hit"},
		{"acme", "Tell me the capital of France.", "hit"},
	}
	for _, st := range steps {
		resp, body := askAs(t, s, s.keys[st.consumer], q(st.question))
		if got := resp.Header.Get("X-Sluice-Cache"); got != st.want {
			t.Fatalf("%s asks %q: %q, want %q (%d %s)", st.consumer, st.question, got, st.want, resp.StatusCode, body)
		}
	}
}

// TestSemanticHitStreams: a paraphrase asked by a streaming openai-go
// client gets the stored answer as a stream the SDK accumulates whole.
func TestSemanticHitStreams(t *testing.T) {
	s := semanticGateway(t, "", semantic, nil)
	c := s.g.OpenAI()
	ctx := context.Background()
	params := func(q string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{Model: "gpt-4o", Temperature: openai.Float(0),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(q)}}
	}
	first, err := c.Chat.Completions.New(ctx, params("How do I reverse a list in Python?"))
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	stream := c.Chat.Completions.NewStreaming(ctx, params("how can I reverse a Python list"), option.WithResponseInto(&resp))
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Sluice-Cache") != "hit" || resp.Header.Get("X-Sluice-Cache-Similarity") == "" {
		t.Fatalf("headers %v", resp.Header)
	}
	if got := acc.Choices[0].Message.Content; got != first.Choices[0].Message.Content || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("streamed %q (%s), stored %q", got, acc.Choices[0].FinishReason, first.Choices[0].Message.Content)
	}
}

// TestSemanticSlowEmbedder: an embedding backend slower than the budget
// costs the request the budget and no more, and it is served from the
// chat backend.
func TestSemanticSlowEmbedder(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	p := semantic
	p.EmbeddingBudget = 30 * time.Millisecond
	s := semanticGateway(t, "", p, slow)
	for i := range 3 {
		resp, body := askAs(t, s, "", chatBody("gpt-4o", "S", "What is the capital of France?", ""))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Cache") != []string{"miss", "hit", "hit"}[i] {
			t.Fatalf("request %d: %d %s %v", i, resp.StatusCode, body, resp.Header)
		}
	}
	if n := s.g.SemanticFailures(); n != 1 {
		t.Fatalf("%d semantic failures, want the first request's", n)
	}
}

// TestSemanticHitAnthropic: an Anthropic client's paraphrase is served the
// answer stored for its first question, in Anthropic's protocol.
func TestSemanticHitAnthropic(t *testing.T) {
	s := semanticGateway(t, "", semantic, nil)
	ask := func(q string) (*http.Response, string) {
		return s.g.Do(t, http.MethodPost, "/v1/messages", `{"model":"claude-sonnet","max_tokens":100,"temperature":0,"messages":[{"role":"user","content":"`+q+`"}]}`,
			"x-api-key", s.g.Key, "anthropic-version", "2023-06-01")
	}
	first, stored := ask("How do I reverse a list in Python?")
	resp, body := ask("how to reverse a list in python")
	if first.Header.Get("X-Sluice-Cache") != "miss" || resp.Header.Get("X-Sluice-Cache") != "hit" || resp.Header.Get("X-Sluice-Cache-Similarity") == "" {
		t.Fatalf("first %v, then %v: %s", first.Header, resp.Header, body)
	}
	if !strings.Contains(body, `"type":"message"`) || !strings.Contains(body, "How do I reverse a list in Python?") || body == stored {
		t.Fatalf("served %s; stored %s", body, stored)
	}
}

// TestSemanticRedisDown: with Redis killed mid-run the gateway still
// answers every request from the backend, counting the failures.
func TestSemanticRedisDown(t *testing.T) {
	srv := servertest.OwnRedis(t)
	s := semanticGateway(t, srv.Addr, semantic, nil)
	q := chatBody("gpt-4o", "S", "What is the capital of France?", "")
	if resp, _ := askAs(t, s, "", q); resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("first: %v", resp.Header)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, question := range []string{"what is the capital of france", "Tell me the capital of France."} {
		resp, body := askAs(t, s, "", chatBody("gpt-4o", "S", question, ""))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sluice-Cache") != "miss" || !strings.Contains(body, question) {
			t.Fatalf("%q with Redis down: %d %v %s", question, resp.StatusCode, resp.Header, body)
		}
	}
	if s.g.SemanticFailures() == 0 {
		t.Fatal("no semantic failure counted")
	}
}

// TestSemanticOnlyMode: a policy of mode semantic skips the exact lookup,
// so even the same question is found through its embedding, and stores
// answers under their exact key for the index to point at.
func TestSemanticOnlyMode(t *testing.T) {
	p := semantic
	p.Exact = false
	s := semanticGateway(t, "", p, nil)
	q := chatBody("gpt-4o", "S", "What is the capital of France?", "")
	for i, want := range []string{"miss", "hit", "hit"} {
		embeds := s.embedded.Count()
		resp, body := askAs(t, s, "", q)
		if resp.Header.Get("X-Sluice-Cache") != want || s.embedded.Count() != embeds+1 {
			t.Fatalf("request %d: %v %s", i, resp.Header, body)
		}
		if want == "hit" && resp.Header.Get("X-Sluice-Cache-Similarity") != "1.0000" {
			t.Fatalf("request %d: similarity %q", i, resp.Header.Get("X-Sluice-Cache-Similarity"))
		}
	}
}
