package anthropic

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
)

// TestFromOpenAIRequest: the Messages request Anthropic must receive for
// each OpenAI request.
func TestFromOpenAIRequest(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"minimal: default max_tokens, model mapped",
			`{"model":"claude","messages":[{"role":"user","content":"Hello"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":"Hello"}]}`},
		{"system and developer joined as text blocks, sampling, stop, stream, user",
			`{"model":"claude","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":300,"max_tokens":99,
			  "temperature":0.2,"top_p":0.9,"stop":"END","user":"u-42","store":false,"metadata":{"k":"v"},"n":1,"logprobs":false,
			  "messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Use French."}]},
			  {"role":"user","name":"ann","content":"Bonjour"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":300,"stream":true,"temperature":0.2,"top_p":0.9,"stop_sequences":["END"],
			  "metadata":{"user_id":"u-42"},
			  "system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Use French."}],
			  "messages":[{"role":"user","content":"Bonjour"}]}`},
		{"multi-turn with images and a PDF",
			`{"model":"claude","max_tokens":50,"stop":["a","b"],"messages":[
			  {"role":"user","content":[{"type":"text","text":"What is this?"},
			    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
			    {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
			    {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}}]},
			  {"role":"assistant","content":"A cat."},
			  {"role":"user","content":"Sure?"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":50,"stop_sequences":["a","b"],"messages":[
			  {"role":"user","content":[{"type":"text","text":"What is this?"},
			    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
			    {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
			    {"type":"document","title":"a.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}}]},
			  {"role":"assistant","content":"A cat."},
			  {"role":"user","content":"Sure?"}]}`},
		{"tools, parallel tool calls, results merged into one user turn",
			`{"model":"claude","tool_choice":"required","parallel_tool_calls":false,
			  "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","strict":true,
			    "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}},
			    {"type":"function","function":{"name":"now"}}],
			  "messages":[{"role":"user","content":"Weather in Paris and Tokyo?"},
			  {"role":"assistant","content":null,"tool_calls":[
			    {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},
			    {"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Tokyo\"}"}}]},
			  {"role":"tool","tool_call_id":"toolu_1","content":"sunny"},
			  {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"rain"}]},
			  {"role":"user","content":"Thanks, and?"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,
			  "tools":[{"name":"get_weather","description":"Weather","strict":true,
			    "input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}},
			    {"name":"now","input_schema":{"type":"object","properties":{}}}],
			  "tool_choice":{"type":"any","disable_parallel_tool_use":true},
			  "messages":[{"role":"user","content":"Weather in Paris and Tokyo?"},
			  {"role":"assistant","content":[
			    {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"Paris"}},
			    {"type":"tool_use","id":"toolu_2","name":"get_weather","input":{"location":"Tokyo"}}]},
			  {"role":"user","content":[
			    {"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"},
			    {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"rain"}]},
			    {"type":"text","text":"Thanks, and?"}]}]}`},
		{"tool choices",
			`{"model":"claude","tool_choice":{"type":"function","function":{"name":"now"}},"tools":[{"type":"function","function":{"name":"now"}}],
			  "messages":[{"role":"user","content":"time?"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"tools":[{"name":"now","input_schema":{"type":"object","properties":{}}}],
			  "tool_choice":{"type":"tool","name":"now"},"messages":[{"role":"user","content":"time?"}]}`},
		{"tool choice none keeps no parallel flag",
			`{"model":"claude","tool_choice":"none","parallel_tool_calls":false,"tools":[{"type":"function","function":{"name":"now"}}],
			  "messages":[{"role":"user","content":"time?"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"tools":[{"name":"now","input_schema":{"type":"object","properties":{}}}],
			  "tool_choice":{"type":"none"},"messages":[{"role":"user","content":"time?"}]}`},
		{"thinking round trip: signed reasoning first in the assistant turn",
			`{"model":"claude","reasoning_effort":"medium","tools":[{"type":"function","function":{"name":"get_weather"}}],"messages":[
			  {"role":"user","content":"weather?"},
			  {"role":"assistant","content":"Let me check.","reasoning_content":"I should call the tool.","reasoning_signature":"sig==",
			   "redacted_reasoning":["opaque"],"tool_calls":[{"id":"toolu_9","type":"function","function":{"name":"get_weather","arguments":""}}]},
			  {"role":"tool","tool_call_id":"toolu_9","content":"sunny"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":12288,"thinking":{"type":"enabled","budget_tokens":8192},
			  "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{}}}],"messages":[
			  {"role":"user","content":"weather?"},
			  {"role":"assistant","content":[{"type":"thinking","thinking":"I should call the tool.","signature":"sig=="},
			    {"type":"redacted_thinking","data":"opaque"},{"type":"text","text":"Let me check."},
			    {"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}]},
			  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":"sunny"}]}]}`},
		{"unsigned reasoning is not sent",
			`{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","reasoning_content":"from elsewhere"},{"role":"user","content":"c"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}`},
		{"effort budget shrinks under max_completion_tokens",
			`{"model":"claude","reasoning_effort":"high","max_completion_tokens":5000,"messages":[{"role":"user","content":"a"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":4999},"messages":[{"role":"user","content":"a"}]}`},
		{"thinking extension passes as given; effort none is off",
			`{"model":"claude","thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"a"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":6096,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"a"}]}`},
		{"reasoning effort none",
			`{"model":"claude","reasoning_effort":"none","messages":[{"role":"user","content":"a"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":"a"}]}`},
		{"json_schema response format becomes output_config.format",
			`{"model":"claude","response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,
			  "schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}}},
			  "messages":[{"role":"user","content":"Ann"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"output_config":{"format":{"type":"json_schema",
			  "schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}}},
			  "messages":[{"role":"user","content":"Ann"}]}`},
		{"text file as a text document, refusal as text",
			`{"model":"claude","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain;base64,aGVsbG8="}}]},
			  {"role":"assistant","content":[{"type":"refusal","refusal":"No."}]},{"role":"user","content":"ok"}]}`,
			`{"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"hello"}}]},
			  {"role":"assistant","content":"No."},{"role":"user","content":"ok"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewFromOpenAI("claude", "claude-sonnet-4-5")
			path, out, err := tr.Request([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if path != "/messages" {
				t.Errorf("path %q", path)
			}
			if !jsonEqual(t, out, []byte(tt.want)) {
				t.Errorf("sent  %s\nwant  %s", out, tt.want)
			}
		})
	}
}

// TestFromOpenAIRequestRefused: what Anthropic cannot honour is a 400
// naming the field and the provider.
func TestFromOpenAIRequestRefused(t *testing.T) {
	msgs := `"messages":[{"role":"user","content":"x"}]`
	tests := []struct{ name, in, param string }{
		{"n", `{"model":"c","n":2,` + msgs + `}`, "n"},
		{"logprobs", `{"model":"c","logprobs":true,` + msgs + `}`, "logprobs"},
		{"top_logprobs", `{"model":"c","top_logprobs":2,` + msgs + `}`, "top_logprobs"},
		{"logit_bias", `{"model":"c","logit_bias":{"50256":-100},` + msgs + `}`, "logit_bias"},
		{"audio", `{"model":"c","audio":{"voice":"alloy","format":"wav"},` + msgs + `}`, "audio"},
		{"modalities", `{"model":"c","modalities":["text","audio"],` + msgs + `}`, "modalities"},
		{"presence_penalty", `{"model":"c","presence_penalty":0.5,` + msgs + `}`, "presence_penalty"},
		{"frequency_penalty", `{"model":"c","frequency_penalty":0.5,` + msgs + `}`, "frequency_penalty"},
		{"seed", `{"model":"c","seed":7,` + msgs + `}`, "seed"},
		{"prediction", `{"model":"c","prediction":{"type":"content","content":"x"},` + msgs + `}`, "prediction"},
		{"web_search_options", `{"model":"c","web_search_options":{"search_context_size":"low"},` + msgs + `}`, "web_search_options"},
		{"verbosity", `{"model":"c","verbosity":"low",` + msgs + `}`, "verbosity"},
		{"service_tier", `{"model":"c","service_tier":"flex",` + msgs + `}`, "service_tier"},
		{"temperature above 1", `{"model":"c","temperature":1.5,` + msgs + `}`, "temperature"},
		{"json_object", `{"model":"c","response_format":{"type":"json_object"},` + msgs + `}`, "response_format"},
		{"effort and thinking", `{"model":"c","reasoning_effort":"low","thinking":{"type":"enabled","budget_tokens":2000},` + msgs + `}`, "reasoning_effort"},
		{"unknown effort", `{"model":"c","reasoning_effort":"extreme",` + msgs + `}`, "reasoning_effort"},
		{"effort with tiny max", `{"model":"c","reasoning_effort":"low","max_tokens":1000,` + msgs + `}`, "reasoning_effort"},
		{"unknown field", `{"model":"c","frobnicate":1,` + msgs + `}`, "frobnicate"},
		{"input_audio", `{"model":"c","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`, "messages[0].content[0]"},
		{"file id", `{"model":"c","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "messages[0].content[0].file.file_id"},
		{"bad image url", `{"model":"c","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"invalid tool arguments", `{"model":"c","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`,
			"messages[1].tool_calls[0].function.arguments"},
		{"function_call", `{"model":"c","messages":[{"role":"user","content":"x"},{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]}`, "messages[1].function_call"},
		{"assistant audio", `{"model":"c","messages":[{"role":"assistant","audio":{"id":"a"}}]}`, "messages[0].audio"},
		{"tool without id", `{"model":"c","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{"image in system", `{"model":"c","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`, "messages[0].content[0].type"},
		{"custom tool", `{"model":"c","tools":[{"type":"custom","function":{"name":"f"}}],` + msgs + `}`, "tools[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewFromOpenAI("c", "c")
			_, _, err := tr.Request([]byte(tt.in))
			var e *api.Error
			if !errors.As(err, &e) || api.Status(err) != http.StatusBadRequest || e.Param != tt.param {
				t.Fatalf("err = %v (param %q), want a 400 naming %q", err, paramOf(e), tt.param)
			}
			if strings.Contains(tt.name, "unknown") || strings.Contains(tt.name, "bad") || strings.Contains(tt.name, "invalid") || strings.Contains(tt.name, "without") {
				return
			}
			if !strings.Contains(e.Message, "anthropic") && !strings.Contains(e.Message, "not both") && !strings.Contains(e.Message, "not allowed") {
				t.Errorf("message %q does not name the provider", e.Message)
			}
		})
	}
}

func paramOf(e *api.Error) string {
	if e == nil {
		return ""
	}
	return e.Param
}

// TestFromOpenAIResponse: the chat completion an OpenAI client receives
// for each Messages response.
func TestFromOpenAIResponse(t *testing.T) {
	tests := []struct {
		name, in, want string
		usage          api.Usage
	}{
		{"text with cache usage",
			`{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
			  "content":[{"type":"text","text":"Hi "},{"type":"text","text":"there."}],"stop_reason":"end_turn","stop_sequence":null,
			  "usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":5}}`,
			`{"id":"msg_01","object":"chat.completion","created":1764250000,"model":"claude-sonnet-4-5-20250929",
			  "choices":[{"index":0,"message":{"role":"assistant","content":"Hi there."},"finish_reason":"stop"}],
			  "usage":{"prompt_tokens":60,"completion_tokens":5,"total_tokens":65,"prompt_tokens_details":{"cached_tokens":30,"cache_write_tokens":20}}}`,
			api.Usage{InputTokens: 60, OutputTokens: 5, CachedTokens: 30, CacheWriteTokens: 20, Reported: true}},
		{"thinking, redacted thinking and parallel tool use",
			`{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5",
			  "content":[{"type":"thinking","thinking":"Need tools.","signature":"sig=="},{"type":"redacted_thinking","data":"opaque"},
			  {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"Paris"}},
			  {"type":"tool_use","id":"toolu_2","name":"get_weather","input":{"location":"Tokyo"}}],
			  "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":50}}`,
			`{"id":"msg_02","object":"chat.completion","created":1764250000,"model":"claude-sonnet-4-5",
			  "choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"Need tools.","reasoning_signature":"sig==",
			   "redacted_reasoning":["opaque"],"tool_calls":[
			   {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},
			   {"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Tokyo\"}"}}]},
			  "finish_reason":"tool_calls"}],
			  "usage":{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":0}}}`,
			api.Usage{InputTokens: 100, OutputTokens: 50, Reported: true}},
		{"max_tokens is length",
			`{"id":"msg_03","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Once"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`,
			`{"id":"msg_03","object":"chat.completion","created":1764250000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Once"},"finish_reason":"length"}],
			  "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}}`,
			api.Usage{InputTokens: 1, OutputTokens: 1, Reported: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewFromOpenAI("claude", "claude")
			tr.Now = func() time.Time { return pinned }
			out, err := tr.Response([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, out, []byte(tt.want)) {
				t.Errorf("client got %s\nwant       %s", out, tt.want)
			}
			if tr.Usage() != tt.usage {
				t.Errorf("usage %+v, want %+v", tr.Usage(), tt.usage)
			}
		})
	}
}

