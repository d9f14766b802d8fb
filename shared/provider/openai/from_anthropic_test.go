package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/sse"
)

// TestFromAnthropicTranscripts runs the recorded exchanges of
// testdata/from_anthropic (see package providertest): the Chat Completions
// request the backend receives, and what the Anthropic client gets back.
func TestFromAnthropicTranscripts(t *testing.T) {
	providertest.Suite{Dir: "testdata/from_anthropic", Endpoint: api.EndpointMessages, Provider: NewProvider,
		Model: "claude-client", Upstream: "gpt-upstream"}.Run(t)
}

// runStream drives a translator as the gateway's relayStream does and
// returns what the client receives.
func runStream(tr provider.Translator, r io.Reader) []byte {
	out, _ := providertest.Stream(tr, r)
	return out
}

func mustNew(t testing.TB) *fromAnthropic {
	t.Helper()
	return newFromAnthropic("claude-client", "gpt-upstream")
}

// mustRequested is a fresh translator that has seen req.
func mustRequested(t testing.TB, req []byte) *fromAnthropic {
	t.Helper()
	tr := mustNew(t)
	if _, _, err := tr.Request(req); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestFromAnthropicRefusesWhatChatCannotHonour(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body, param string
	}{
		{"top_k", `{"model":"m","max_tokens":9,"top_k":5,` + msgs + `}`, "top_k"},
		{"unknown field", `{"model":"m","max_tokens":9,"speed":"fast",` + msgs + `}`, "speed"},
		{"server tool", `{"model":"m","max_tokens":9,"tools":[{"type":"web_search_20250305","name":"web_search"}],` + msgs + `}`, "tools[0].type"},
		{"mcp servers", `{"model":"m","max_tokens":9,"mcp_servers":[{"type":"url","url":"https://x","name":"x"}],` + msgs + `}`, "mcp_servers"},
		{"container", `{"model":"m","max_tokens":9,"container":"c1",` + msgs + `}`, "container"},
		{"text document", `{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}`, "messages[0].content[0].source"},
		{"PDF by URL", `{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`, "messages[0].content[0].source"},
		{"image in tool result", `{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"url","url":"https://x/a.png"}}]}]}]}`, "messages[0].content[0].content[0].type"},
		{"document citations", `{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","citations":{"enabled":true},"source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}}]}]}`, "messages[0].content[0].citations"},
		{"no max_tokens", `{"model":"m",` + msgs + `}`, "max_tokens"},
		{"thinking type", `{"model":"m","max_tokens":9,"thinking":{"type":"sometimes"},` + msgs + `}`, "thinking.type"},
		{"output format", `{"model":"m","max_tokens":9,"output_format":{"type":"yaml"},` + msgs + `}`, "output_format.type"},
		{"output config format", `{"model":"m","max_tokens":9,"output_config":{"format":{"type":"yaml"}},` + msgs + `}`, "output_config.format.type"},
		{"output format twice", `{"model":"m","max_tokens":9,"output_format":{"type":"json_schema","schema":{}},"output_config":{"format":{"type":"json_schema","schema":{}}},` + msgs + `}`, "output_format"},
		{"effort", `{"model":"m","max_tokens":9,"output_config":{"effort":"extreme"},` + msgs + `}`, "output_config.effort"},
		{"system role", `{"model":"m","max_tokens":9,"messages":[{"role":"system","content":"x"}]}`, "messages[0].role"},
		{"wrong type", `{"model":"m","max_tokens":"nine",` + msgs + `}`, "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := mustNew(t).Request([]byte(tt.body))
			var e *api.Error
			if !errors.As(err, &e) || !errors.Is(err, api.ErrBadRequest) || e.Param != tt.param {
				t.Fatalf("err = %#v, want a 400 naming %q", err, tt.param)
			}
			if strings.Contains(tt.name, "tool") || tt.param == "top_k" || tt.param == "speed" {
				if !strings.Contains(e.Message, "openai provider") {
					t.Errorf("message %q does not name the provider", e.Message)
				}
			}
			if api.AnthropicType(err) != "invalid_request_error" {
				t.Errorf("anthropic type %s", api.AnthropicType(err))
			}
		})
	}
}

