package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/sse"
)

var update = flag.Bool("update", false, "rewrite the golden client transcripts in testdata")

var pinned = time.Unix(1764250000, 0)

// streamer is what relayStream drives.
type streamer interface {
	StreamEvent(dst []byte, ev sse.Event) ([]byte, error)
	StreamError(dst []byte, err error) []byte
	StreamEnd(dst []byte) ([]byte, error)
}

// relay does what the gateway does with an upstream stream: each event
// translated, the end or the failure reported in the client's protocol.
func relay(tr streamer, r io.Reader) (string, error) {
	rd := sse.NewReader(r)
	var out, buf []byte
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			buf, err = tr.StreamEnd(buf[:0])
			if err != nil {
				buf = tr.StreamError(buf[:0], err)
			}
			return string(append(out, buf...)), err
		}
		if err != nil {
			out = tr.StreamError(out, api.Errorf(api.ErrUpstream, "the backend stream failed mid-response"))
			return string(out), err
		}
		buf, err = tr.StreamEvent(buf[:0], ev)
		if err != nil {
			out = tr.StreamError(out, err)
			return string(out), err
		}
		out = append(out, buf...)
	}
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
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

// TestFromOpenAIStreamTranscripts feeds recorded Anthropic streams (shaped
// as the Messages streaming reference shows them) to the translator whole
// and one byte at a time, and compares what the OpenAI client receives.
func TestFromOpenAIStreamTranscripts(t *testing.T) {
	tests := []struct {
		name      string
		request   string
		wantErr   bool
		wantUsage api.Usage
		unknown   int
	}{
		{"text", `{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`,
			false, api.Usage{InputTokens: 1225, OutputTokens: 15, CachedTokens: 1000, CacheWriteTokens: 200, Reported: true}, 0},
		{"tools", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"weather in Paris and Tokyo?"}]}`,
			false, api.Usage{InputTokens: 472, OutputTokens: 89, Reported: true}, 0},
		{"thinking", `{"model":"claude","stream":true,"stream_options":{"include_usage":true},"reasoning_effort":"low","messages":[{"role":"user","content":"weather?"}]}`,
			false, api.Usage{InputTokens: 120, OutputTokens: 160, Reported: true}, 0},
		{"error", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"story"}]}`,
			true, api.Usage{InputTokens: 30, OutputTokens: 1, Reported: true}, 0},
		{"cut", `{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"story"}]}`,
			true, api.Usage{InputTokens: 30, OutputTokens: 7, Reported: true}, 0},
		{"unknown", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"search"}]}`,
			false, api.Usage{InputTokens: 10, OutputTokens: 3, Reported: true}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream, err := os.ReadFile(filepath.Join("testdata", tt.name+".anthropic.sse"))
			if err != nil {
				t.Fatal(err)
			}
			var outs [2]string
			for i, r := range []io.Reader{bytes.NewReader(upstream), iotest.OneByteReader(bytes.NewReader(upstream))} {
				tr := NewFromOpenAI("claude", "claude-sonnet-4-5")
				tr.Now = func() time.Time { return pinned }
				if _, _, err := tr.Request([]byte(tt.request)); err != nil {
					t.Fatal(err)
				}
				out, err := relay(tr, r)
				if (err != nil) != tt.wantErr {
					t.Fatalf("relay error %v, want error %v", err, tt.wantErr)
				}
				if got := tr.Usage(); got != tt.wantUsage {
					t.Errorf("usage %+v, want %+v", got, tt.wantUsage)
				}
				if tr.SkippedEvents() != tt.unknown {
					t.Errorf("%d events not translated, want %d", tr.SkippedEvents(), tt.unknown)
				}
				outs[i] = out
			}
			if outs[0] != outs[1] {
				t.Fatalf("byte-at-a-time output differs:\n%s\n---\n%s", outs[1], outs[0])
			}
			checkGolden(t, tt.name+".openai.sse", outs[0])
		})
	}
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
			upstream, err := os.ReadFile(filepath.Join("testdata", tt.name+".anthropic.sse"))
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
