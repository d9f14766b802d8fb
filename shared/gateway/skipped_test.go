package gateway_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/route"
)

// Upstream answers that each hold one element the client's protocol has
// no counterpart for.
const (
	openAIStreamWithUnknown = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}]}\n\n" +
		"event: future_event\ndata: {\"x\":1}\n\n" +
		"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: [DONE]\n\n"
	anthropicStreamWithUnknown = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n" +
		"event: future_event\ndata: {\"type\":\"future_event\"}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	anthropicBodyWithUnknown = `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"},{"type":"future_block"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`
	geminiStreamWithUnknown  = "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"hi\"},{\"executableCode\":{\"language\":\"PYTHON\",\"code\":\"1+1\"}}]},\"index\":0}],\"responseId\":\"r\"}\n\n" +
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"!\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":1,\"candidatesTokenCount\":2,\"totalTokenCount\":3},\"responseId\":\"r\"}\n\n"
	geminiBodyWithUnknown = `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"},{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"2"}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2},"responseId":"r"}`
)

// bedrockStreamWithUnknown is a ConverseStream answer, in AWS's event
// stream framing, with an event kind Sluice does not know.
func bedrockStreamWithUnknown(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, e := range [][2]string{
		{"messageStart", `{"role":"assistant"}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"hi"}}`},
		{"futureEvent", `{"x":1}`},
		{"contentBlockStop", `{"contentBlockIndex":0}`},
		{"messageStop", `{"stopReason":"end_turn"}`},
		{"metadata", `{"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1}}`},
	} {
		var hs eventstream.Headers
		hs.Set(":event-type", eventstream.StringValue(e[0]))
		hs.Set(":content-type", eventstream.StringValue("application/json"))
		hs.Set(":message-type", eventstream.StringValue("event"))
		if err := enc.Encode(&buf, eventstream.Message{Headers: hs, Payload: []byte(e[1])}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// TestSkippedEventsReachTheRequestLog: for every provider protocol and
// every client protocol it translates, an upstream element with no
// client counterpart is counted, and the count is on the request's log
// line as skipped_events, streamed or not.
func TestSkippedEventsReachTheRequestLog(t *testing.T) {
	const (
		chatStream     = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		chatPlain      = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
		messagesStream = `{"model":"m","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
		messagesPlain  = `{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
		sse            = "text/event-stream"
		eventStream    = "application/vnd.amazon.eventstream"
		jsonType       = "application/json"
	)
	bedrock := bedrockStreamWithUnknown(t)
	tests := []struct {
		name        string
		backend     route.Backend
		path, body  string
		contentType string
		upstream    string
	}{
		{"openai/anthropic-client", route.Backend{Provider: "openai"}, "/v1/messages", messagesStream, sse, openAIStreamWithUnknown},
		{"azure-openai/anthropic-client", route.Backend{Provider: "azure-openai"}, "/v1/messages", messagesStream, sse, openAIStreamWithUnknown},
		{"anthropic/openai-client", route.Backend{Provider: "anthropic"}, "/v1/chat/completions", chatStream, sse, anthropicStreamWithUnknown},
		{"anthropic/openai-client/plain", route.Backend{Provider: "anthropic"}, "/v1/chat/completions", chatPlain, jsonType, anthropicBodyWithUnknown},
		{"bedrock/openai-client", route.Backend{Provider: "bedrock", Region: "us-east-1", Credential: "bedrock-key"}, "/v1/chat/completions", chatStream, eventStream, bedrock},
		{"bedrock/anthropic-client", route.Backend{Provider: "bedrock", Region: "us-east-1", Credential: "bedrock-key"}, "/v1/messages", messagesStream, eventStream, bedrock},
		{"gemini/openai-client", route.Backend{Provider: "gemini"}, "/v1/chat/completions", chatStream, sse, geminiStreamWithUnknown},
		{"gemini/anthropic-client", route.Backend{Provider: "gemini"}, "/v1/messages", messagesStream, sse, geminiStreamWithUnknown},
		{"gemini/openai-client/plain", route.Backend{Provider: "gemini"}, "/v1/chat/completions", chatPlain, jsonType, geminiBodyWithUnknown},
		{"vertex-ai/openai-client", route.Backend{Provider: "vertex-ai"}, "/v1/chat/completions", chatStream, sse, geminiStreamWithUnknown},
		{"vertex-ai/anthropic-client/plain", route.Backend{Provider: "vertex-ai"}, "/v1/messages", messagesPlain, jsonType, geminiBodyWithUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.backend
			b.Endpoint = gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write([]byte(tt.upstream))
			}))
			var logs bytes.Buffer
			g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": {b}}),
				gatewaytest.WithConfig(gateway.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}),
				gatewaytest.WithCredentials(map[string]string{"bedrock-key": "bedrock-api-key"}))
			rec := g.Serve(http.MethodPost, tt.path, tt.body)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "hi") {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var line struct {
				Msg     string `json:"msg"`
				Skipped int    `json:"skipped_events"`
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Msg != "request" {
				t.Fatalf("request log %q: %v", logs.String(), err)
			}
			if line.Skipped != 1 {
				t.Fatalf("skipped_events %d, want 1; log %s", line.Skipped, logs.String())
			}
		})
	}
}
