package openai

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/sse"
)

func TestRequestModelMapping(t *testing.T) {
	tests := []struct {
		name, client, upstream, body, want string
	}{
		{"same name passes through", "gpt-4o", "gpt-4o", `{"model":"gpt-4o","messages":[]}`, `{"model":"gpt-4o","messages":[]}`},
		{"renamed in place", "fast", "gpt-4o-mini", `{"messages":[{"role":"user","content":"model"}], "model" : "fast","n":1}`,
			`{"messages":[{"role":"user","content":"model"}], "model" : "gpt-4o-mini","n":1}`},
		{"nested model keys are left alone", "a", "b", `{"tools":[{"model":"a"}],"model":"a"}`, `{"tools":[{"model":"a"}],"model":"b"}`},
		{"escaped names", "a", `we"ird`, `{"model":"\u0061"}`, `{"model":"we\"ird"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(api.EndpointChatCompletions, tt.client, tt.upstream)
			if err != nil {
				t.Fatal(err)
			}
			path, out, err := tr.Request([]byte(tt.body))
			if err != nil || path != "/chat/completions" || string(out) != tt.want {
				t.Fatalf("Request = %q, %s, %v; want %s", path, out, err, tt.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	tr, _ := New(api.EndpointChatCompletions, "m", "m")
	tests := []struct {
		name       string
		status     int
		body       string
		wantKind   error
		wantStatus int
		wantBody   string
	}{
		{"rate limit keeps its object", 429, `{"error":{"message":"Slow down","type":"requests","code":"rate_limit_exceeded"}}`,
			api.ErrRateLimited, 429, `{"error":{"message":"Slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"context length keeps its code", 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			api.ErrBadRequest, 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`},
		{"non-JSON 503", 503, `<html>busy</html>`, api.ErrUpstream, 503,
			`{"error":{"message":"upstream returned status Service Unavailable","type":"server_error","param":null,"code":"upstream_error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tr.Error(tt.status, []byte(tt.body))
			if !errors.Is(err, tt.wantKind) || api.Status(err) != tt.wantStatus {
				t.Fatalf("err = %v (status %d), want kind %v status %d", err, api.Status(err), tt.wantKind, tt.wantStatus)
			}
			if got := string(api.OpenAIBody(err)); got != tt.wantBody {
				t.Errorf("body = %s\nwant   %s", got, tt.wantBody)
			}
		})
	}
	_ = http.StatusOK
}

func TestStreamUsageRequested(t *testing.T) {
	tests := []struct {
		name, body, want string
		hidden           bool
	}{
		{"not streaming", `{"model":"m","messages":[]}`, `{"model":"m","messages":[]}`, false},
		{"stream false", `{"model":"m","stream":false}`, `{"model":"m","stream":false}`, false},
		{"added", `{"model":"m","stream":true}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, true},
		{"client asked", `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, false},
		{"other options kept", `{"stream_options":{"include_obfuscation":false},"model":"m","stream":true}`,
			`{"stream_options":{"include_obfuscation":false,"include_usage":true},"model":"m","stream":true}`, true},
		{"usage off turned on", `{"model":"m","stream":true,"stream_options":{"include_usage":false}}`,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := New(api.EndpointChatCompletions, "m", "m")
			_, out, err := tr.Request([]byte(tt.body))
			if err != nil || string(out) != tt.want || tr.hideUsage != tt.hidden {
				t.Fatalf("Request = %s, hidden %v, %v; want %s, hidden %v", out, tr.hideUsage, err, tt.want, tt.hidden)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tr, _ := New(api.EndpointChatCompletions, "m", "m")
	tr.Response([]byte(`{"id":"x","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,` +
		`"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":20}}}`))
	want := api.Usage{InputTokens: 12, OutputTokens: 30, CachedTokens: 8, ReasoningTokens: 20, Reported: true}
	if got := tr.Usage(); got != want {
		t.Fatalf("Usage = %+v, want %+v", got, want)
	}

	// Streamed: usage arrives in the last chunk, which is hidden when Sluice
	// asked for it on the client's behalf.
	tr, _ = New(api.EndpointChatCompletions, "m", "m")
	tr.Request([]byte(`{"model":"m","stream":true}`))
	content := sse.Event{Data: []byte(`{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}`), Raw: []byte("data: x\n\n")}
	if out, _ := tr.StreamEvent(nil, content); len(out) == 0 || tr.Usage().Reported {
		t.Fatalf("content chunk: out %q, usage %+v", out, tr.Usage())
	}
	last := sse.Event{Data: []byte(`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}`), Raw: []byte("data: y\n\n")}
	if out, _ := tr.StreamEvent(nil, last); len(out) != 0 {
		t.Fatalf("usage chunk forwarded: %q", out)
	}
	if got := tr.Usage(); got != (api.Usage{InputTokens: 3, OutputTokens: 5, Reported: true}) {
		t.Fatalf("stream Usage = %+v", got)
	}
}

func TestHasUsage(t *testing.T) {
	tests := []struct {
		data string
		want bool
	}{
		{`{"choices":[]}`, false},
		{`{"choices":[],"usage":null}`, false},
		{`{"choices":[],"usage" : null}`, false},
		{`{"choices":[],"usage":{"prompt_tokens":1}}`, true},
		{`{"choices":[],"usage" :  {"prompt_tokens":1}}`, true},
		{`{"choices":[],"usage"`, false},
	}
	for _, tt := range tests {
		if got := hasUsage([]byte(tt.data)); got != tt.want {
			t.Errorf("hasUsage(%s) = %v, want %v", tt.data, got, tt.want)
		}
	}
}

// TestChatStreamEnd: a pass-through chat stream that ends (cleanly, at the
// HTTP level) before a finish_reason, [DONE] or an error event was cut, and
// must end with an error event rather than look complete.
func TestChatStreamEnd(t *testing.T) {
	content := `{"id":"c","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`
	tests := []struct {
		name   string
		events []string
		cut    bool
	}{
		{"done", []string{content, `{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, "[DONE]"}, false},
		{"finish reason without done", []string{content, `{"id":"c","choices":[{"index":0,"delta":{},"finish_reason" : "length"}]}`}, false},
		{"upstream error event", []string{content, `{"error":{"message":"overloaded","type":"server_error"}}`}, false},
		{"content only", []string{content}, true},
		{"nothing", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, _ := New(api.EndpointChatCompletions, "m", "m")
			tr.Request([]byte(`{"model":"m","stream":true,"stream_options":{"include_usage":true}}`))
			for _, e := range tt.events {
				tr.StreamEvent(nil, sse.Event{Data: []byte(e), Raw: []byte("data: " + e + "\n\n")})
			}
			_, err := tr.StreamEnd(nil)
			if (err != nil) != tt.cut || (err != nil && api.Status(err) != http.StatusBadGateway) {
				t.Fatalf("StreamEnd: %v", err)
			}
		})
	}
}

// featureRequest uses most of Chat Completions: system prompt, multi-turn,
// tools and tool choice, a parallel tool-call turn and its results, images
// by URL and base64, a JSON schema, stop, sampling, max tokens, reasoning.
const featureRequest = `{"model":"fast","messages":[{"role":"system","content":"Be brief."},` +
	`{"role":"user","content":[{"type":"text","text":"Weather here?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},` +
	`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
	`{"id":"c2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},` +
	`{"role":"tool","tool_call_id":"c1","content":"sunny"},{"role":"tool","tool_call_id":"c2","content":"snow"}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"auto","parallel_tool_calls":true,` +
	`"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}},"stop":["END"],` +
	`"temperature":0.2,"top_p":0.9,"max_completion_tokens":300,"reasoning_effort":"low"}`

// TestChatPassThroughFeatures: from OpenAI clients every field passes as
// sent (only the model is renamed), and answers, tool-call deltas (parallel
// ones included), reasoning and usage come back as received.
func TestChatPassThroughFeatures(t *testing.T) {
	tr, _ := New(api.EndpointChatCompletions, "fast", "gpt-4o")
	_, out, err := tr.Request([]byte(featureRequest))
	if err != nil || string(out) != strings.Replace(featureRequest, `"model":"fast"`, `"model":"gpt-4o"`, 1) {
		t.Fatalf("Request = %s, %v", out, err)
	}
	plain := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"hm",` +
		`"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},"finish_reason":"tool_calls"}],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":20}}}`
	got, err := tr.Response([]byte(plain))
	if err != nil || string(got) != plain || tr.Usage() != (api.Usage{InputTokens: 12, OutputTokens: 30, CachedTokens: 8, ReasoningTokens: 20, Reported: true}) {
		t.Fatalf("Response = %s, %v, usage %+v", got, err, tr.Usage())
	}
	tr, _ = New(api.EndpointChatCompletions, "fast", "gpt-4o")
	tr.Request([]byte(`{"model":"fast","stream":true,"stream_options":{"include_usage":true}}`))
	var all []byte
	for _, e := range []string{
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"get_weather","arguments":"{\"ci"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":2}}}`,
		`[DONE]`,
	} {
		raw := "data: " + e + "\n\n"
		if all, err = tr.StreamEvent(all, sse.Event{Data: []byte(e), Raw: []byte(raw)}); err != nil {
			t.Fatal(err)
		}
		want := all[len(all)-len(raw):]
		if string(want) != raw {
			t.Fatalf("event %s came out as %q", e, want)
		}
	}
	if end, err := tr.StreamEnd(nil); err != nil || len(end) != 0 || tr.Usage().ReasoningTokens != 2 {
		t.Fatalf("end %q, %v, usage %+v", end, err, tr.Usage())
	}
}
