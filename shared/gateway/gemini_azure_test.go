package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

// TestGeminiAndAzureThroughTheGateway drives the gateway with the official
// openai-go client over real sockets: Gemini backends served by the Gemini
// mock, an Azure OpenAI backend by the OpenAI mock on deployment paths.
func TestGeminiAndAzureThroughTheGateway(t *testing.T) {
	var gemSeen, azSeen gatewaytest.Recorder
	gem := gatewaytest.Upstream(t, gemSeen.Wrap(&mock.Gemini{}))
	az := gatewaytest.Upstream(t, azSeen.Wrap(&mock.OpenAI{}))
	geminiBackend := func(upstream string) route.Backend {
		return route.Backend{Provider: "gemini", Endpoint: gem + "/v1beta", Credential: "gemini-key",
			ModelMap: map[string]string{upstream: upstream}}
	}
	tab := gatewaytest.Table(t, gatewaytest.Routes{
		"gemini-flash":  {{Provider: "gemini", Endpoint: gem + "/v1beta", Credential: "gemini-key", ModelMap: map[string]string{"gemini-flash": "gemini-2.5-flash"}}},
		"gemini-embed":  {{Provider: "gemini", Endpoint: gem + "/v1beta", Credential: "gemini-key", ModelMap: map[string]string{"gemini-embed": "gemini-embedding-001"}}},
		"error-429":     {geminiBackend("error-429")},
		"error-context": {geminiBackend("error-context")},
		"cut-stream":    {geminiBackend("cut-stream")},
		"vertex-embed":  {{Provider: "vertex-ai", Endpoint: gem + "/v1/projects/p/locations/us-central1/publishers/google", Credential: "gemini-key"}},
		"azure-gpt":     {{Provider: "azure-openai", Endpoint: az, Credential: "azure-key", APIVersion: "2025-04-01-preview", ModelMap: map[string]string{"azure-gpt": "prod-gpt-4o"}}},
	})
	c := gatewaytest.New(t, tab, gatewaytest.WithCredentials(map[string]string{"gemini-key": "AIza-test", "azure-key": "az-test"})).OpenAI()
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
		sent := gemSeen.Last(t)
		url, h := sent.URL, sent.Header
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
		if url := gemSeen.Last(t).URL; url != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" {
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
		json.Unmarshal(gemSeen.Last(t).Body, &sent)
		if sent.Contents[1].Parts[0].ThoughtSignature != mock.MockSignature {
			t.Fatalf("Gemini received %s", gemSeen.Last(t).Body)
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
		sent := gemSeen.Last(t)
		url, h := sent.URL, sent.Header
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
		sent := azSeen.Last(t)
		url, h := sent.URL, sent.Header
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
		if url := azSeen.Last(t).URL; url != "/openai/deployments/prod-gpt-4o/embeddings?api-version=2025-04-01-preview" {
			t.Fatalf("azure saw %s", url)
		}
	})
}
