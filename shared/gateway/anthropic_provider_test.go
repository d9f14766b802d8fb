package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

// anthropicGateway runs the gateway in front of the mock Anthropic
// provider, every model routed to it with a credential, and returns it
// with what the mock received.
func anthropicGateway(t *testing.T) (*gatewaytest.Gateway, *gatewaytest.Recorder) {
	t.Helper()
	seen := &gatewaytest.Recorder{}
	up := gatewaytest.Upstream(t, seen.Wrap(&mock.Anthropic{}))
	tab := gatewaytest.Prepared(t, &route.Table{Version: 1,
		Backends: []route.Backend{{Name: "default/claude", Provider: "anthropic", Endpoint: up + "/v1", Credential: "anthropic",
			ModelMap: map[string]string{"claude": "mock-claude-sonnet"}}},
		Rules: []route.Rule{{Route: "default/claude", Backends: []route.BackendRef{{Backend: 0, Weight: 1}}}},
		Entries: []route.Entry{{Rule: 0, RouteName: "default/claude",
			Match: route.Match{Path: route.PathMatch{Type: route.PathPrefix, Value: "/v1"}}}},
	})
	return gatewaytest.New(t, tab, gatewaytest.WithCredentials(map[string]string{"anthropic": "sk-ant-test"})), seen
}

// lastSent is the last request the mock received: its body as JSON
// values, its x-api-key, anthropic-version and anthropic-beta headers
// joined by spaces, and its path.
func lastSent(t *testing.T, seen *gatewaytest.Recorder) (map[string]any, string, string) {
	t.Helper()
	r := seen.Last(t)
	var body map[string]any
	json.Unmarshal(r.Body, &body)
	return body, r.Header.Get("x-api-key") + " " + r.Header.Get("anthropic-version") + " " + r.Header.Get("anthropic-beta"), r.Path
}

