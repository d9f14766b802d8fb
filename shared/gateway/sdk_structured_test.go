package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
)

// TestAnthropicSDKOutputConfig sends anthropic-sdk-go's output_config (a
// JSON schema format and an effort) and stop sequences through the
// gateway to the Bedrock and Gemini mocks, plain and streamed.
func TestAnthropicSDKOutputConfig(t *testing.T) {
	g, _ := matrixGateway(t)
	ac := g.Anthropic()
	schema := map[string]any{"type": "object", "properties": map[string]any{"answer": map[string]any{"type": "string"}},
		"required": []string{"answer"}, "additionalProperties": false}
	format := anthropic.OutputConfigParam{Effort: anthropic.OutputConfigEffortLow, Format: anthropic.JSONOutputFormatParam{Schema: schema}}
	user := func(s string) []anthropic.MessageParam {
		return []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(s))}
	}
	for _, streamed := range []bool{false, true} {
		mode := map[bool]string{false: "/plain", true: "/stream"}[streamed]
		// The answer is one text block of the JSON asked for: through a
		// forced tool (Claude Sonnet 4 on Bedrock), Converse's
		// outputConfig.textFormat (Claude Sonnet 4.5, where tools may come
		// along) or Gemini's response schema (with a thinking budget on
		// Gemini 2.5, a thinking level on Gemini 3).
		for _, c := range []struct {
			model string
			tools []anthropic.ToolUnionParam
		}{{"bedrock", nil}, {"bedrock-native", weatherTool}, {"gemini", nil}, {"gemini-3", nil}} {
			t.Run(c.model+mode, func(t *testing.T) {
				msg := anthropicComplete(t, ac, anthropic.MessageNewParams{Model: anthropic.Model(c.model), MaxTokens: 256,
					Messages: user("Paris as JSON"), Tools: c.tools, OutputConfig: format}, streamed)
				var v struct {
					Answer string `json:"answer"`
				}
				if msg.StopReason != anthropic.StopReasonEndTurn || len(msg.Content) != 1 || msg.Content[0].Type != "text" ||
					json.Unmarshal([]byte(msg.Content[0].Text), &v) != nil || !strings.Contains(v.Answer, "Paris as JSON") {
					t.Fatalf("message %+v", msg)
				}
			})
		}
		// Bedrock says which stop sequence ended the answer.
		t.Run("bedrock-stop-sequence"+mode, func(t *testing.T) {
			msg := anthropicComplete(t, ac, anthropic.MessageNewParams{Model: "bedrock", MaxTokens: 256,
				Messages: user("hi"), StopSequences: []string{"provider", "mock"}}, streamed)
			if msg.StopReason != anthropic.StopReasonStopSequence || msg.StopSequence != "mock" || len(msg.Content) != 1 ||
				msg.Content[0].Text != "Hello from the Sluice " {
				t.Fatalf("message %+v", msg)
			}
		})
	}
	// What a backend cannot take is refused in Anthropic's error shape,
	// naming the field.
	for _, c := range []struct {
		name, model, field string
		params             anthropic.MessageNewParams
	}{
		{"unknown effort", "bedrock", "output_config.effort", anthropic.MessageNewParams{OutputConfig: anthropic.OutputConfigParam{Effort: "extreme"}}},
		{"unknown effort", "gemini", "output_config.effort", anthropic.MessageNewParams{OutputConfig: anthropic.OutputConfigParam{Effort: "extreme"}}},
		{"effort with a thinking budget", "gemini-3", "output_config.effort", anthropic.MessageNewParams{
			OutputConfig: anthropic.OutputConfigParam{Effort: anthropic.OutputConfigEffortHigh}, Thinking: anthropic.ThinkingConfigParamOfEnabled(1024)}},
		{"forced-tool format with tools", "bedrock", "output_config.format", anthropic.MessageNewParams{OutputConfig: format, Tools: weatherTool}},
	} {
		t.Run(c.model+"/"+strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			p := c.params
			p.Model, p.MaxTokens, p.Messages = anthropic.Model(c.model), 2048, user("hi")
			_, err := ac.Messages.New(context.Background(), p)
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.RawJSON(), `"invalid_request_error"`) ||
				!strings.Contains(apiErr.RawJSON(), c.field) {
				t.Fatalf("err %v", err)
			}
		})
	}
}
