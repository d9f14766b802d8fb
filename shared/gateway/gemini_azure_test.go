package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

type credMap map[string]string

func (m credMap) Credential(name string) (string, bool) { v, ok := m[name]; return v, ok }

// backendTable routes each model to one backend.
func backendTable(t *testing.T, backends map[string]route.Backend) *route.Table {
	t.Helper()
	tab := &route.Table{Version: 1}
	for model, b := range backends {
		b.Name = "default/" + model
		tab.Backends = append(tab.Backends, b)
		rule := route.Rule{Route: "default/" + model, Backends: []route.BackendRef{{Backend: len(tab.Backends) - 1, Weight: 1}}}
		tab.Rules = append(tab.Rules, rule)
		tab.Entries = append(tab.Entries, route.Entry{
			Rule: len(tab.Rules) - 1, RouteName: rule.Route,
			Match: route.Match{
				Path:    route.PathMatch{Type: route.PathPrefix, Value: "/v1"},
				Headers: []route.ValueMatch{{Name: "x-sluice-model", Value: model}},
			},
		})
	}
	if err := tab.Prepare(); err != nil {
		t.Fatal(err)
	}
	return tab
}

// seen records what an upstream mock received.
type seen struct {
	mu      sync.Mutex
	urls    []string
	headers []http.Header
	bodies  [][]byte
}

func (s *seen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		s.mu.Lock()
		s.urls = append(s.urls, r.URL.String())
		s.headers = append(s.headers, r.Header.Clone())
		s.bodies = append(s.bodies, b)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (s *seen) lastBody() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[len(s.bodies)-1]
}

func (s *seen) last() (string, http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urls[len(s.urls)-1], s.headers[len(s.headers)-1]
}