// TestAnthropicThroughGatewayWithOpenAIClient drives the gateway with the
// official openai-go client against the Anthropic mock over real sockets.
func TestAnthropicThroughGatewayWithOpenAIClient(t *testing.T) {
	g, seen := anthropicGateway(t)
	c := g.OpenAI()
	ctx := context.Background()

	t.Run("plain", func(t *testing.T) {
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "claude",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello")},
		}, option.WithHeader("anthropic-beta", "token-efficient-tools-2025-02-19"))
		if err != nil {
			t.Fatal(err)
		}
		if comp.Object != "chat.completion" || comp.Choices[0].FinishReason != "stop" || !strings.HasSuffix(comp.Choices[0].Message.Content, "hello") ||
			comp.Usage.PromptTokens == 0 || comp.Usage.CompletionTokens == 0 || comp.Model != "mock-claude-sonnet" {
			t.Fatalf("completion %+v", comp)
		}
		body, auth, path := lastSent(t, seen)
		if auth != "sk-ant-test 2023-06-01 token-efficient-tools-2025-02-19" || path != "/v1/messages" || body["model"] != "mock-claude-sonnet" || body["max_tokens"] != 4096.0 {
			t.Fatalf("upstream got %s %q %v", path, auth, body)
		}
	})

	t.Run("streamed with usage", func(t *testing.T) {
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "claude",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream this")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		var acc openai.ChatCompletionAccumulator
		chunks := 0
		for stream.Next() {
			acc.AddChunk(stream.Current())
			chunks++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 5 || !strings.HasSuffix(acc.Choices[0].Message.Content, "stream this") || acc.Choices[0].FinishReason != "stop" ||
			acc.Usage.TotalTokens == 0 || acc.Usage.CompletionTokens == 0 {
			t.Fatalf("%d chunks, accumulated %+v", chunks, acc.ChatCompletion)
		}
	})

	weather := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather", Description: openai.String("Current weather"),
		Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}, "required": []string{"location"}},
	})

	t.Run("tool call round trip, parallel, streamed", func(t *testing.T) {
		msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris and Tokyo?")}
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "claude", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weather},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		calls := acc.Choices[0].Message.ToolCalls
		if acc.Choices[0].FinishReason != "tool_calls" || len(calls) != 2 || calls[0].Function.Arguments != `{"location":"Paris"}` ||
			calls[1].Function.Arguments != `{"location":"Tokyo"}` || calls[1].ID == "" || calls[1].Function.Name != "get_weather" {
			t.Fatalf("tool calls %+v (finish %q)", calls, acc.Choices[0].FinishReason)
		}
		msgs = append(msgs, acc.Choices[0].Message.ToParam(),
			openai.ToolMessage("sunny, 21C", calls[0].ID), openai.ToolMessage("rain, 12C", calls[1].ID))
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "claude", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weather},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := comp.Choices[0].Message.Content; !strings.Contains(got, "sunny, 21C") || !strings.Contains(got, "rain, 12C") {
			t.Fatalf("answer %q", got)
		}
		body, _, _ := lastSent(t, seen)
		turns := body["messages"].([]any)
		if len(turns) != 3 || len(turns[2].(map[string]any)["content"].([]any)) != 2 {
			t.Fatalf("tool results not merged into one user turn: %v", turns)
		}
	})

	t.Run("thinking round trip with tools", func(t *testing.T) {
		msgs := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What's the weather?")}
		params := openai.ChatCompletionNewParams{
			Model: "claude", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weather},
			ReasoningEffort: openai.ReasoningEffortLow,
		}
		stream := c.Chat.Completions.NewStreaming(ctx, params)
		var acc openai.ChatCompletionAccumulator
		var reasoning, signature strings.Builder
		for stream.Next() {
			ch := stream.Current()
			acc.AddChunk(ch)
			if len(ch.Choices) == 0 {
				continue
			}
			extra := ch.Choices[0].Delta.JSON.ExtraFields
			var s string
			if f, ok := extra["reasoning_content"]; ok && json.Unmarshal([]byte(f.Raw()), &s) == nil {
				reasoning.WriteString(s)
			}
			if f, ok := extra["reasoning_signature"]; ok && json.Unmarshal([]byte(f.Raw()), &s) == nil {
				signature.WriteString(s)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		body, _, _ := lastSent(t, seen)
		if th, _ := body["thinking"].(map[string]any); th["budget_tokens"] != 2048.0 {
			t.Fatalf("thinking sent as %v", body["thinking"])
		}
		calls := acc.Choices[0].Message.ToolCalls
		if reasoning.Len() == 0 || signature.Len() == 0 || len(calls) != 1 {
			t.Fatalf("reasoning %q, signature %q, calls %+v", reasoning.String(), signature.String(), calls)
		}
		assistant := acc.Choices[0].Message.ToParam()
		assistant.OfAssistant.SetExtraFields(map[string]any{
			"reasoning_content": reasoning.String(), "reasoning_signature": signature.String(),
		})
		params.Messages = append(msgs, assistant, openai.ToolMessage("snow", calls[0].ID))
		comp, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatalf("the mock checks the signed thinking block comes back first: %v", err)
		}
		var sig string
		json.Unmarshal([]byte(comp.Choices[0].Message.JSON.ExtraFields["reasoning_signature"].Raw()), &sig)
		if !strings.Contains(comp.Choices[0].Message.Content, "snow") || sig == "" {
			t.Fatalf("answer %+v", comp.Choices[0].Message)
		}
		// Without the signed reasoning, Claude (and the mock) refuse the turn.
		params.Messages = append(msgs, acc.Choices[0].Message.ToParam(), openai.ToolMessage("snow", calls[0].ID))
		_, err = c.Chat.Completions.New(ctx, params)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "thinking") {
			t.Fatalf("unsigned turn: %v", err)
		}
	})

	t.Run("refused field", func(t *testing.T) {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "claude", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}, Seed: param.NewOpt[int64](7),
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "seed" || !strings.Contains(apiErr.Message, "anthropic") {
			t.Fatalf("seed: %v", err)
		}
	})
}

