package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

// matrixProviders are the provider protocols of the SDK matrix, in the
// order docs/providers.md's matrix lists them.
var matrixProviders = []string{"openai", "azure", "anthropic", "bedrock", "gemini"}

// matrixGateway runs the gateway on a real socket with, for each provider
// protocol p, routes for model p and its failing variants (see models
// below), each backend on its own mock server. It
// returns the gateway and the Retry-After each provider's 429 must reach
// the client with.
func matrixGateway(t *testing.T) (*gatewaytest.Gateway, map[string]string) {
	t.Helper()
	oai := gatewaytest.Upstream(t, &mock.OpenAI{})
	ant := gatewaytest.Upstream(t, &mock.Anthropic{})
	bed := gatewaytest.Upstream(t, gatewaytest.BedrockMock())
	gem := gatewaytest.Upstream(t, &mock.Gemini{})

	// Each provider's models: p answers; p-429 is refused with a 429;
	// p-context is over the context length (the Bedrock mock reads that
	// from the prompt); p-cut fails mid-stream; p-embed embeds.
	models := func(p, chat, rate, context, cut, embed string) map[string]string {
		return map[string]string{p: chat, p + "-429": rate, p + "-context": context, p + "-cut": cut, p + "-embed": embed}
	}
	claude := "anthropic.claude-sonnet-4-20250514-v1:0"
	backends := map[string]route.Backend{
		"openai":    {Provider: "openai", Endpoint: oai + "/v1", Credential: "openai-key", ModelMap: models("openai", "mock-gpt", "error-429", "error-context", "cut-midstream", "text-embedding-3-small")},
		"azure":     {Provider: "azure-openai", Endpoint: oai, Credential: "azure-key", APIVersion: "2024-10-21", ModelMap: models("azure", "prod-gpt", "error-429", "error-context", "cut-midstream", "prod-embed")},
		"anthropic": {Provider: "anthropic", Endpoint: ant + "/v1", Credential: "anthropic-key", ModelMap: models("anthropic", "mock-claude-sonnet", "error-429", "error-context", "cut-midstream", "mock-claude-sonnet")},
		"bedrock":   {Provider: "bedrock", Endpoint: bed, Region: "us-east-1", ModelMap: models("bedrock", claude, "throttle-model", claude, "midstream-throttle-model", "amazon.titan-embed-text-v2:0")},
		"gemini":    {Provider: "gemini", Endpoint: gem + "/v1beta", Credential: "gemini-key", ModelMap: models("gemini", "gemini-2.5-flash", "error-429", "error-context", "cut-stream", "gemini-embedding-001")},
	}
	// For TestAnthropicSDKOutputConfig: a Bedrock model with Converse's
	// structured outputs, and a Gemini that thinks by level.
	backends["bedrock"].ModelMap["bedrock-native"] = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
	backends["gemini"].ModelMap["gemini-3"] = "gemini-3-pro-preview"
	routes := gatewaytest.Routes{}
	for _, b := range backends {
		for m := range b.ModelMap {
			routes[m] = []route.Backend{b}
		}
	}
	g := gatewaytest.New(t, gatewaytest.Table(t, routes), gatewaytest.WithCredentials(map[string]string{
		"openai-key": "sk-test", "azure-key": "az-test", "anthropic-key": "sk-ant-test", "gemini-key": "AIza-test"}))
	// Gemini's RetryInfo.retryDelay (6.2s) is rounded up; Bedrock's mock
	// throttles with Retry-After: 3; the others send 7.
	return g, map[string]string{"openai": "7", "azure": "7", "anthropic": "7", "bedrock": "3", "gemini": "7"}
}

// matrixToolPrompt asks for a tool call in words every mock acts on: the
// OpenAI mock calls a tool when the prompt says "tool", the others when it
// asks for the weather (Paris: one call).
const matrixToolPrompt = "Use the tool: what is the weather in Paris?"

// matrixLongPrompt is what the Bedrock mock refuses as over the context
// length; the other mocks do so for their "error-context" model.
const matrixLongPrompt = "this prompt is too long"

