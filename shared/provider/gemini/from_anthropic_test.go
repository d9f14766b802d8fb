package gemini

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

func msgTr(t *testing.T) *FromAnthropic {
	t.Helper()
	tr, err := New(api.EndpointMessages, "claude-ish", "gemini-2.5-pro")
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*FromAnthropic)
}

// TestMessagesRequestTranscript: an Anthropic request with system, images,
// documents, tool use with extended thinking and tool results, and the body
// Gemini must receive.
func TestMessagesRequestTranscript(t *testing.T) {
	path, out, err := msgTr(t).Request([]byte(`{
	  "model": "claude-ish", "max_tokens": 1024,
	  "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
	  "messages": [
	    {"role": "user", "content": [
	      {"type": "text", "text": "Weather in Paris and Tokyo? And this:"},
	      {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
	      {"type": "image", "source": {"type": "url", "url": "https://example.com/a.webp"}},
	      {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}},
	      {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain doc"}}
	    ]},
	    {"role": "assistant", "content": [
	      {"type": "thinking", "thinking": "Two calls.", "signature": "c2ln"},
	      {"type": "text", "text": "Checking."},
	      {"type": "tool_use", "id": "toolu_sluice_x_0", "name": "get_weather", "input": {"city": "Paris"}},
	      {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Tokyo"}}
	    ]},
	    {"role": "user", "content": [
	      {"type": "tool_result", "tool_use_id": "toolu_sluice_x_0", "content": "sunny"},
	      {"type": "tool_result", "tool_use_id": "toolu_01A", "content": [{"type": "text", "text": "flooded"}], "is_error": true}
	    ]}
	  ],
	  "tools": [{"name": "get_weather", "description": "Weather by city", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
	  "tool_choice": {"type": "tool", "name": "get_weather"},
	  "stop_sequences": ["END"], "temperature": 0.5, "top_p": 0.8, "top_k": 40,
	  "thinking": {"type": "enabled", "budget_tokens": 2048},
	  "metadata": {"user_id": "u-1"},
	  "stream": true
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if path != "/models/gemini-2.5-pro:streamGenerateContent?alt=sse" {
		t.Fatalf("path %s", path)
	}
	jsonEqual(t, string(out), `{
	  "systemInstruction": {"parts": [{"text": "You are terse."}]},
	  "contents": [
	    {"role": "user", "parts": [
	      {"text": "Weather in Paris and Tokyo? And this:"},
	      {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
	      {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/a.webp"}},
	      {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}},
	      {"text": "plain doc"}
	    ]},
	    {"role": "model", "parts": [
	      {"text": "Checking."},
	      {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
	      {"functionCall": {"id": "toolu_01A", "name": "get_weather", "args": {"city": "Tokyo"}}}
	    ]},
	    {"role": "user", "parts": [
	      {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}},
	      {"functionResponse": {"id": "toolu_01A", "name": "get_weather", "response": {"error": "flooded"}}}
	    ]}
	  ],
	  "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather by city", "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}}}]}],
	  "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
	  "generationConfig": {"stopSequences": ["END"], "maxOutputTokens": 1024, "temperature": 0.5, "topP": 0.8, "topK": 40,
	    "thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": true}}
	}`)

	_, out, err = msgTr(t).Request([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],
	  "output_format":{"type":"json_schema","schema":{"type":"object"}},"tool_choice":{"type":"none"},"thinking":{"type":"disabled"}}`))
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, string(out), `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}},
	  "generationConfig":{"responseMimeType":"application/json","responseJsonSchema":{"type":"object"},"maxOutputTokens":5,"thinkingConfig":{"thinkingBudget":0}}}`)
}

func TestMessagesRequestRefusals(t *testing.T) {
	user := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct{ name, body, param string }{
		{"unknown field", `{"model":"m","max_tokens":1,` + user + `,"frobnicate":1}`, "frobnicate"},
		{"server tool", `{"model":"m","max_tokens":1,` + user + `,"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "tools[0].type"},
		{"serial tools", `{"model":"m","max_tokens":1,` + user + `,"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`, "tool_choice.disable_parallel_tool_use"},
		{"mcp", `{"model":"m","max_tokens":1,` + user + `,"mcp_servers":[{}]}`, "mcp_servers"},
		{"redacted thinking", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"redacted_thinking","data":"x"}]}]}`, "messages[1].content[0].type"},
		{"unknown tool result", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}]}`, "messages[0].content[0].tool_use_id"},
		{"image in tool result", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"x"}}]}]}]}`, "messages[1].content[0].content[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := msgTr(t).Request([]byte(tt.body))
			e := apiErr(t, err)
			if e.Param != tt.param || api.Status(err) != http.StatusBadRequest {
				t.Fatalf("param %q status %d (%s), want %q", e.Param, api.Status(err), e.Message, tt.param)
			}
		})
	}
}

// TestMessagesResponseStopReasons: a signature with no thoughts asked for,
// Gemini's finish reasons, and a malformed call (the full answer is
// testdata/from_anthropic/tools_plain).
func TestMessagesResponseStopReasons(t *testing.T) {
	// A signature with no thoughts asked for gets an empty thinking block,
	// so the client keeps it for the next turn.
	out, _ := msgTr(t).Response([]byte(`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP","index":0}],"responseId":"r2"}`))
	if !strings.Contains(string(out), `{"type":"thinking","thinking":"","signature":"c2ln"},{"type":"tool_use"`) {
		t.Fatalf("%s", out)
	}
	for reason, want := range map[string]string{"MAX_TOKENS": "max_tokens", "SAFETY": "refusal", "STOP": "end_turn", "PROHIBITED_CONTENT": "refusal"} {
		out, err := msgTr(t).Response([]byte(`{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"` + reason + `","index":0}],"responseId":"r"}`))
		if err != nil || !strings.Contains(string(out), `"stop_reason":"`+want+`"`) {
			t.Fatalf("%s: %s %v", reason, out, err)
		}
	}
	if _, err := msgTr(t).Response([]byte(`{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL","index":0}]}`)); apiErr(t, err).Code != "malformed_function_call" {
		t.Fatal(err)
	}
}

