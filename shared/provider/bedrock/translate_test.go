package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/providertest"
)

func newTr(t *testing.T, ep api.Endpoint, model string) provider.Translator {
	t.Helper()
	tr, err := New(ep, "client-model", model, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Fields Converse cannot honour are refused with a 400 naming them.
func TestRefusals(t *testing.T) {
	const user = `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct {
		name  string
		ep    api.Endpoint
		body  string
		param string
	}{
		{"image url", api.EndpointChatCompletions, `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"json schema with tools", api.EndpointChatCompletions, `{"model":"m",` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}}`, "response_format"},
		{"json schema without name", api.EndpointChatCompletions, `{"model":"m",` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":""}}}`, "response_format.json_schema"},
		{"n", api.EndpointChatCompletions, `{"model":"m",` + user + `,"n":2}`, "n"},
		{"seed", api.EndpointChatCompletions, `{"model":"m",` + user + `,"seed":1}`, "seed"},
		{"logprobs", api.EndpointChatCompletions, `{"model":"m",` + user + `,"logprobs":true}`, "logprobs"},
		{"tool choice none", api.EndpointChatCompletions, `{"model":"m",` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}`, "tool_choice"},
		{"strict", api.EndpointChatCompletions, `{"model":"m",` + user + `,"tools":[{"type":"function","function":{"name":"f","strict":true}}]}`, "tools[0].function.strict"},
		{"audio part", api.EndpointChatCompletions, `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`, "messages[0].content[0]"},
		{"file id", api.EndpointChatCompletions, `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f-1"}}]}]}`, "messages[0].content[0].file.file_id"},
		{"name", api.EndpointChatCompletions, `{"model":"m","messages":[{"role":"user","name":"bob","content":"hi"}]}`, "messages[0].name"},
		{"bad arguments", api.EndpointChatCompletions, `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`, "messages[0].tool_calls[0].function.arguments"},
		{"reasoning effort non-claude", api.EndpointChatCompletions, `{"model":"m",` + user + `,"reasoning_effort":"high"}`, "reasoning_effort"},
		{"anthropic image url", api.EndpointMessages, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}`, "messages[0].content[0].source"},
		{"server tool", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "tools[0].type"},
		{"tool choice none", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"none"}}`, "tool_choice.type"},
		{"no parallel", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"tools":[{"name":"f","input_schema":{}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`, "tool_choice.disable_parallel_tool_use"},
		{"output format type", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"output_format":{"type":"xml"}}`, "output_format.type"},
		{"output format with tools", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"tools":[{"name":"f","input_schema":{}}],"output_format":{"type":"json_schema","schema":{}}}`, "output_format"},
		{"output config format type", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"output_config":{"format":{"type":"xml"}}}`, "output_config.format.type"},
		{"output config format with tools", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"tools":[{"name":"f","input_schema":{}}],"output_config":{"format":{"type":"json_schema","schema":{}}}}`, "output_config.format"},
		{"output format twice", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"output_format":{"type":"json_schema","schema":{}},"output_config":{"format":{"type":"json_schema","schema":{}}}}`, "output_format"},
		{"unknown effort", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"output_config":{"effort":"extreme"}}`, "output_config.effort"},
		{"mcp", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"mcp_servers":[{}]}`, "mcp_servers"},
		{"tool choice without tools", api.EndpointMessages, `{"model":"m","max_tokens":5,` + user + `,"tool_choice":{"type":"any"}}`, "tool_choice"},
		{"citations", api.EndpointMessages, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x","citations":[{}]}]}]}`, "messages[0].content[0].citations"},
		{"url document", api.EndpointMessages, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}`, "messages[0].content[0].source"},
		{"embedding tokens", api.EndpointEmbeddings, `{"model":"m","input":[[1,2,3]]}`, "input"},
		{"embedding base64", api.EndpointEmbeddings, `{"model":"m","input":"x","encoding_format":"base64"}`, "encoding_format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			model := "amazon.nova-pro-v1:0"
			if c.ep == api.EndpointEmbeddings {
				model = "amazon.titan-embed-text-v2:0"
			}
			_, _, err := newTr(t, c.ep, model).Request([]byte(c.body))
			var ae *api.Error
			if !errors.As(err, &ae) || api.Status(err) != http.StatusBadRequest || ae.Param != c.param {
				t.Fatalf("err %v (param %q), want 400 naming %s", err, paramOf(err), c.param)
			}
			// Anthropic's error object has no param: the message names the field.
			if (strings.HasPrefix(c.name, "output") || strings.HasSuffix(c.name, "effort")) && !strings.Contains(ae.Message, c.param) {
				t.Fatalf("message %q does not name %s", ae.Message, c.param)
			}
			generic := map[string]bool{"bad arguments": true, "json schema without name": true, "tool choice without tools": true, "output format twice": true, "unknown effort": true}
			if !generic[c.name] && !strings.Contains(ae.Message, "bedrock") {
				t.Fatalf("message %q does not name the provider", ae.Message)
			}
		})
	}
}

func paramOf(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Param
	}
	return ""
}

func TestStopReasons(t *testing.T) {
	cases := []struct{ bedrock, openai, anthropic string }{
		{"end_turn", "stop", "end_turn"},
		{"stop_sequence", "stop", "stop_sequence"},
		{"tool_use", "tool_calls", "tool_use"},
		{"max_tokens", "length", "max_tokens"},
		{"model_context_window_exceeded", "length", "model_context_window_exceeded"},
		{"guardrail_intervened", "content_filter", "refusal"},
		{"content_filtered", "content_filter", "refusal"},
	}
	for _, c := range cases {
		if got := finishReason(c.bedrock); got != c.openai {
			t.Errorf("openai %s → %s, want %s", c.bedrock, got, c.openai)
		}
		if got := stopReason(c.bedrock); got != c.anthropic {
			t.Errorf("anthropic %s → %s, want %s", c.bedrock, got, c.anthropic)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		kind     error
		code     string
		anthType string
	}{
		{429, `{"message":"Too many requests, please wait before trying again."}`, api.ErrRateLimited, "rate_limit_exceeded", "rate_limit_error"},
		{400, `{"message":"Input is too long for requested model."}`, api.ErrBadRequest, "context_length_exceeded", "invalid_request_error"},
		{400, `{"message":"Malformed input request","__type":"com.amazon.coral.validate#ValidationException"}`, api.ErrBadRequest, "ValidationException", "invalid_request_error"},
		{403, `{"Message":"User is not authorized"}`, api.ErrUpstream, "upstream_error", "api_error"},
		{404, `{"message":"Model not found"}`, api.ErrModelNotFound, "model_not_found", "not_found_error"},
		{424, `{"message":"Model error"}`, api.ErrUpstream, "upstream_error", "api_error"},
		{503, `{"message":"Service unavailable"}`, api.ErrUnavailable, "unavailable", "overloaded_error"},
		{500, `not json`, api.ErrUpstream, "upstream_error", "api_error"},
	}
	for _, c := range cases {
		err := newTr(t, api.EndpointChatCompletions, "m").Error(c.status, []byte(c.body))
		if !errors.Is(err, c.kind) || api.Status(err) != c.status {
			t.Errorf("%d %s: %v (status %d)", c.status, c.body, err, api.Status(err))
		}
		var oa struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal(api.OpenAIBody(err), &oa)
		if oa.Error.Code != c.code {
			t.Errorf("%d %s: code %s, want %s", c.status, c.body, oa.Error.Code, c.code)
		}
		if got := api.AnthropicType(err); got != c.anthType {
			t.Errorf("%d: anthropic type %s, want %s", c.status, got, c.anthType)
		}
	}
}

func TestEmbeddingsTitan(t *testing.T) {
	tr := newTr(t, api.EndpointEmbeddings, "amazon.titan-embed-text-v2:0")
	path, out, err := tr.Request([]byte(`{"model":"e","input":["one two","three"],"dimensions":256}`))
	if err != nil {
		t.Fatal(err)
	}
	if path != "/model/amazon.titan-embed-text-v2%3A0/invoke" || string(out) != `{"inputText":"one two","dimensions":256,"normalize":true}` {
		t.Fatalf("path %s body %s", path, out)
	}
	f := tr.(interface {
		More() [][]byte
		Join([][]byte) ([]byte, error)
	})
	if more := f.More(); len(more) != 1 || string(more[0]) != `{"inputText":"three","dimensions":256,"normalize":true}` {
		t.Fatalf("more %s", more)
	}
	got, err := f.Join([][]byte{[]byte(`{"embedding":[0.1,0.2],"inputTextTokenCount":2}`), []byte(`{"embedding":[0.3,0.4],"inputTextTokenCount":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]},{"object":"embedding","index":1,"embedding":[0.3,0.4]}],"model":"client-model","usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if u := tr.Usage(); u.InputTokens != 3 || !u.Reported {
		t.Fatalf("usage %+v", u)
	}
}