func TestFromAnthropicToolChoice(t *testing.T) {
	tests := []struct{ choice, want string }{
		{`{"type":"auto"}`, `"tool_choice":"auto"`},
		{`{"type":"any"}`, `"tool_choice":"required"`},
		{`{"type":"none"}`, `"tool_choice":"none"`},
		{`{"type":"tool","name":"f"}`, `"tool_choice":{"type":"function","function":{"name":"f"}}`},
		{`{"type":"auto","disable_parallel_tool_use":true}`, `"parallel_tool_calls":false`},
		{`{"type":"auto"},"tools":[{"name":"f","strict":true,"eager_input_streaming":true,"input_schema":{"type":"object"}}]`, `"strict":true`},
	}
	for _, noTools := range []string{`{"type":"auto"}`, `{"type":"none"}`} {
		_, out, err := mustNew(t).Request([]byte(`{"model":"m","max_tokens":9,"tool_choice":` + noTools + `,"messages":[{"role":"user","content":"hi"}]}`))
		if err != nil || bytes.Contains(out, []byte("tool_choice")) {
			t.Errorf("%s without tools: %s, %v", noTools, out, err)
		}
	}
	if _, _, err := mustNew(t).Request([]byte(`{"model":"m","max_tokens":9,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"hi"}]}`)); api.Status(err) != 400 {
		t.Errorf("any without tools: %v", err)
	}
	for _, tt := range tests {
		body := `{"model":"m","max_tokens":9,"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":` + tt.choice + `,"messages":[{"role":"user","content":"hi"}]}`
		_, out, err := mustNew(t).Request([]byte(body))
		if err != nil || !bytes.Contains(out, []byte(tt.want)) {
			t.Errorf("%s: %s, %v; want %s", tt.choice, out, err, tt.want)
		}
	}
}

func TestFromAnthropicReasoningEffort(t *testing.T) {
	tests := []struct{ extra, want string }{
		{`"thinking":{"type":"enabled","budget_tokens":1024}`, `"reasoning_effort":"low"`},
		{`"thinking":{"type":"enabled","budget_tokens":4096}`, `"reasoning_effort":"medium"`},
		{`"thinking":{"type":"enabled","budget_tokens":16384}`, `"reasoning_effort":"high"`},
		{`"thinking":{"type":"adaptive"}`, ``},
		{`"thinking":{"type":"disabled"}`, ``},
		{`"output_config":{"effort":"medium"}`, `"reasoning_effort":"medium"`},
		{`"output_config":{"effort":"xhigh"}`, `"reasoning_effort":"xhigh"`},
	}
	for _, tt := range tests {
		body := `{"model":"m","max_tokens":20000,` + tt.extra + `,"messages":[{"role":"user","content":"hi"}]}`
		_, out, err := mustNew(t).Request([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", tt.extra, err)
		}
		if tt.want == "" && bytes.Contains(out, []byte("reasoning_effort")) || tt.want != "" && !bytes.Contains(out, []byte(tt.want)) {
			t.Errorf("%s: %s; want %q", tt.extra, out, tt.want)
		}
	}
}

// TestFromAnthropicOutputConfig: output_config.format, what
// anthropic-sdk-go sends, and the older output_format both become
// response_format json_schema; the effort beside it becomes
// reasoning_effort.
func TestFromAnthropicOutputConfig(t *testing.T) {
	const schema = `{"type":"object","properties":{"city":{"type":"string"}}}`
	const want = `"response_format":{"type":"json_schema","json_schema":{"name":"output","schema":` + schema + `}}`
	for _, extra := range []string{
		`"output_config":{"format":{"type":"json_schema","schema":` + schema + `}}`,
		`"output_format":{"type":"json_schema","schema":` + schema + `}`,
		`"output_config":{"effort":"low","format":{"type":"json_schema","schema":` + schema + `}}`,
	} {
		_, out, err := mustNew(t).Request([]byte(`{"model":"m","max_tokens":9,` + extra + `,"messages":[{"role":"user","content":"hi"}]}`))
		if err != nil || !bytes.Contains(out, []byte(want)) {
			t.Fatalf("%s: %s, %v; want %s", extra, out, err, want)
		}
		if strings.Contains(extra, "effort") != bytes.Contains(out, []byte(`"reasoning_effort":"low"`)) {
			t.Fatalf("%s: %s", extra, out)
		}
	}
}

func TestFromAnthropicErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		wantStatus  int
		wantType    string
		wantMessage string
	}{
		{"rate limit", 429, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, 429, "rate_limit_error", "Rate limit reached"},
		{"overloaded 503", 503, `{"error":{"message":"The engine is currently overloaded","type":"server_error"}}`, 503, "overloaded_error", "The engine is currently overloaded"},
		{"overloaded 529", 529, `busy`, 529, "overloaded_error", "upstream returned status 529 (overloaded)"},
		{"context length", 400, `{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			400, "invalid_request_error", "This model's maximum context length is 128000 tokens. (context_length_exceeded)"},
		{"context length, terse", 400, `{"error":{"message":"too long","code":"context_length_exceeded"}}`,
			400, "invalid_request_error", "too long (context_length_exceeded)"},
		{"server error", 500, `{"error":{"message":"oops","type":"server_error"}}`, 500, "api_error", "oops"},
		{"unknown model", 404, `{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}`, 404, "not_found_error", "The model does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mustNew(t).Error(tt.status, []byte(tt.body))
			if api.Status(err) != tt.wantStatus || api.AnthropicType(err) != tt.wantType {
				t.Fatalf("status %d type %s, want %d %s", api.Status(err), api.AnthropicType(err), tt.wantStatus, tt.wantType)
			}
			var body struct {
				Type  string
				Error struct{ Type, Message string }
			}
			json.Unmarshal(api.AnthropicBody(err), &body)
			if body.Type != "error" || body.Error.Type != tt.wantType || body.Error.Message != tt.wantMessage {
				t.Fatalf("body %s", api.AnthropicBody(err))
			}
		})
	}
}

func TestFromAnthropicStreamEndsAfterDoneOnly(t *testing.T) {
	tr := mustRequested(t, []byte(`{"model":"m","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	out, err := tr.StreamEnd(nil)
	if err == nil || len(out) != 0 {
		t.Fatalf("an empty stream ended cleanly: %q, %v", out, err)
	}
	if got := string(tr.StreamError(nil, err)); !strings.HasPrefix(got, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"") {
		t.Fatalf("StreamError %q", got)
	}
}

func BenchmarkFromAnthropic(b *testing.B) {
	req, _ := os.ReadFile("testdata/from_anthropic/tools_stream.request.json")
	upstream, _ := os.ReadFile("testdata/from_anthropic/tools_stream.upstream")
	text, _ := os.ReadFile("testdata/from_anthropic/text_stream.upstream")
	upstream = append(upstream[:len(upstream)-len("data: [DONE]\n\n")], text...)
	var events []sse.Event
	rd := sse.NewReader(bytes.NewReader(upstream))
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		ev.Data = bytes.Clone(ev.Data)
		ev.Raw = bytes.Clone(ev.Raw)
		events = append(events, ev)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(upstream)))
	var out []byte
	for b.Loop() {
		tr := newFromAnthropic("claude-client", "gpt-upstream")
		if _, _, err := tr.Request(req); err != nil {
			b.Fatal(err)
		}
		for _, ev := range events {
			out, _ = tr.StreamEvent(out[:0], ev)
		}
		out, _ = tr.StreamEnd(out[:0])
	}
}