// TestAnthropicErrorsThroughGateway: provider errors reach the OpenAI
// client with their status, Retry-After and a recognisable code; failures
// after the first byte end the stream with an error event.
func TestAnthropicErrorsThroughGateway(t *testing.T) {
	g, _ := anthropicGateway(t)
	c := g.OpenAI()
	ctx := context.Background()
	user := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}
	tests := []struct {
		model, typ, code, retryAfter string
		status                       int
	}{
		{"error-429", "rate_limit_error", "rate_limit_exceeded", "7", 429},
		{"error-529", "overloaded_error", "upstream_error", "", 529},
		{"error-413", "request_too_large", "request_too_large", "", 413},
		{"error-context", "invalid_request_error", "context_length_exceeded", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: tt.model, Messages: user})
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Type != tt.typ || apiErr.Code != tt.code {
				t.Fatalf("err %v, want %d %s %s", err, tt.status, tt.typ, tt.code)
			}
			if got := apiErr.Response.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
		})
	}
	for _, model := range []string{"error-midstream", "cut-midstream"} {
		t.Run(model, func(t *testing.T) {
			stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: model, Messages: user})
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if stream.Err() == nil || acc.Choices[0].Message.Content == "" {
				t.Fatalf("stream ended without an error after %q", acc.Choices[0].Message.Content)
			}
		})
	}
}

// TestAnthropicPassThroughWithAnthropicClient drives the Anthropic ingress
// with the official anthropic-sdk-go client against the Anthropic mock:
// the pass-through translator end to end.
func TestAnthropicPassThroughWithAnthropicClient(t *testing.T) {
	g, seen := anthropicGateway(t)
	c := g.Anthropic()
	ctx := context.Background()
	user := []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello"))}

	msg, err := c.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude", MaxTokens: 256, Messages: user})
	if err != nil {
		t.Fatal(err)
	}
	body, auth, path := lastSent(t, seen)
	if msg.StopReason != anthropic.StopReasonEndTurn || !strings.HasSuffix(msg.Content[0].Text, "hello") || msg.Usage.InputTokens == 0 ||
		body["model"] != "mock-claude-sonnet" || path != "/v1/messages" || !strings.HasPrefix(auth, "sk-ant-test 2023-06-01") {
		t.Fatalf("message %+v; upstream got %s %q %v", msg, path, auth, body)
	}

	weather := anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"location": map[string]any{"type": "string"}},
	}, "get_weather")
	params := anthropic.MessageNewParams{
		Model: "claude", MaxTokens: 4096, Tools: []anthropic.ToolUnionParam{weather},
		Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather in Tokyo?"))},
	}
	stream := c.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 3 || acc.Content[0].Signature == "" || acc.Content[2].Type != "tool_use" || string(acc.Content[2].Input) != `{"location":"Tokyo"}` {
		t.Fatalf("streamed %+v", acc.Content)
	}
	params.Messages = append(params.Messages, acc.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(acc.Content[2].ID, "clear", false)))
	msg, err = c.Messages.New(ctx, params)
	if err != nil || !strings.Contains(msg.Content[1].Text, "clear") {
		t.Fatalf("answer %+v, %v", msg, err)
	}

	_, err = c.Messages.New(ctx, anthropic.MessageNewParams{Model: "error-429", MaxTokens: 16, Messages: user})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || string(apiErr.Type()) != "rate_limit_error" || apiErr.Response.Header.Get("Retry-After") != "7" {
		t.Fatalf("429: %v", err)
	}
	n, err := c.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "claude", Messages: user})
	if err != nil || n.InputTokens == 0 {
		t.Fatalf("count_tokens: %+v, %v", n, err)
	}
	if _, _, path := lastSent(t, seen); path != "/v1/messages/count_tokens" {
		t.Fatalf("count_tokens went to %s", path)
	}
	stream = c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "error-midstream", MaxTokens: 16, Messages: user})
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "overloaded") {
		t.Fatalf("midstream: %v", err)
	}
}