func TestEmbeddingsCohere(t *testing.T) {
	tr := newTr(t, api.EndpointEmbeddings, "cohere.embed-english-v3")
	_, out, err := tr.Request([]byte(`{"model":"e","input":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"texts":["a","b"],"input_type":"search_document"}` {
		t.Fatalf("body %s", out)
	}
	if m := tr.(interface{ More() [][]byte }).More(); m != nil {
		t.Fatalf("cohere batches: more %s", m)
	}
	got, err := tr.Response([]byte(`{"embeddings":[[1,2],[3,4]],"id":"x","response_type":"embeddings_floats","texts":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"index":1,"embedding":[3,4]`)) || tr.Usage().Reported {
		t.Fatalf("got %s usage %+v", got, tr.Usage())
	}
	v4 := newTr(t, api.EndpointEmbeddings, "cohere.embed-v4:0")
	if _, _, err := v4.Request([]byte(`{"model":"e","input":"a"}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := v4.Response([]byte(`{"embeddings":{"float":[[5,6]]},"response_type":"embeddings_by_type"}`)); err != nil || !bytes.Contains(got, []byte(`"embedding":[5,6]`)) {
		t.Fatalf("v4: %s %v", got, err)
	}
}

func TestEmbeddingsTitanV1(t *testing.T) {
	tr := newTr(t, api.EndpointEmbeddings, "amazon.titan-embed-text-v1")
	if _, out, err := tr.Request([]byte(`{"model":"e","input":"a"}`)); err != nil || string(out) != `{"inputText":"a"}` {
		t.Fatalf("body %s %v", out, err)
	}
	if _, _, err := newTr(t, api.EndpointEmbeddings, "amazon.titan-embed-text-v1").Request([]byte(`{"model":"e","input":"a","dimensions":256}`)); paramOf(err) != "dimensions" {
		t.Fatalf("err %v", err)
	}
}

func frame(t testing.TB, hs map[string]string, payload string) []byte {
	var h eventstream.Headers
	for k, v := range hs {
		h.Set(k, eventstream.StringValue(v))
	}
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, eventstream.Message{Headers: h, Payload: []byte(payload)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEventReader(t *testing.T) {
	ev := frame(t, map[string]string{":message-type": "event", ":event-type": "messageStart"}, `{"role":"assistant"}`)
	exc := func(typ string) []byte {
		return frame(t, map[string]string{":message-type": "exception", ":exception-type": typ}, `{"message":"boom"}`)
	}
	corrupt := append([]byte(nil), ev...)
	corrupt[len(corrupt)-6] ^= 0xff
	cases := []struct {
		name   string
		stream []byte
		status int // of the error after the first event; 0: clean EOF
		eof    bool
	}{
		{"clean", ev, 0, true},
		{"throttling", append(append([]byte(nil), ev...), exc("throttlingException")...), 429, false},
		{"validation", append(append([]byte(nil), ev...), exc("validationException")...), 400, false},
		{"model stream", append(append([]byte(nil), ev...), exc("modelStreamErrorException")...), 424, false},
		{"internal", append(append([]byte(nil), ev...), exc("internalServerException")...), 500, false},
		{"unavailable", append(append([]byte(nil), ev...), exc("serviceUnavailableException")...), 503, false},
		{"error frame", append(append([]byte(nil), ev...), frame(t, map[string]string{":message-type": "error", ":error-code": "InternalFailure", ":error-message": "oops"}, "")...), 502, false},
		{"truncated", append(append([]byte(nil), ev...), ev[:10]...), -1, false},
		{"bad crc", append(append([]byte(nil), ev...), corrupt...), -1, false},
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(c.stream)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			rd := NewEventReader(r)
			first, err := rd.Next()
			if err != nil || first.Type != "messageStart" || string(first.Data) != `{"role":"assistant"}` {
				t.Fatalf("%s: first %+v %v", c.name, first, err)
			}
			_, err = rd.Next()
			switch {
			case c.eof:
				if err != io.EOF {
					t.Fatalf("%s: %v, want EOF", c.name, err)
				}
			case c.status > 0:
				var ae *api.Error
				if !errors.As(err, &ae) || api.Status(err) != c.status {
					t.Fatalf("%s: %v (status %d), want %d", c.name, err, api.Status(err), c.status)
				}
			default:
				var ae *api.Error
				if err == nil || err == io.EOF || errors.As(err, &ae) {
					t.Fatalf("%s: %v, want a decoding error", c.name, err)
				}
			}
		}
	}
}

// Unknown stream event kinds are counted (for the request's log line),
// not dropped silently or failed on.
func TestUnknownEventsCounted(t *testing.T) {
	tr := newTr(t, api.EndpointChatCompletions, "m").(*fromOpenAI)
	if _, _, err := tr.Request([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)); err != nil {
		t.Fatal(err)
	}
	out, _ := providertest.Stream(tr, bytes.NewReader(encodeEvents(t, []byte("messageStart {\"role\":\"assistant\"}\nfutureEvent {\"x\":1}\ncontentBlockDelta {\"contentBlockIndex\":0,\"delta\":{\"citation\":{}}}\nmessageStop {\"stopReason\":\"end_turn\"}\n"))))
	if tr.SkippedEvents() != 2 || !bytes.HasSuffix(out, []byte("data: [DONE]\n\n")) {
		t.Fatalf("unknown %d out %s", tr.SkippedEvents(), out)
	}
}

// TestTextFormatFor: which model ids get Converse's structured outputs,
// whatever the inference profile or ARN around them.
func TestTextFormatFor(t *testing.T) {
	cases := []struct {
		model  string
		native bool
	}{
		{"anthropic.claude-sonnet-4-5-20250929-v1:0", true},
		{"us.anthropic.claude-haiku-4-5-20251001-v1:0", true},
		{"global.anthropic.claude-opus-4-6-v1", true},
		{"eu.anthropic.claude-sonnet-4-6", true},
		{"arn:aws:bedrock:us-east-1::foundation-model/qwen.qwen3-32b-v1:0", true},
		{"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-5-20251101-v1:0", true},
		{"openai.gpt-oss-120b-1:0", true},
		{"mistral.mistral-large-3-675b-instruct", true},
		{"anthropic.claude-sonnet-4-20250514-v1:0", false},
		{"anthropic.claude-opus-4-1-20250805-v1:0", false},
		{"anthropic.claude-3-5-haiku-20241022-v1:0", false},
		{"amazon.nova-pro-v1:0", false},
		{"meta.llama3-3-70b-instruct-v1:0", false},
		{"mistral.mistral-large-2407-v1:0", false},
		{"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", false},
		{"xanthropic.claude-sonnet-4-5", false},
	}
	for _, c := range cases {
		if got := textFormatFor(c.model); got != c.native {
			t.Errorf("%s: native %v, want %v", c.model, got, c.native)
		}
	}
}

// TestStopSequenceUnreported: a model that does not say which sequence
// matched leaves stop_sequence null, plain and streamed.
func TestStopSequenceUnreported(t *testing.T) {
	req := []byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"stop_sequences":["END"]}`)
	tr := newTr(t, api.EndpointMessages, "amazon.nova-pro-v1:0")
	if _, _, err := tr.Request(req); err != nil {
		t.Fatal(err)
	}
	out, err := tr.Response([]byte(`{"output":{"message":{"role":"assistant","content":[{"text":"a"}]}},"stopReason":"stop_sequence","usage":{"inputTokens":1,"outputTokens":1}}`))
	if err != nil || !strings.Contains(string(out), `"stop_reason":"stop_sequence","stop_sequence":null`) {
		t.Fatalf("%s %v", out, err)
	}
	tr = newTr(t, api.EndpointMessages, "amazon.nova-pro-v1:0")
	if _, _, err := tr.Request(req); err != nil {
		t.Fatal(err)
	}
	stream := encodeEvents(t, []byte(`messageStart {"role":"assistant"}
contentBlockDelta {"contentBlockIndex":0,"delta":{"text":"a"}}
messageStop {"stopReason":"stop_sequence","additionalModelResponseFields":{}}
metadata {"usage":{"inputTokens":1,"outputTokens":1}}`))
	out, _ = providertest.Stream(tr, iotest.OneByteReader(bytes.NewReader(stream)))
	if got := string(out); !strings.Contains(got, `"delta":{"stop_reason":"stop_sequence"},`) {
		t.Fatalf("%s", got)
	}
}