// TestGeminiAndAzureThroughTheGateway drives the gateway with the official
// openai-go client over real sockets: Gemini backends served by the Gemini
// mock, an Azure OpenAI backend by the OpenAI mock on deployment paths.
func TestGeminiAndAzureThroughTheGateway(t *testing.T) {
	var gemSeen, azSeen seen
	gem := httptest.NewServer(gemSeen.wrap(&mock.Gemini{}))
	defer gem.Close()
	az := httptest.NewServer(azSeen.wrap(&mock.OpenAI{}))
	defer az.Close()
	geminiBackend := func(upstream string) route.Backend {
		return route.Backend{Provider: "gemini", Endpoint: gem.URL + "/v1beta", Credential: "gemini-key",
			ModelMap: map[string]string{upstream: upstream}}
	}
	tab := backendTable(t, map[string]route.Backend{
		"gemini-flash":  {Provider: "gemini", Endpoint: gem.URL + "/v1beta", Credential: "gemini-key", ModelMap: map[string]string{"gemini-flash": "gemini-2.5-flash"}},
		"gemini-embed":  {Provider: "gemini", Endpoint: gem.URL + "/v1beta", Credential: "gemini-key", ModelMap: map[string]string{"gemini-embed": "gemini-embedding-001"}},
		"error-429":     geminiBackend("error-429"),
		"error-context": geminiBackend("error-context"),
		"cut-stream":    geminiBackend("cut-stream"),
		"vertex-embed":  {Provider: "vertex-ai", Endpoint: gem.URL + "/v1/projects/p/locations/us-central1/publishers/google", Credential: "gemini-key"},
		"azure-gpt":     {Provider: "azure-openai", Endpoint: az.URL, Credential: "azure-key", APIVersion: "2025-04-01-preview", ModelMap: map[string]string{"azure-gpt": "prod-gpt-4o"}},
	})
	secret, k := ledger.NewKey("test", "", time.Now())
	g, err := New(Config{Providers: testProviders}, staticTables{tab}, ledger.NewAuthenticator(keyMap{k.ID: k}, 0, nil),
		credMap{"gemini-key": "AIza-test", "azure-key": "az-test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))
	ctx := context.Background()

	t.Run("gemini plain", func(t *testing.T) {
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gemini-flash",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello there")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(comp.Choices[0].Message.Content, "hello there") || comp.Choices[0].FinishReason != "stop" || comp.Usage.CompletionTokens == 0 || comp.Model != "gemini-flash" {
			t.Fatalf("completion %+v", comp)
		}
		url, h := gemSeen.last()
		if url != "/v1beta/models/gemini-2.5-flash:generateContent" || h.Get("x-goog-api-key") != "AIza-test" {
			t.Fatalf("upstream saw %s %v", url, h)
		}
	})

	t.Run("gemini streaming with thoughts and usage", func(t *testing.T) {
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:           "gemini-flash",
			Messages:        []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream this")},
			StreamOptions:   openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			ReasoningEffort: openai.ReasoningEffortLow,
		})
		var acc openai.ChatCompletionAccumulator
		var reasoning bool
		for stream.Next() {
			ch := stream.Current()
			acc.AddChunk(ch)
			if len(ch.Choices) > 0 && strings.Contains(ch.Choices[0].Delta.RawJSON(), `"reasoning_content"`) {
				reasoning = true
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(acc.Choices[0].Message.Content, "stream this") || acc.Choices[0].FinishReason != "stop" || acc.Usage.CompletionTokensDetails.ReasoningTokens == 0 || !reasoning {
			t.Fatalf("accumulated %+v (reasoning seen %v)", acc.ChatCompletion, reasoning)
		}
		if url, _ := gemSeen.last(); url != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" {
			t.Fatalf("upstream saw %s", url)
		}
	})

	weather := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather", Description: openai.String("weather by city"),
		Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	})

	t.Run("gemini tool call round trip", func(t *testing.T) {
		params := openai.ChatCompletionNewParams{
			Model:           "gemini-flash",
			Messages:        []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris and Tokyo?")},
			Tools:           []openai.ChatCompletionToolUnionParam{weather},
			ReasoningEffort: openai.ReasoningEffortLow,
		}
		comp, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		calls := comp.Choices[0].Message.ToolCalls
		if comp.Choices[0].FinishReason != "tool_calls" || len(calls) != 2 || calls[1].Function.Arguments != `{"city":"Tokyo"}` || calls[0].ID == calls[1].ID {
			t.Fatalf("tool calls %+v", comp.Choices[0])
		}
		params.Messages = append(params.Messages, comp.Choices[0].Message.ToParam(),
			openai.ToolMessage(`{"forecast":"sunny"}`, calls[0].ID), openai.ToolMessage("rainy", calls[1].ID))
		comp, err = c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if got := comp.Choices[0].Message.Content; !strings.Contains(got, `get_weather={"forecast":"sunny"}`) || !strings.Contains(got, `; get_weather={"outp`) {
			t.Fatalf("answer after tool results: %q", got)
		}
		// The thought signature of the first call came back through the
		// SDK (inside the call id) and reached Gemini on that call.
		var sent struct {
			Contents []struct {
				Parts []struct {
					ThoughtSignature string `json:"thoughtSignature"`
				} `json:"parts"`
			} `json:"contents"`
		}
		json.Unmarshal(gemSeen.lastBody(), &sent)
		if sent.Contents[1].Parts[0].ThoughtSignature != mock.MockSignature {
			t.Fatalf("Gemini received %s", gemSeen.lastBody())
		}

		// Streamed, the calls arrive as tool_call deltas.
		params.Messages = params.Messages[:1]
		stream := c.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if len(acc.Choices[0].Message.ToolCalls) != 2 || acc.Choices[0].FinishReason != "tool_calls" || acc.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
			t.Fatalf("streamed calls %+v", acc.Choices[0])
		}
	})

	t.Run("gemini embeddings", func(t *testing.T) {
		emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "gemini-embed", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"one", "three"}},
			Dimensions: openai.Int(4),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 4 || emb.Usage.PromptTokens == 0 {
			t.Fatalf("embeddings %+v", emb)
		}
	})

	t.Run("vertex embeddings and chat", func(t *testing.T) {
		emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "vertex-embed", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"one", "three"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		url, h := gemSeen.last()
		if len(emb.Data) != 2 || emb.Usage.PromptTokens != 3 || url != "/v1/projects/p/locations/us-central1/publishers/google/models/vertex-embed:predict" || h.Get("Authorization") != "Bearer AIza-test" {
			t.Fatalf("embeddings %+v; upstream saw %s %v", emb, url, h)
		}
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "vertex-embed", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi vertex")},
		})
		if err != nil || !strings.HasSuffix(comp.Choices[0].Message.Content, "hi vertex") {
			t.Fatalf("chat %v %+v", err, comp)
		}
	})

	t.Run("gemini errors", func(t *testing.T) {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "error-429", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != "7" {
			t.Fatalf("429: %v", err)
		}
		_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "error-context", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
			t.Fatalf("context: %v", err)
		}
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "cut-stream", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x y z")}})
		for stream.Next() {
		}
		if stream.Err() == nil {
			t.Fatal("a cut Gemini stream must reach the client as an error")
		}
	})

	t.Run("azure plain and streamed", func(t *testing.T) {
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "azure-gpt", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi azure")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(comp.Choices[0].Message.Content, "hi azure") || comp.Usage.TotalTokens == 0 {
			t.Fatalf("completion %+v", comp)
		}
		url, h := azSeen.last()
		if url != "/openai/deployments/prod-gpt-4o/chat/completions?api-version=2025-04-01-preview" || h.Get("api-key") != "az-test" || h.Get("Authorization") != "" {
			t.Fatalf("azure saw %s %v", url, h)
		}
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "azure-gpt", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream azure")},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil || !strings.HasSuffix(acc.Choices[0].Message.Content, "stream azure") {
			t.Fatalf("stream %v %+v", err, acc.ChatCompletion)
		}
		emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "azure-gpt", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
		if err != nil || len(emb.Data) != 1 {
			t.Fatalf("embeddings %v", err)
		}
		if url, _ := azSeen.last(); url != "/openai/deployments/prod-gpt-4o/embeddings?api-version=2025-04-01-preview" {
			t.Fatalf("azure saw %s", url)
		}
	})
}