// TestSDKMatrix drives the gateway with both official SDKs against the mock
// of every provider protocol, over real sockets: subtests are named
// <sdk>/<provider>/<case>, the cells of the matrix in docs/providers.md.
func TestSDKMatrix(t *testing.T) {
	g, retryAfter := matrixGateway(t)
	oc, ac := g.OpenAI(), g.Anthropic()
	ctx := context.Background()

	t.Run("openai", func(t *testing.T) {
		for _, p := range matrixProviders {
			t.Run(p, func(t *testing.T) {
				t.Run("plain", func(t *testing.T) {
					comp, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: openai.ChatModel(p),
						Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("hello matrix")}})
					if err != nil {
						t.Fatal(err)
					}
					ch := comp.Choices[0]
					if !strings.Contains(ch.Message.Content, "hello matrix") || ch.FinishReason != "stop" || comp.Usage.PromptTokens == 0 || comp.Usage.CompletionTokens == 0 {
						t.Fatalf("completion %+v", comp)
					}
				})
				t.Run("stream", func(t *testing.T) {
					comp := complete(t, oc, openai.ChatCompletionNewParams{Model: openai.ChatModel(p),
						Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream the matrix")},
						StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}}, true)
					ch := comp.Choices[0]
					if !strings.Contains(ch.Message.Content, "stream the matrix") || ch.FinishReason != "stop" || comp.Usage.PromptTokens == 0 || comp.Usage.CompletionTokens == 0 {
						t.Fatalf("accumulated %+v", comp)
					}
				})
				for _, streamed := range []bool{false, true} {
					t.Run(map[bool]string{false: "tools", true: "tools-stream"}[streamed], func(t *testing.T) {
						params := openai.ChatCompletionNewParams{Model: openai.ChatModel(p), Tools: []openai.ChatCompletionToolUnionParam{openAIWeatherTool},
							Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(matrixToolPrompt)}}
						first := complete(t, oc, params, streamed)
						msg := first.Choices[0].Message
						if first.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Function.Name != "get_weather" ||
							msg.ToolCalls[0].ID == "" || !strings.HasPrefix(msg.ToolCalls[0].Function.Arguments, "{") {
							t.Fatalf("first answer %+v", first.Choices[0])
						}
						params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("21C and sunny", msg.ToolCalls[0].ID))
						second := complete(t, oc, params, streamed)
						if second.Choices[0].FinishReason != "stop" || !strings.Contains(second.Choices[0].Message.Content, "21C and sunny") {
							t.Fatalf("answer after the tool result %+v", second.Choices[0])
						}
					})
				}
				t.Run("error-429", func(t *testing.T) {
					_, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: openai.ChatModel(p + "-429"),
						Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
					var apiErr *openai.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != retryAfter[p] {
						t.Fatalf("err %v", err)
					}
				})
				t.Run("error-context", func(t *testing.T) {
					_, err := oc.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: openai.ChatModel(p + "-context"),
						Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(matrixLongPrompt)}})
					var apiErr *openai.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
						t.Fatalf("err %v", err)
					}
				})
				t.Run("cut", func(t *testing.T) {
					stream := oc.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: openai.ChatModel(p + "-cut"),
						Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a b c d e f")}})
					var acc openai.ChatCompletionAccumulator
					for stream.Next() {
						acc.AddChunk(stream.Current())
					}
					if stream.Err() == nil || len(acc.Choices) == 0 || acc.Choices[0].Message.Content == "" || acc.Choices[0].FinishReason != "" {
						t.Fatalf("err %v after %+v", stream.Err(), acc.ChatCompletion)
					}
				})
				t.Run("embeddings", func(t *testing.T) {
					emb, err := oc.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: openai.EmbeddingModel(p + "-embed"),
						Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"one", "three"}}})
					if p == "anthropic" {
						// Anthropic has no embeddings API: a documented 400.
						var apiErr *openai.Error
						if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "anthropic") {
							t.Fatalf("err %v", err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(emb.Data) != 2 || emb.Data[1].Index != 1 || len(emb.Data[0].Embedding) == 0 || emb.Usage.PromptTokens == 0 {
						t.Fatalf("embeddings %+v", emb)
					}
				})
			})
		}
	})

	t.Run("anthropic", func(t *testing.T) {
		for _, p := range matrixProviders {
			t.Run(p, func(t *testing.T) {
				t.Run("plain", func(t *testing.T) {
					msg, err := ac.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.Model(p), MaxTokens: 256,
						System:   []anthropic.TextBlockParam{{Text: "Be brief."}},
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello matrix"))}})
					if err != nil {
						t.Fatal(err)
					}
					if msg.Model != anthropic.Model(p) && p != "anthropic" {
						t.Errorf("model %q", msg.Model)
					}
					if len(msg.Content) != 1 || !strings.Contains(msg.Content[0].Text, "hello matrix") || msg.StopReason != anthropic.StopReasonEndTurn ||
						msg.Usage.InputTokens == 0 || msg.Usage.OutputTokens == 0 {
						t.Fatalf("message %+v", msg)
					}
				})
				t.Run("stream", func(t *testing.T) {
					msg := anthropicComplete(t, ac, anthropic.MessageNewParams{Model: anthropic.Model(p), MaxTokens: 256,
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("stream the matrix"))}}, true)
					if len(msg.Content) != 1 || !strings.Contains(msg.Content[0].Text, "stream the matrix") || msg.StopReason != anthropic.StopReasonEndTurn ||
						msg.Usage.InputTokens == 0 || msg.Usage.OutputTokens == 0 {
						t.Fatalf("accumulated %+v", msg)
					}
				})
				for _, streamed := range []bool{false, true} {
					t.Run(map[bool]string{false: "tools", true: "tools-stream"}[streamed], func(t *testing.T) {
						params := anthropic.MessageNewParams{Model: anthropic.Model(p), MaxTokens: 256, Tools: weatherTool,
							Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(matrixToolPrompt))}}
						first := anthropicComplete(t, ac, params, streamed)
						var uses []anthropic.ToolUseBlock
						for _, b := range first.Content {
							if b.Type == "tool_use" {
								uses = append(uses, b.AsToolUse())
							}
						}
						if first.StopReason != anthropic.StopReasonToolUse || len(uses) != 1 || uses[0].Name != "get_weather" || uses[0].ID == "" ||
							!strings.HasPrefix(string(uses[0].Input), "{") {
							t.Fatalf("first answer %+v", first)
						}
						params.Messages = append(params.Messages, first.ToParam(),
							anthropic.NewUserMessage(anthropic.NewToolResultBlock(uses[0].ID, "21C and sunny", false)))
						second := anthropicComplete(t, ac, params, streamed)
						if second.StopReason != anthropic.StopReasonEndTurn || len(second.Content) == 0 || !strings.Contains(second.Content[len(second.Content)-1].Text, "21C and sunny") {
							t.Fatalf("answer after the tool result %+v", second)
						}
					})
				}
				t.Run("error-429", func(t *testing.T) {
					_, err := ac.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.Model(p + "-429"), MaxTokens: 16,
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
					var apiErr *anthropic.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != retryAfter[p] ||
						!strings.Contains(apiErr.RawJSON(), `"rate_limit_error"`) {
						t.Fatalf("err %v", err)
					}
				})
				t.Run("error-context", func(t *testing.T) {
					_, err := ac.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.Model(p + "-context"), MaxTokens: 16,
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(matrixLongPrompt))}})
					var apiErr *anthropic.Error
					if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.RawJSON(), `"invalid_request_error"`) {
						t.Fatalf("err %v", err)
					}
				})
				t.Run("cut", func(t *testing.T) {
					stream := ac.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: anthropic.Model(p + "-cut"), MaxTokens: 256,
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("a b c d e f"))}})
					var msg anthropic.Message
					stopped := false
					for stream.Next() {
						ev := stream.Current()
						stopped = stopped || ev.Type == "message_stop"
						msg.Accumulate(ev)
					}
					if stream.Err() == nil || stopped || len(msg.Content) == 0 || msg.Content[0].Text == "" {
						t.Fatalf("err %v, message_stop %v, after %+v", stream.Err(), stopped, msg)
					}
				})
				t.Run("count_tokens", func(t *testing.T) {
					var resp *http.Response
					n, err := ac.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: anthropic.Model(p),
						Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How many tokens is this?"))},
						Tools:    []anthropic.MessageCountTokensToolUnionParam{{OfTool: weatherTool[0].OfTool}}}, aoption.WithResponseInto(&resp))
					if err != nil || n.InputTokens == 0 {
						t.Fatalf("count %+v, %v", n, err)
					}
					// Forwarded to Anthropic; estimated (and marked) for the others.
					if estimated := resp.Header.Get("X-Sluice-Estimated") == "true"; estimated != (p != "anthropic") {
						t.Fatalf("estimated %v", estimated)
					}
				})
			})
		}
	})
}

// anthropicComplete sends params plain or streamed (accumulated by the
// SDK) and returns the message.
func anthropicComplete(t *testing.T, c anthropic.Client, params anthropic.MessageNewParams, streamed bool) *anthropic.Message {
	t.Helper()
	if !streamed {
		msg, err := c.Messages.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	stream := c.Messages.NewStreaming(context.Background(), params)
	var msg anthropic.Message
	for stream.Next() {
		if err := msg.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return &msg
}
