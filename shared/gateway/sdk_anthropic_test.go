package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
)

// anthropicSDK points the official Anthropic SDK at a gateway whose
// routes lead to the mock OpenAI provider, over real sockets.
func anthropicSDK(t *testing.T) anthropic.Client {
	t.Helper()
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	return gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"claude-on-openai": gatewaytest.OpenAIAt(up + "/v1"), "error-429": gatewaytest.OpenAIAt(up + "/v1")})).Anthropic()
}

var weatherTool = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
	Name: "get_weather", Description: anthropic.String("Current weather in a city"),
	InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"query": map[string]any{"type": "string"}}},
}}}

func TestAnthropicSDKPlainAndStreaming(t *testing.T) {
	c := anthropicSDK(t)
	ctx := context.Background()
	params := anthropic.MessageNewParams{
		Model: "claude-on-openai", MaxTokens: 256,
		System:   []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))},
	}
	msg, err := c.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Model != "claude-on-openai" || msg.StopReason != anthropic.StopReasonEndTurn || len(msg.Content) != 1 ||
		!strings.HasSuffix(msg.Content[0].Text, "hello there") || msg.Usage.InputTokens == 0 || msg.Usage.OutputTokens == 0 {
		t.Fatalf("message %+v", msg)
	}

	stream := c.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	var deltas int
	for stream.Next() {
		ev := stream.Current()
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "content_block_delta" {
			deltas++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if deltas < 3 || acc.Content[0].Text != msg.Content[0].Text || acc.StopReason != anthropic.StopReasonEndTurn || acc.Usage.OutputTokens != msg.Usage.OutputTokens {
		t.Fatalf("streamed %d deltas: %+v", deltas, acc)
	}

	// Thinking: the mock reasons when asked to think.
	params.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("think it over"))}
	params.Thinking = anthropic.ThinkingConfigParamOfEnabled(2048)
	stream = c.Messages.NewStreaming(ctx, params)
	acc = anthropic.Message{}
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 2 || acc.Content[0].Type != "thinking" || acc.Content[0].Thinking != "Let me think about this." || acc.Content[1].Type != "text" {
		t.Fatalf("thinking stream %+v", acc.Content)
	}
}

func TestAnthropicSDKToolRoundTrip(t *testing.T) {
	c := anthropicSDK(t)
	ctx := context.Background()
	for _, streaming := range []bool{false, true} {
		params := anthropic.MessageNewParams{
			Model: "claude-on-openai", MaxTokens: 256, Tools: weatherTool,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("use the tool for Paris, in parallel"))},
		}
		var msg *anthropic.Message
		if streaming {
			stream := c.Messages.NewStreaming(ctx, params)
			msg = &anthropic.Message{}
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			if msg, err = c.Messages.New(ctx, params); err != nil {
				t.Fatal(err)
			}
		}
		if msg.StopReason != anthropic.StopReasonToolUse || len(msg.Content) != 2 {
			t.Fatalf("streaming %v: %+v", streaming, msg)
		}
		var results []anthropic.ContentBlockParamUnion
		for i, b := range msg.Content {
			tu := b.AsToolUse()
			if b.Type != "tool_use" || tu.Name != "get_weather" || !strings.Contains(string(tu.Input), `"n":`+string(rune('0'+i))) {
				t.Fatalf("streaming %v: block %d %+v", streaming, i, b)
			}
			results = append(results, anthropic.NewToolResultBlock(tu.ID, "sunny "+tu.ID, false))
		}
		params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(results...))
		final, err := c.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if final.StopReason != anthropic.StopReasonEndTurn || !strings.Contains(final.Content[0].Text, "tool result sunny call_mock") {
			t.Fatalf("streaming %v: after tool results %+v", streaming, final)
		}
	}
}

func TestAnthropicSDKErrorsAndCountTokens(t *testing.T) {
	c := anthropicSDK(t)
	ctx := context.Background()
	_, err := c.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "error-429", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))},
	})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("Retry-After") != "7" ||
		!strings.Contains(apiErr.RawJSON(), `"rate_limit_error"`) {
		t.Fatalf("429: %v", err)
	}
	_, err = c.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "no-such-model", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))},
	})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.RawJSON(), `"not_found_error"`) {
		t.Fatalf("404: %v", err)
	}
	n, err := c.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{
		Model:    "claude-on-openai",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How many tokens is this?"))},
		Tools:    []anthropic.MessageCountTokensToolUnionParam{{OfTool: weatherTool[0].OfTool}},
	})
	if err != nil || n.InputTokens == 0 {
		t.Fatalf("count_tokens %+v, %v", n, err)
	}
	page, err := c.Models.List(ctx, anthropic.ModelListParams{})
	if err != nil || len(page.Data) != 2 || page.Data[0].ID != "claude-on-openai" || page.Data[0].Type != "model" {
		t.Fatalf("models %+v, %v", page, err)
	}
}