// TestMessagesOutputConfig: output_config.format and output_config.effort
// (what anthropic-sdk-go sends) reach Gemini's generationConfig, for the
// budget-based 2.5 models and the level-based later ones.
func TestMessagesOutputConfig(t *testing.T) {
	const user = `"model":"m","max_tokens":64,"messages":[{"role":"user","content":"hi"}]`
	const schema = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`
	tests := []struct {
		name, model, body, config string
	}{
		{"format", "gemini-2.5-flash", `{` + user + `,"output_config":{"format":{"type":"json_schema","schema":` + schema + `}}}`,
			`{"responseMimeType":"application/json","responseJsonSchema":` + schema + `,"maxOutputTokens":64}`},
		{"format and effort on gemini 3", "gemini-3-pro-preview", `{` + user + `,"output_config":{"effort":"low","format":{"type":"json_schema","schema":` + schema + `}}}`,
			`{"responseMimeType":"application/json","responseJsonSchema":` + schema + `,"maxOutputTokens":64,"thinkingConfig":{"thinkingLevel":"LOW"}}`},
		{"effort medium on gemini 3", "gemini-3-flash-preview", `{` + user + `,"output_config":{"effort":"medium"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"thinkingLevel":"MEDIUM"}}`},
		{"effort max on gemini 3", "gemini-3-pro-preview", `{` + user + `,"output_config":{"effort":"max"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"thinkingLevel":"HIGH"}}`},
		{"effort on gemini 2.5", "gemini-2.5-pro", `{` + user + `,"output_config":{"effort":"medium"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"thinkingBudget":8192}}`},
		{"effort xhigh on gemini 2.5", "gemini-2.5-pro", `{` + user + `,"output_config":{"effort":"xhigh"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"thinkingBudget":24576}}`},
		{"adaptive with effort", "gemini-3-pro-preview", `{` + user + `,"thinking":{"type":"adaptive"},"output_config":{"effort":"high"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"includeThoughts":true,"thinkingLevel":"HIGH"}}`},
		{"adaptive with effort on gemini 2.5", "gemini-2.5-flash", `{` + user + `,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}`},
		{"adaptive on gemini 2.5", "gemini-2.5-flash", `{` + user + `,"thinking":{"type":"adaptive"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"thinkingBudget":-1,"includeThoughts":true}}`},
		{"adaptive on gemini 3", "gemini-3-pro-preview", `{` + user + `,"thinking":{"type":"adaptive"}}`,
			`{"maxOutputTokens":64,"thinkingConfig":{"includeThoughts":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(api.EndpointMessages, "claude-ish", tt.model)
			if err != nil {
				t.Fatal(err)
			}
			_, out, err := tr.Request([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, string(out), `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":`+tt.config+`}`)
		})
	}
}

// TestMessagesOutputConfigRefusals: what Gemini cannot express is a 400
// whose message names the field (Anthropic's error object has no param).
func TestMessagesOutputConfigRefusals(t *testing.T) {
	const user = `"model":"m","max_tokens":64,"messages":[{"role":"user","content":"hi"}]`
	tests := []struct{ name, body, param string }{
		{"format type", `{` + user + `,"output_config":{"format":{"type":"xml"}}}`, "output_config.format.type"},
		{"old format type", `{` + user + `,"output_format":{"type":"xml"}}`, "output_format.type"},
		{"format twice", `{` + user + `,"output_format":{"type":"json_schema","schema":{}},"output_config":{"format":{"type":"json_schema","schema":{}}}}`, "output_format"},
		{"unknown effort", `{` + user + `,"output_config":{"effort":"extreme"}}`, "output_config.effort"},
		{"effort with a budget", `{` + user + `,"thinking":{"type":"enabled","budget_tokens":2048},"output_config":{"effort":"low"}}`, "output_config.effort"},
		{"effort with thinking disabled", `{` + user + `,"thinking":{"type":"disabled"},"output_config":{"effort":"low"}}`, "output_config.effort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := msgTr(t).Request([]byte(tt.body))
			e := apiErr(t, err)
			if e.Param != tt.param || api.Status(err) != http.StatusBadRequest || !strings.Contains(e.Message, tt.param) {
				t.Fatalf("param %q status %d (%s), want %q", e.Param, api.Status(err), e.Message, tt.param)
			}
		})
	}
}