func TestFinishReasons(t *testing.T) {
	for stop, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
		"refusal": "content_filter", "pause_turn": "stop", "model_context_window_exceeded": "length",
	} {
		if got := finishReason(stop); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", stop, got, want)
		}
	}
}

// TestErrors: Anthropic errors keep their status and type; a prompt too
// long is recognisable as context_length_exceeded.
func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		kind       error
		openAI     string
		anthropicT string
	}{
		{"rate limited", 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}`,
			api.ErrRateLimited, `{"error":{"message":"Number of request tokens has exceeded your per-minute rate limit","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`, "rate_limit_error"},
		{"overloaded", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			api.ErrUpstream, `{"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":"upstream_error"}}`, "overloaded_error"},
		{"too large", 413, `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}`,
			api.ErrTooLarge, `{"error":{"message":"Request exceeds the maximum allowed number of bytes.","type":"request_too_large","param":null,"code":"request_too_large"}}`, "request_too_large"},
		{"prompt too long", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208934 tokens > 200000 maximum"}}`,
			api.ErrBadRequest, `{"error":{"message":"prompt is too long: 208934 tokens \u003e 200000 maximum","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}}`, "invalid_request_error"},
		{"other invalid request", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`,
			api.ErrBadRequest, `{"error":{"message":"max_tokens: Field required","type":"invalid_request_error","param":null,"code":"invalid_request"}}`, "invalid_request_error"},
		{"not JSON", 502, `<html>bad gateway</html>`,
			api.ErrUpstream, `{"error":{"message":"upstream returned status Bad Gateway","type":"server_error","param":null,"code":"upstream_error"}}`, "api_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tr := range []provider.Translator{NewFromOpenAI("c", "c"), NewFromAnthropic(api.EndpointMessages, "c", "c")} {
				err := tr.Error(tt.status, []byte(tt.body))
				if !errors.Is(err, tt.kind) || api.Status(err) != tt.status {
					t.Fatalf("err = %v (status %d), want kind %v, status %d", err, api.Status(err), tt.kind, tt.status)
				}
				if got := string(api.OpenAIBody(err)); got != tt.openAI {
					t.Errorf("OpenAI body %s\nwant        %s", got, tt.openAI)
				}
				if got := api.AnthropicType(err); got != tt.anthropicT {
					t.Errorf("Anthropic type %q, want %q", got, tt.anthropicT)
				}
			}
		})
	}
}

func TestHeader(t *testing.T) {
	p := NewProvider(provider.Deps{})
	b := &route.Backend{Provider: "anthropic"}
	for _, ep := range []api.Endpoint{api.EndpointChatCompletions, api.EndpointMessages} {
		tr, _ := p.Translator(b, ep, "c")
		h := http.Header{}
		tr.Header(h)
		p.Authorize(h, b, "sk-ant-test")
		if h.Get("x-api-key") != "sk-ant-test" || h.Get("anthropic-version") != "2023-06-01" || h.Get("Content-Type") != "application/json" ||
			h.Get("Authorization") != "" || h.Get("anthropic-beta") != "" {
			t.Fatalf("headers %v", h)
		}
		// The client's anthropic-beta values go upstream.
		tr.(interface{ ClientHeader(http.Header) }).ClientHeader(http.Header{"Anthropic-Beta": {"interleaved-thinking-2025-05-14", "context-1m-2025-08-07"}})
		h = http.Header{}
		tr.Header(h)
		p.Authorize(h, b, "")
		if got := h.Values("anthropic-beta"); len(got) != 2 || got[1] != "context-1m-2025-08-07" || h.Get("x-api-key") != "" {
			t.Fatalf("headers %v", h)
		}
	}
	if _, err := New(api.EndpointEmbeddings, "c", "c"); api.Status(err) != 400 {
		t.Fatalf("embeddings: %v", err)
	}
}
