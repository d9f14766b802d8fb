package mock

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// TestAnthropicMockSpeaksAnthropic points the official anthropic-sdk-go
// client straight at the mock: plain, streamed (accumulated by the SDK),
// tool use with its result sent back, extended thinking, errors.
func TestAnthropicMockSpeaksAnthropic(t *testing.T) {
	srv := httptest.NewServer(&Anthropic{})
	defer srv.Close()
	c := anthropic.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()

	t.Run("plain", func(t *testing.T) {
		msg, err := c.Messages.New(ctx, anthropic.MessageNewParams{
			Model: "mock-claude", MaxTokens: 256,
			System:   []anthropic.TextBlockParam{{Text: "be brief"}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello"))},
		})
		if err != nil {
			t.Fatal(err)
		}
		if msg.StopReason != anthropic.StopReasonEndTurn || len(msg.Content) != 1 || !strings.HasSuffix(msg.Content[0].Text, "hello") ||
			msg.Usage.InputTokens == 0 || msg.Usage.OutputTokens == 0 || !strings.HasPrefix(msg.ID, "msg_") {
			t.Fatalf("message %+v", msg)
		}
	})

	t.Run("streamed", func(t *testing.T) {
		stream := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
			Model: "mock-claude", MaxTokens: 256,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("stream"))},
		})
		var acc anthropic.Message
		events := 0
		for stream.Next() {
			if err := acc.Accumulate(stream.Current()); err != nil {
				t.Fatal(err)
			}
			events++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if events < 6 || acc.StopReason != anthropic.StopReasonEndTurn || !strings.HasSuffix(acc.Content[0].Text, "stream") || acc.Usage.OutputTokens == 0 {
			t.Fatalf("accumulated %d events: %+v", events, acc)
		}
	})

	weather := anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"location": map[string]any{"type": "string"}}, Required: []string{"location"},
	}, "get_weather")
	ask := anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris and Tokyo?"))

	t.Run("tool use streamed, parallel, then answered", func(t *testing.T) {
		stream := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
			Model: "mock-claude", MaxTokens: 256, Tools: []anthropic.ToolUnionParam{weather},
			Messages: []anthropic.MessageParam{ask},
		})
		var acc anthropic.Message
		for stream.Next() {
			if err := acc.Accumulate(stream.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		var results []anthropic.ContentBlockParamUnion
		var locations []string
		for _, b := range acc.Content {
			if b.Type == "tool_use" {
				locations = append(locations, string(b.Input))
				results = append(results, anthropic.NewToolResultBlock(b.ID, "sunny in "+b.Name, false))
			}
		}
		if acc.StopReason != anthropic.StopReasonToolUse || len(locations) != 2 || locations[1] != `{"location":"Tokyo"}` {
			t.Fatalf("tool use: stop %q, inputs %q", acc.StopReason, locations)
		}
		msg, err := c.Messages.New(ctx, anthropic.MessageNewParams{
			Model: "mock-claude", MaxTokens: 256, Tools: []anthropic.ToolUnionParam{weather},
			Messages: []anthropic.MessageParam{ask, acc.ToParam(), anthropic.NewUserMessage(results...)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if msg.StopReason != anthropic.StopReasonEndTurn || !strings.Contains(msg.Content[0].Text, "sunny in get_weather") {
			t.Fatalf("answer %+v", msg)
		}
		// A tool_use left unanswered is refused, as Anthropic does.
		_, err = c.Messages.New(ctx, anthropic.MessageNewParams{
			Model: "mock-claude", MaxTokens: 256, Tools: []anthropic.ToolUnionParam{weather},
			Messages: []anthropic.MessageParam{ask, acc.ToParam(), anthropic.NewUserMessage(anthropic.NewTextBlock("?"))},
		})
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "tool_result") {
			t.Fatalf("unanswered tool_use: %v", err)
		}
	})

	t.Run("thinking with tools round trip", func(t *testing.T) {
		params := anthropic.MessageNewParams{
			Model: "mock-claude", MaxTokens: 4096, Tools: []anthropic.ToolUnionParam{weather},
			Thinking: anthropic.ThinkingConfigParamOfEnabled(2048),
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather?"))},
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
		if len(acc.Content) != 3 || acc.Content[0].Type != "thinking" || acc.Content[0].Signature == "" || acc.Content[0].Thinking == "" {
			t.Fatalf("thinking stream: %+v", acc.Content)
		}
		toolID := acc.Content[2].ID
		params.Messages = append(params.Messages, acc.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(toolID, "rain", false)))
		msg, err := c.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Content[0].Type != "thinking" || !strings.Contains(msg.Content[1].Text, "rain") {
			t.Fatalf("answer %+v", msg.Content)
		}
		// A tampered signature is refused.
		bad := acc.ToParam()
		bad.OfAssistant.Content[0] = anthropic.NewThinkingBlock("forged", acc.Content[0].Thinking)
		params.Messages[1] = bad
		_, err = c.Messages.New(ctx, params)
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "signature") {
			t.Fatalf("forged signature: %v", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			model  string
			status int
			typ    string
		}{{"error-429", 429, "rate_limit_error"}, {"error-529", 529, "overloaded_error"}, {"error-context", 400, "invalid_request_error"}} {
			_, err := c.Messages.New(ctx, anthropic.MessageNewParams{
				Model: anthropic.Model(tt.model), MaxTokens: 16,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))},
			})
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || string(apiErr.Type()) != tt.typ {
				t.Fatalf("%s: %v", tt.model, err)
			}
		}
		stream := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
			Model: "error-midstream", MaxTokens: 16,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))},
		})
		for stream.Next() {
		}
		if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "overloaded") {
			t.Fatalf("midstream error: %v", err)
		}
	})

	t.Run("count tokens", func(t *testing.T) {
		n, err := c.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{
			Model:    "mock-claude",
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("count me"))},
		})
		if err != nil || n.InputTokens == 0 {
			t.Fatalf("count tokens: %+v, %v", n, err)
		}
	})
}
