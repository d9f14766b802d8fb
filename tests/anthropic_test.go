package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// TestLocalWithAnthropicSDK drives the local gateway with the official
// anthropic-sdk-go client pointed at it by base URL, as a coding agent
// would be: the example routes lead to the built-in mock OpenAI provider,
// so every request crosses the Messages ↔ Chat Completions translation.
func TestLocalWithAnthropicSDK(t *testing.T) {
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+env.Redis(t))
	client := anthropic.NewClient(option.WithBaseURL(p.url("")), option.WithAPIKey(p.key), option.WithMaxRetries(0))
	ctx := context.Background()
	params := anthropic.MessageNewParams{
		Model: "gpt-4o-mini", MaxTokens: 200,
		System:   []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hi"))},
	}

	t.Run("plain", func(t *testing.T) {
		m, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != "message" || m.StopReason != anthropic.StopReasonEndTurn || !strings.Contains(m.Content[0].Text, "Say hi") || m.Usage.OutputTokens == 0 {
			t.Fatalf("message %+v", m)
		}
	})

	t.Run("streamed", func(t *testing.T) {
		s := client.Messages.NewStreaming(ctx, params)
		var m anthropic.Message
		events := 0
		for s.Next() {
			if err := m.Accumulate(s.Current()); err != nil {
				t.Fatal(err)
			}
			events++
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if events < 6 || !strings.Contains(m.Content[0].Text, "Say hi") || m.StopReason != anthropic.StopReasonEndTurn || m.Usage.OutputTokens == 0 {
			t.Fatalf("%d events, message %+v", events, m)
		}
	})

	t.Run("tool use round trip", func(t *testing.T) {
		tp := params
		tp.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name: "lookup", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"query": map[string]any{"type": "string"}}},
		}}}
		tp.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("use the tool"))}
		s := client.Messages.NewStreaming(ctx, tp)
		var m anthropic.Message
		for s.Next() {
			if err := m.Accumulate(s.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		if m.StopReason != anthropic.StopReasonToolUse || len(m.Content) != 1 || m.Content[0].Name != "lookup" {
			t.Fatalf("tool call %+v", m)
		}
		tp.Messages = append(tp.Messages, m.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(m.Content[0].ID, "42", false)))
		final, err := client.Messages.New(ctx, tp)
		if err != nil || !strings.Contains(final.Content[0].Text, "tool result 42") {
			t.Fatalf("after the tool result: %+v, %v", final, err)
		}
	})

	t.Run("count_tokens and models", func(t *testing.T) {
		n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "gpt-4o-mini", Messages: params.Messages})
		if err != nil || n.InputTokens == 0 {
			t.Fatalf("count_tokens %+v, %v", n, err)
		}
		page, err := client.Models.List(ctx, anthropic.ModelListParams{})
		if err != nil || len(page.Data) == 0 || page.Data[0].Type != "model" {
			t.Fatalf("models %+v, %v", page, err)
		}
	})

	t.Run("errors are Anthropic errors", func(t *testing.T) {
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "no-such-model", MaxTokens: 5, Messages: params.Messages})
		var apiErr *anthropic.Error
		if !asError(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.RawJSON(), `"not_found_error"`) {
			t.Fatalf("err = %v", err)
		}
		bad := anthropic.NewClient(option.WithBaseURL(p.url("")), option.WithAPIKey("sk-sluice-nope-nope"), option.WithMaxRetries(0))
		_, err = bad.Messages.New(ctx, params)
		if !asError(err, &apiErr) || apiErr.StatusCode != 401 || !strings.Contains(apiErr.RawJSON(), `"authentication_error"`) {
			t.Fatalf("bad key: err = %v", err)
		}
	})
}