// TestOpenAISDKResponsesPassThrough drives /v1/responses through the
// gateway to the mock with openai-go's Responses client.
func TestOpenAISDKResponsesPassThrough(t *testing.T) {
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"gpt-resp": gatewaytest.OpenAIAt(up + "/v1")}))
	c := f.OpenAI()
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "gpt-resp", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi responses")}}
	resp, err := c.Responses.New(ctx, params)
	if err != nil || !strings.HasSuffix(resp.OutputText(), "hi responses") || resp.Usage.InputTokens == 0 {
		t.Fatalf("response %+v, %v", resp, err)
	}
	stream := c.Responses.NewStreaming(ctx, params)
	var text strings.Builder
	var events int
	for stream.Next() {
		ev := stream.Current()
		events++
		if ev.Type == "response.output_text.delta" {
			text.WriteString(ev.Delta)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != resp.OutputText() || events < 8 {
		t.Fatalf("streamed %d events, text %q", events, text.String())
	}
}

// TestAnthropicSDKInterleavedToolCalls replays an upstream whose parallel
// tool-call deltas interleave: the SDK must still assemble both inputs.
func TestAnthropicSDKInterleavedToolCalls(t *testing.T) {
	stream, err := os.ReadFile("../provider/openai/testdata/from_anthropic/interleaved_stream.upstream")
	if err != nil {
		t.Fatal(err)
	}
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(stream)
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}))
	c := f.Anthropic()
	s := c.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
		Model: "m", MaxTokens: 50, Tools: weatherTool,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("twice"))},
	})
	var msg anthropic.Message
	for s.Next() {
		if err := msg.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 2 || string(msg.Content[0].Input) != `{"x":1}` || string(msg.Content[1].Input) != `{"x":2}` || msg.StopReason != anthropic.StopReasonToolUse {
		t.Fatalf("message %+v", msg)
	}
}

// TestAnthropicSDKRequestReachesOpenAI checks what an OpenAI backend
// receives when the SDK sends a request using most of the Messages API:
// the SDK's own serialisation must pass strict decoding and map field by
// field.
func TestAnthropicSDKRequestReachesOpenAI(t *testing.T) {
	var got []byte
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(got))
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}))
	c := f.Anthropic()
	_, err := c.Messages.New(context.Background(), anthropic.MessageNewParams{
		Model: "m", MaxTokens: 300,
		System:        []anthropic.TextBlockParam{{Text: "Be brief."}},
		StopSequences: []string{"END"},
		Metadata:      anthropic.MetadataParam{UserID: anthropic.String("u-1")},
		Thinking:      anthropic.ThinkingConfigParamOfEnabled(20000),
		Tools:         weatherTool,
		ToolChoice:    anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{DisableParallelToolUse: anthropic.Bool(true)}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("Weather?")),
			anthropic.NewAssistantMessage(anthropic.NewToolUseBlock("toolu_1", map[string]any{"query": "Paris"}, "get_weather")),
			anthropic.NewUserMessage(
				anthropic.NewToolResultBlock("toolu_1", "rainy", true),
				anthropic.NewImageBlockBase64("image/png", "iVBORw0KGgo="),
				anthropic.NewImageBlock(anthropic.URLImageSourceParam{URL: "https://example.com/a.jpg"}),
				anthropic.NewDocumentBlock(anthropic.Base64PDFSourceParam{Data: "JVBERi0="}),
				anthropic.NewTextBlock("and now?"),
			),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Model               string
		MaxCompletionTokens int64 `json:"max_completion_tokens"`
		Stop                []string
		User                string
		ReasoningEffort     string `json:"reasoning_effort"`
		ToolChoice          string `json:"tool_choice"`
		ParallelToolCalls   *bool  `json:"parallel_tool_calls"`
		Tools               []struct {
			Function struct{ Name string }
		}
		Messages []struct {
			Role       string
			Content    json.RawMessage
			ToolCalls  []struct{ ID, Type string } `json:"tool_calls"`
			ToolCallID string                      `json:"tool_call_id"`
		}
	}
	if err := json.Unmarshal(got, &req); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	roles := ""
	for _, m := range req.Messages {
		roles += m.Role + " "
	}
	if req.Model != "m" || req.MaxCompletionTokens != 300 || len(req.Stop) != 1 || req.User != "u-1" || req.ReasoningEffort != "high" ||
		req.ToolChoice != "required" || req.ParallelToolCalls == nil || *req.ParallelToolCalls || len(req.Tools) != 1 ||
		roles != "system user assistant tool user " || req.Messages[2].ToolCalls[0].ID != "toolu_1" ||
		req.Messages[3].ToolCallID != "toolu_1" || string(req.Messages[3].Content) != `"Error: rainy"` ||
		!bytes.Contains(req.Messages[4].Content, []byte(`"url":"data:image/png;base64,iVBORw0KGgo="`)) ||
		!bytes.Contains(req.Messages[4].Content, []byte(`"url":"https://example.com/a.jpg"`)) ||
		!bytes.Contains(req.Messages[4].Content, []byte(`"file_data":"data:application/pdf;base64,JVBERi0="`)) {
		t.Fatalf("upstream request %s", got)
	}
}