// benchStream is a 100-event stream as OpenAI sends it with include_usage:
// the role chunk, 96 text chunks, the finish chunk, the usage chunk and
// [DONE].
func benchStream() []sse.Event {
	const head = `data: {"id":"chatcmpl-BENCH1234567890abcdefghij","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":`
	var b bytes.Buffer
	b.WriteString(head + `{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"5Ld1"}` + "\n\n")
	for i := range 96 {
		fmt.Fprintf(&b, head+`{"content":" word %d and"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Zx"}`+"\n\n", i)
	}
	b.WriteString(head + `{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"pQ"}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-BENCH1234567890abcdefghij","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":290,"total_tokens":410,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"k"}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	rd := sse.NewReader(&b)
	var evs []sse.Event
	for {
		ev, err := rd.Next()
		if err != nil {
			return evs
		}
		ev.Data = bytes.Clone(ev.Data)
		ev.Raw = bytes.Clone(ev.Raw)
		evs = append(evs, ev)
	}
}

// BenchmarkFromAnthropicStream100 translates a whole 100-event stream, as
// the gateway does, buffer reused between events.
func BenchmarkFromAnthropicStream100(b *testing.B) {
	evs := benchStream()
	if len(evs) != 100 {
		b.Fatalf("%d events", len(evs))
	}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		tr := newFromAnthropic("claude-client", "gpt-upstream")
		for _, ev := range evs {
			var err error
			if buf, err = tr.StreamEvent(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tr.StreamEnd(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFromAnthropicThinkingOmitted(t *testing.T) {
	req := []byte(`{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4000,"display":"omitted"},"messages":[{"role":"user","content":"hi"}]}`)
	tr := mustRequested(t, req)
	out, err := tr.Response([]byte(`{"id":"c","choices":[{"message":{"role":"assistant","content":"4","reasoning_content":"secret"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":8}}}`))
	if err != nil || bytes.Contains(out, []byte("secret")) || bytes.Contains(out, []byte("thinking")) || tr.Usage().ReasoningTokens != 8 {
		t.Fatalf("plain: %s, %v", out, err)
	}
	tr = mustRequested(t, bytes.Replace(req, []byte(`"model":"m"`), []byte(`"model":"m","stream":true`), 1))
	got := runStream(tr, strings.NewReader("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"secret\"}}]}\n\n"+
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"4\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"))
	if bytes.Contains(got, []byte("secret")) || bytes.Contains(got, []byte("thinking")) || !bytes.Contains(got, []byte(`"text":"4"`)) {
		t.Fatalf("stream: %s", got)
	}
}

// TestFromAnthropicReasoningField reads the "reasoning" field vLLM, Ollama
// and OpenRouter stream instead of reasoning_content.
func TestFromAnthropicReasoningField(t *testing.T) {
	tr := mustRequested(t, []byte(`{"model":"m","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	got := runStream(tr, strings.NewReader("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"hmm\"}}]}\n\n"+
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"))
	if !bytes.Contains(got, []byte(`"delta":{"type":"thinking_delta","thinking":"hmm"}`)) || !bytes.Contains(got, []byte(`"index":1,"delta":{"type":"text_delta","text":"ok"}`)) {
		t.Fatalf("stream: %s", got)
	}
}
