package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
)

// TestAnthropicSDKOutputConfig sends anthropic-sdk-go's output_config
// (a JSON schema format and an effort) through the gateway to the Bedrock
// and Gemini mocks, plain and streamed: the answer is one text block of
// the JSON asked for, and an effort the SDK cannot send is refused in
// Anthropic's error shape, naming the field.
func TestAnthropicSDKOutputConfig(t *testing.T) {
	url, key, _ := matrixGateway(t)
	ac := anthropic.NewClient(aoption.WithBaseURL(url), aoption.WithAPIKey(key), aoption.WithMaxRetries(0))
	schema := map[string]any{"type": "object", "properties": map[string]any{"answer": map[string]any{"type": "string"}},
		"required": []string{"answer"}, "additionalProperties": false}
	for _, p := range []string{"bedrock", "gemini"} {
		for _, streamed := range []bool{false, true} {
			t.Run(p+map[bool]string{false: "/plain", true: "/stream"}[streamed], func(t *testing.T) {
				msg := anthropicComplete(t, ac, anthropic.MessageNewParams{Model: anthropic.Model(p), MaxTokens: 256,
					Messages:     []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("the weather in Paris as JSON"))},
					OutputConfig: anthropic.OutputConfigParam{Effort: anthropic.OutputConfigEffortLow, Format: anthropic.JSONOutputFormatParam{Schema: schema}},
				}, streamed)
				var v struct {
					Answer string `json:"answer"`
				}
				if msg.StopReason != anthropic.StopReasonEndTurn || len(msg.Content) != 1 || msg.Content[0].Type != "text" ||
					json.Unmarshal([]byte(msg.Content[0].Text), &v) != nil || !strings.Contains(v.Answer, "Paris") {
					t.Fatalf("message %+v", msg)
				}
			})
		}
		t.Run(p+"/unknown-effort", func(t *testing.T) {
			_, err := ac.Messages.New(context.Background(), anthropic.MessageNewParams{Model: anthropic.Model(p), MaxTokens: 16,
				Messages:     []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
				OutputConfig: anthropic.OutputConfigParam{Effort: "extreme"}})
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.RawJSON(), `"invalid_request_error"`) ||
				!strings.Contains(apiErr.RawJSON(), "output_config.effort") {
				t.Fatalf("err %v", err)
			}
		})
	}
}
