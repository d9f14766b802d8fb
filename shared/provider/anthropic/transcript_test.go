package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/sse"
)

// pinned is the clock of translated answers in tests.
var pinned = providertest.Now()

// relay does what the gateway does with an upstream stream and returns
// what the client receives.
func relay(tr provider.Translator, r io.Reader) (string, error) {
	out, err := providertest.Stream(tr, r)
	return string(out), err
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// TestFromOpenAIStreamTranscripts runs the recorded exchanges of
// testdata/from_openai (see package providertest): Anthropic streams,
// shaped as the Messages streaming reference shows them, and what the
// OpenAI client receives.
func TestFromOpenAIStreamTranscripts(t *testing.T) {
	providertest.Suite{Dir: "testdata/from_openai", Endpoint: api.EndpointChatCompletions, Provider: NewProvider,
		Model: "claude", Upstream: "claude-sonnet-4-5"}.Run(t)
}

// TestFromAnthropicStreamPassesThrough: an Anthropic client receives the
// upstream's events byte for byte, usage is read on the way, an upstream
// error event is forwarded as is, and a cut stream ends with an error
// event.
func TestFromAnthropicStreamPassesThrough(t *testing.T) {
	tests := []struct {
		name      string
		wantErr   bool
		wantTail  string // appended to the upstream's bytes
		wantUsage api.Usage
	}{
		{"text", false, "", api.Usage{InputTokens: 1225, OutputTokens: 15, CachedTokens: 1000, CacheWriteTokens: 200, Reported: true}},
		{"thinking", false, "", api.Usage{InputTokens: 120, OutputTokens: 160, Reported: true}},
		{"error", true, "", api.Usage{InputTokens: 30, OutputTokens: 1, Reported: true}},
		{"cut", true, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"the anthropic stream ended before message_stop\"}}\n\n",
			api.Usage{InputTokens: 30, OutputTokens: 7, Reported: true}},
		{"unknown", false, "", api.Usage{InputTokens: 10, OutputTokens: 3, Reported: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream, err := os.ReadFile(filepath.Join("testdata", "from_openai", tt.name+"_stream.upstream"))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []io.Reader{bytes.NewReader(upstream), iotest.OneByteReader(bytes.NewReader(upstream))} {
				tr := NewFromAnthropic(api.EndpointMessages, "claude", "claude-sonnet-4-5")
				out, err := relay(tr, r)
				if (err != nil) != tt.wantErr {
					t.Fatalf("relay error %v, want error %v", err, tt.wantErr)
				}
				if want := string(upstream) + tt.wantTail; out != want {
					t.Fatalf("client got\n%s\nwant\n%s", out, want)
				}
				if got := tr.Usage(); got != tt.wantUsage {
					t.Errorf("usage %+v, want %+v", got, tt.wantUsage)
				}
			}
		})
	}
	// Events are known by their data's type when the event line is missing.
	tr0 := NewFromAnthropic(api.EndpointMessages, "c", "c")
	tr0.StreamEvent(nil, sse.Event{Data: []byte(`{"type":"message_stop"}`), Raw: []byte("data: {\"type\":\"message_stop\"}\n\n")})
	if _, err := tr0.StreamEnd(nil); err != nil {
		t.Fatalf("message_stop without an event line: %v", err)
	}
	// The forwarded error keeps its kind for the gateway's log and status.
	tr := NewFromAnthropic(api.EndpointMessages, "c", "c")
	_, err := tr.StreamEvent(nil, sse.Event{Type: "error", Data: []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)})
	if api.Status(err) != 529 || !errors.Is(err, api.ErrUpstream) {
		t.Fatalf("error event: %v (status %d)", err, api.Status(err))
	}
}

func TestFromAnthropicRequest(t *testing.T) {
	body := `{"model":"fast","max_tokens":64,"messages":[{"role":"user","content":"model"}],"stream":true}`
	tests := []struct {
		name             string
		ep               api.Endpoint
		client, upstream string
		wantPath, want   string
	}{
		{"same name, bytes kept", api.EndpointMessages, "fast", "fast", "/messages", body},
		{"renamed in place", api.EndpointMessages, "fast", "claude-haiku-4-5", "/messages",
			`{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"model"}],"stream":true}`},
		{"count_tokens", api.EndpointCountTokens, "fast", "claude-haiku-4-5", "/messages/count_tokens",
			`{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"model"}],"stream":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(tt.ep, tt.client, tt.upstream)
			if err != nil {
				t.Fatal(err)
			}
			path, out, err := tr.Request([]byte(body))
			if err != nil || path != tt.wantPath || string(out) != tt.want {
				t.Fatalf("Request = %q, %s, %v", path, out, err)
			}
		})
	}
	tr, _ := New(api.EndpointMessages, "a", "b")
	if _, _, err := tr.Request([]byte(`{"messages":[]}`)); api.Status(err) != 400 {
		t.Fatalf("no model: %v", err)
	}
	plain := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"cache_read_input_tokens":10,"cache_creation_input_tokens":3,"output_tokens":2}}`
	got, err := tr.Response([]byte(plain))
	if err != nil || string(got) != plain {
		t.Fatalf("Response = %s, %v", got, err)
	}
	if u := tr.Usage(); u != (api.Usage{InputTokens: 18, OutputTokens: 2, CachedTokens: 10, CacheWriteTokens: 3, Reported: true}) {
		t.Fatalf("usage %+v", u)
	}
	ct, _ := New(api.EndpointCountTokens, "a", "a")
	if got, err := ct.Response([]byte(`{"input_tokens":42}`)); err != nil || string(got) != `{"input_tokens":42}` || ct.Usage() != (api.Usage{Reported: true}) {
		t.Fatalf("count_tokens: %s, %v, %+v", got, err, ct.Usage())
	}
}
