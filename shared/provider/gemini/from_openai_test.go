package gemini

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
)

func chatTr(t *testing.T) *FromOpenAI {
	t.Helper()
	tr, err := New(api.EndpointChatCompletions, "my-gemini", "models/gemini-2.5-flash")
	if err != nil {
		t.Fatal(err)
	}
	tr.(*FromOpenAI).now = providertest.Now
	return tr.(*FromOpenAI)
}

// TestChatRequestTranscript: everything an OpenAI request can say that
// Gemini can hear, and the body Gemini must receive.
func TestChatRequestTranscript(t *testing.T) {
	tr := chatTr(t)
	path, out, err := tr.Request([]byte(`{
	  "model": "my-gemini",
	  "messages": [
	    {"role": "system", "content": "You are terse."},
	    {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
	    {"role": "user", "content": [
	      {"type": "text", "text": "What is in these, and the weather in Paris and Tokyo?"},
	      {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
	      {"type": "image_url", "image_url": {"url": "https://example.com/cat.JPG?x=1", "detail": "high"}}
	    ]},
	    {"role": "assistant", "content": null, "reasoning_content": "not sent back", "reasoning_signature": "c2lnbmF0dXJl",
	     "tool_calls": [
	      {"id": "call_sluice_abc_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
	      {"id": "gem-id-7", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}}
	    ]},
	    {"role": "tool", "tool_call_id": "call_sluice_abc_0", "content": "{\"temp\":21}"},
	    {"role": "tool", "tool_call_id": "gem-id-7", "content": "rainy"},
	    {"role": "assistant", "content": "Paris 21C, Tokyo rainy."},
	    {"role": "user", "content": "Thanks"}
	  ],
	  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city", "strict": true,
	    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}}],
	  "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
	  "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}},
	  "stop": "END",
	  "temperature": 0.3, "top_p": 0.9, "max_completion_tokens": 256, "n": 2, "seed": 7,
	  "presence_penalty": 0.1, "frequency_penalty": 0.2,
	  "reasoning_effort": "low",
	  "user": "u-1", "stream": false
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if path != "/models/gemini-2.5-flash:generateContent" {
		t.Fatalf("path %s", path)
	}
	jsonEqual(t, string(out), `{
	  "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Use metric units."}]},
	  "contents": [
	    {"role": "user", "parts": [
	      {"text": "What is in these, and the weather in Paris and Tokyo?"},
	      {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
	      {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?x=1"}}
	    ]},
	    {"role": "model", "parts": [
	      {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnbmF0dXJl"},
	      {"functionCall": {"id": "gem-id-7", "name": "get_weather", "args": {"city": "Tokyo"}}}
	    ]},
	    {"role": "user", "parts": [
	      {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
	      {"functionResponse": {"id": "gem-id-7", "name": "get_weather", "response": {"output": "rainy"}}}
	    ]},
	    {"role": "model", "parts": [{"text": "Paris 21C, Tokyo rainy."}]},
	    {"role": "user", "parts": [{"text": "Thanks"}]}
	  ],
	  "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather by city",
	    "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}]}],
	  "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
	  "generationConfig": {
	    "stopSequences": ["END"], "responseMimeType": "application/json",
	    "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "string"}}},
	    "candidateCount": 2, "maxOutputTokens": 256, "temperature": 0.3, "topP": 0.9, "seed": 7,
	    "presencePenalty": 0.1, "frequencyPenalty": 0.2,
	    "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}
	  }
	}`)

	// Streaming picks the SSE method; tool_choice modes and JSON mode.
	path, out, err = chatTr(t).Request([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],
	  "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","response_format":{"type":"json_object"},
	  "max_tokens":10,"thinking":{"type":"enabled","budget_tokens":2048}}`))
	if err != nil {
		t.Fatal(err)
	}
	if path != "/models/gemini-2.5-flash:streamGenerateContent?alt=sse" {
		t.Fatalf("path %s", path)
	}
	jsonEqual(t, string(out), `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],
	  "tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},
	  "generationConfig":{"responseMimeType":"application/json","maxOutputTokens":10,"thinkingConfig":{"thinkingBudget":2048,"includeThoughts":true}}}`)
	for mode, want := range map[string]string{`"none"`: "NONE", `"auto"`: "AUTO"} {
		_, out, _ := chatTr(t).Request([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":` + mode + `}`))
		if !strings.Contains(string(out), `"mode":"`+want+`"`) {
			t.Fatalf("tool_choice %s: %s", mode, out)
		}
	}
}

// TestChatRequestRefusals: what Gemini cannot honour is a 400 naming the
// field and the provider, never a silent drop.
func TestChatRequestRefusals(t *testing.T) {
	user := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct{ name, body, param string }{
		{"unknown field", `{"model":"m",` + user + `,"frobnicate":1}`, "frobnicate"},
		{"logprobs", `{"model":"m",` + user + `,"logprobs":true}`, "logprobs"},
		{"logit_bias", `{"model":"m",` + user + `,"logit_bias":{"1":2}}`, "logit_bias"},
		{"audio output", `{"model":"m",` + user + `,"modalities":["text","audio"]}`, "modalities"},
		{"serial tools", `{"model":"m",` + user + `,"parallel_tool_calls":false}`, "parallel_tool_calls"},
		{"message name", `{"model":"m","messages":[{"role":"user","name":"bob","content":"hi"}]}`, "messages[0].name"},
		{"unknown tool result", `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"x","content":"y"}]}`, "messages[1].tool_call_id"},
		{"image URL without extension", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/img"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"file id", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f-1"}}]}]}`, "messages[0].content[0].file.file_id"},
		{"bad arguments", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[0].tool_calls[0].function.arguments"},
		{"reasoning effort", `{"model":"m",` + user + `,"reasoning_effort":"extreme"}`, "reasoning_effort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := chatTr(t).Request([]byte(tt.body))
			e := apiErr(t, err)
			if e.Param != tt.param || api.Status(err) != http.StatusBadRequest {
				t.Fatalf("param %q status %d (%s), want %q", e.Param, api.Status(err), e.Message, tt.param)
			}
		})
	}
}

// TestChatCallIDsComeBack: the ids synthesized for calls without one in
// testdata/from_openai/tools_plain (the first carrying the thought
// signature, base64url of "sig") map back to the function's name next
// turn.
func TestChatCallIDsComeBack(t *testing.T) {
	id0 := callID(synthetic, "resp-1/0", 0, "get_weather") + "__thought__c2ln"
	id1 := callID(synthetic, "resp-1/0", 1, "get_weather")
	if !strings.HasPrefix(id0, synthetic) || id0 == id1 {
		t.Fatalf("ids %s %s", id0, id1)
	}
	golden, err := os.ReadFile("testdata/from_openai/tools_plain.golden")
	if err != nil || !strings.Contains(string(golden), `"id": "`+id0+`"`) || !strings.Contains(string(golden), `"id": "`+id1+`"`) {
		t.Fatalf("the transcript's ids are not %s and %s: %v", id0, id1, err)
	}

	// The synthesized ids map back to the function's name next turn, and
	// are not sent to Gemini; the signature goes back on the first call.
	_, req, err := chatTr(t).Request([]byte(`{"model":"m","messages":[{"role":"user","content":"weather?"},
	  {"role":"assistant","reasoning_signature":"c2ln","tool_calls":[{"id":"` + id0 + `","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
	  {"role":"tool","tool_call_id":"` + id0 + `","content":"sunny"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, string(req), `{"contents":[{"role":"user","parts":[{"text":"weather?"}]},
	  {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"}]},
	  {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}]}]}`)

	// A standard client drops reasoning_signature but echoes ids: the
	// signature still reaches Gemini, on the call it came with; a
	// Gemini-made id goes back without it.
	_, req, err = chatTr(t).Request([]byte(`{"model":"m","messages":[{"role":"user","content":"weather?"},
	  {"role":"assistant","tool_calls":[{"id":"` + id1 + `","type":"function","function":{"name":"get_weather","arguments":"{}"}},
	    {"id":"gem-7__thought__YWJj","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
	  {"role":"tool","tool_call_id":"` + id1 + `","content":"sunny"},{"role":"tool","tool_call_id":"gem-7__thought__YWJj","content":"rainy"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, string(req), `{"contents":[{"role":"user","parts":[{"text":"weather?"}]},
	  {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}}},{"functionCall":{"id":"gem-7","name":"get_weather","args":{}},"thoughtSignature":"YWJj"}]},
	  {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},{"functionResponse":{"id":"gem-7","name":"get_weather","response":{"output":"rainy"}}}]}]}`)
}

func TestChatFinishReasons(t *testing.T) {
	tests := []struct{ reason, want, code string }{
		{"STOP", "stop", ""},
		{"MAX_TOKENS", "length", ""},
		{"SAFETY", "content_filter", ""},
		{"RECITATION", "content_filter", ""},
		{"BLOCKLIST", "content_filter", ""},
		{"PROHIBITED_CONTENT", "content_filter", ""},
		{"SPII", "content_filter", ""},
		{"OTHER", "stop", ""},
		{"MALFORMED_FUNCTION_CALL", "", "malformed_function_call"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			out, err := chatTr(t).Response([]byte(`{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"` + tt.reason + `","index":0}],"responseId":"r"}`))
			if tt.code != "" {
				if e := apiErr(t, err); e.Code != tt.code || api.Status(err) != http.StatusBadGateway {
					t.Fatalf("error %+v", e)
				}
				return
			}
			if err != nil || !strings.Contains(string(out), `"finish_reason":"`+tt.want+`"`) {
				t.Fatalf("%s %v", out, err)
			}
		})
	}
	out, err := chatTr(t).Response([]byte(`{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}`))
	if err != nil || !strings.Contains(string(out), `"finish_reason":"content_filter"`) {
		t.Fatalf("blocked prompt: %s %v", out, err)
	}
}

// TestErrors maps Gemini's error objects to client errors.
func TestErrors(t *testing.T) {
	tests := []struct {
		status            int
		grpc, message     string
		wantStatus        int
		wantCode, wantMsg string
	}{
		{429, "RESOURCE_EXHAUSTED", "Quota exceeded", 429, "rate_limit_exceeded", "Quota exceeded"},
		{400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", 400, "context_length_exceeded", "The input token count"},
		{400, "INVALID_ARGUMENT", "Invalid value at 'contents'", 400, "invalid_argument", "Invalid value"},
		{400, "FAILED_PRECONDITION", "User location is not supported", 400, "failed_precondition", "User location"},
		{403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers; key AIza...", 502, "upstream_auth_failed", "refused the gateway's credential"},
		{401, "UNAUTHENTICATED", "API key not valid", 502, "upstream_auth_failed", "refused the gateway's credential"},
		{404, "NOT_FOUND", "models/nope is not found", 404, "model_not_found", "models/nope"},
		{503, "UNAVAILABLE", "The model is overloaded", 503, "unavailable", "overloaded"},
		{500, "INTERNAL", "An internal error has occurred", 500, "internal", "internal error"},
		{504, "DEADLINE_EXCEEDED", "Deadline exceeded", 504, "deadline_exceeded", "Deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.grpc, func(t *testing.T) {
			body := `{"error":{"code":` + strconv.Itoa(tt.status) + `,"message":"` + tt.message + `","status":"` + tt.grpc + `"}}`
			for _, tr := range []provider.Translator{chatTr(t), &FromAnthropic{}, &Embed{}} {
				err := tr.Error(tt.status, []byte(body))
				e := apiErr(t, err)
				if api.Status(err) != tt.wantStatus || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMsg) || strings.Contains(e.Message, "AIza") {
					t.Fatalf("%T: status %d code %q message %q", tr, api.Status(err), e.Code, e.Message)
				}
			}
		})
	}
	// RetryInfo becomes Retry-After, in whole seconds.
	err := chatTr(t).Error(429, []byte(`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"41.2s"}]}}`))
	var ra provider.RetryAfterError
	if !errors.As(err, &ra) || ra.RetryAfter() != "42" || api.Status(err) != 429 || apiErr(t, err).Code != "rate_limit_exceeded" {
		t.Fatalf("retry: %v", err)
	}

	// A refused API key comes as 400 INVALID_ARGUMENT: it is Sluice's
	// credential, not the client's request.
	err = chatTr(t).Error(400, []byte(`{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`))
	if e := apiErr(t, err); api.Status(err) != 502 || e.Code != "upstream_auth_failed" {
		t.Fatalf("refused key: %d %+v", api.Status(err), e)
	}
	if err := chatTr(t).Error(502, []byte("<html>bad gateway</html>")); api.Status(err) != 502 {
		t.Fatalf("non-JSON error: %v", err)
	}
}

func TestHeader(t *testing.T) {
	p := NewProvider(provider.Deps{})
	h := http.Header{}
	chatTr(t).Header(h)
	p.Authorize(h, &route.Backend{}, "AIza-key")
	if h.Get("x-goog-api-key") != "AIza-key" || h.Get("Authorization") != "" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h)
	}
	// A bearer credential (credentialRef.type bearer) goes in Authorization
	// instead, as does every Vertex AI credential.
	for _, c := range []struct {
		p provider.Provider
		b *route.Backend
	}{{p, &route.Backend{CredentialType: "bearer"}}, {NewVertexProvider(provider.Deps{}), &route.Backend{}}} {
		h = http.Header{}
		c.p.Authorize(h, c.b, "ya29.token")
		if h.Get("Authorization") != "Bearer ya29.token" || h.Get("x-goog-api-key") != "" {
			t.Fatalf("bearer headers %v", h)
		}
	}
}

// TestUnknownPartsCounted: parts with no client counterpart (code
// execution, generated media) are counted for the request's log line, never
// dropped unseen.
func TestUnknownPartsCounted(t *testing.T) {
	tr := chatTr(t)
	tr.Request([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	out, err := runStream(tr, sseOf(`{"candidates":[{"content":{"parts":[{"executableCode":{"language":"PYTHON","code":"1+1"}},{"inlineData":{"mimeType":"image/png","data":"eA=="}},{"text":"2"}]},"finishReason":"STOP","index":0}],"responseId":"u"}`), false)
	if err != nil || !strings.Contains(out, `"content":"2"`) {
		t.Fatalf("%s %v", out, err)
	}
	if got := tr.SkippedEvents(); got != 2 {
		t.Fatalf("counted %d unknown parts, want 2", got)
	}
}

// TestChatStreamCandidates: with n=2 each candidate streams under its
// index, and the stream is whole only when both have finished.
func TestChatStreamCandidates(t *testing.T) {
	in := sseOf(
		`{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0},{"content":{"parts":[{"text":"b"}]},"index":1}],"responseId":"n"}`,
		`{"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP","index":0},{"content":{"parts":[{"text":"?"}]},"finishReason":"MAX_TOKENS","index":1}],"responseId":"n"}`,
	)
	for _, cut := range []bool{false, true} {
		tr := chatTr(t)
		tr.Request([]byte(`{"model":"my-gemini","n":2,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
		raw := in
		if cut {
			raw = strings.Replace(in, `"finishReason":"MAX_TOKENS",`, "", 1)
		}
		out, err := runStream(tr, raw, true)
		for _, want := range []string{`{"index":1,"delta":{"role":"assistant","content":"b"}`, `{"index":0,"delta":{},"finish_reason":"stop"}`} {
			if !strings.Contains(out, want) {
				t.Fatalf("missing %s in\n%s", want, out)
			}
		}
		if cut != (err != nil) || cut == strings.Contains(out, `{"index":1,"delta":{},"finish_reason":"length"}`) {
			t.Fatalf("cut %v: err %v\n%s", cut, err, out)
		}
	}
}
