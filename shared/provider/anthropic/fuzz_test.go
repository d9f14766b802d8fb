package anthropic

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

// FuzzStreams feeds arbitrary upstream streams to both translators: they
// may fail, but never panic, and every failure or end is reported in the
// client's protocol.
func FuzzStreams(f *testing.F) {
	log := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	f.Cleanup(func() { slog.SetDefault(log) })
	files, _ := filepath.Glob(filepath.Join("testdata", "from_openai", "*_stream.upstream"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		tr := NewFromOpenAI("c", "c")
		tr.includeUsage = true
		out, err := relay(tr, bytes.NewReader(stream))
		if err == nil && !strings.HasSuffix(out, "data: [DONE]\n\n") {
			t.Fatalf("clean end without [DONE]: %q", out)
		}
		if err != nil && !strings.Contains(out, `{"error":`) {
			t.Fatalf("failure without an error event: %q", out)
		}
		pt := NewFromAnthropic(api.EndpointMessages, "c", "c")
		if _, err := relay(pt, bytes.NewReader(stream)); err == nil && !pt.stopped {
			t.Fatal("clean end without message_stop")
		}
	})
}

// requestSeeds are chat completion requests of every shape: the plain ones
// fastRequest reads, and the near misses it must leave to decodeRequest.
var requestSeeds = []string{
	`{"model":"mock-claude","stream":true,"messages":[{"role":"user","content":"Say hello in five words."}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"Hello"}]}`,
	`{"model":"claude","stream":true,"stream_options":{"include_usage":true},"max_tokens":1024,"messages":[
	  {"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What is the capital of France?"},
	  {"role":"assistant","content":"Paris."},{"role":"user","content":"And of Italy?"}]}`,
	`{"model":"claude","stream":false,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stream_options":{"include_usage":false},"stream":true,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stream":true,"stream_options":{},"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stream":true,"stream_options":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_completion_tokens":300,"max_tokens":99,"temperature":0.2,"top_p":0.9,"stop":"END","user":"u-42",
	  "messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"Use French."},{"role":"user","name":"ann","content":"Bonjour"}]}`,
	`{"model":"claude","max_completion_tokens":0,"max_tokens":99,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":0,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":-5,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":1e3,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":100.0,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":0100,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":999999999999999999,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":9999999999999999999,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","max_tokens":"100","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":0,"top_p":1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":1.0000,"top_p":0.10,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":1.5,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":-0.1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":-0,"top_p":-0.0,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":5e-1,"top_p":7E-7,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":0.0000001,"top_p":1e21,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":0.12345678901234567890,"top_p":-3.5e-12,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","top_p":1e400,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","top_p":1e-400,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","temperature":"0.5","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":["a","b"],"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":[],"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":"","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":["", "x\u00e9\n<&>"],"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":[null],"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":["a",1],"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":{"a":"b"},"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stop":true,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","user":"","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","user":"ann \"b\" <c>","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","user":"a","safety_identifier":"b","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","messages":[]}`,
	`{"model":"claude"}`,
	`{"messages":[{"role":"user","content":"a"}]}`,
	`{}`,
	`{"model":"claude","messages":null}`,
	`{"model":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"system","content":"only a system prompt"}]}`,
	`{"model":"claude","messages":[{"role":"system","content":""},{"role":"user","content":""}]}`,
	`{"model":"claude","messages":[{"role":"user","content":""},{"role":"user","content":"b"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":"c"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"system","content":"s"},{"role":"user","content":"b"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"user","content":"b"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"assistant","content":"b"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"developer","content":"d"},{"role":"assistant","content":""},{"role":"assistant","content":"c"}]}`,
	`{"model":"claude","messages":[{"role":"assistant","content":"first"},{"role":"user","content":"then"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"line\nbreak \"q\" <b>&amp; \u00e9\ud83d\ude42 \ud800 \u2028 \/"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"caf` + "\xff\xfe" + `"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":null}]}`,
	`{"model":"claude","messages":[{"role":"user"}]}`,
	`{"model":"claude","messages":[{"content":"a"}]}`,
	`{"model":"claude","messages":[null]}`,
	`{"model":"claude","messages":[{"role":"User","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"us\u0065r","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"robot","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"tool","tool_call_id":"t1","content":"sunny"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a","role":"assistant"}]}`,
	`{"model":"claude","messages":[{"Role":"user","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a","name":"ann"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a","name":null}]}`,
	`{"model":"claude","messages":[{"role":"assistant","content":"a","refusal":"no"}]}`,
	`{"model":"claude","messages":[{"role":"assistant","content":"b","reasoning_content":"from elsewhere"}]}`,
	`{"model":"claude","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
	`{"model":"claude","Model":"x","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","model":"x","messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","STREAM":true,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stream":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","stream":1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","n":1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","n":2,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","n":0,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","n":1.0,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","n":null,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"gpt-4o","n":1,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","logprobs":true,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","reasoning_effort":"high","max_completion_tokens":5000,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","tools":[{"type":"function","function":{"name":"now"}}],"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","unknown":1,"messages":[{"role":"user","content":"a"}]}`,
	`{"model":"claude","messages":[{"role":"user","content":"a"}]} `,
	`{"model":"claude","messages":[{"role":"user","content":"a"}]} ]`,
	`{"model":"claude","messages":[{"role":"user","content":"a"}]}{}`,
	` {"model" : "claude" , "messages" : [ { "role" : "user" , "content" : "a" } ] } `,
	`{"model":"claude","messages":[{"role":"user","content":"a"}]`,
	`[{"model":"claude"}]`,
	`null`,
	``,
}

// FuzzFastRequest checks the reflection-free reading of plain requests
// against decoding them whole: for any body, fastRequest either declines
// or gives the bytes decodeRequest gives, and the same includeUsage; it
// never accepts a body decodeRequest refuses.
func FuzzFastRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Add(benchRequest)
	f.Add(benchSimpleRequest)
	const upstream = `claude-"<x>"-` + "\u2028"
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, whole := NewFromOpenAI("c", upstream), NewFromOpenAI("c", upstream)
		got, ok := fast.fastRequest(body)
		path, want, err := whole.decodeRequest(body)
		if !ok {
			if got != nil || fast.includeUsage {
				t.Fatalf("declined %s, but wrote %q, includeUsage %v", body, got, fast.includeUsage)
			}
			return
		}
		if err != nil {
			t.Fatalf("fast path accepted %s, which the whole decoding refuses: %v\nfast %s", body, err, got)
		}
		if path != pathMessages || string(got) != string(want) || fast.includeUsage != whole.includeUsage {
			t.Fatalf("request %s:\nfast  %s, includeUsage %v\nwhole %s %s, includeUsage %v",
				body, got, fast.includeUsage, path, want, whole.includeUsage)
		}
	})
}

// TestFastRequestCovers checks that typical requests take the
// reflection-free path.
func TestFastRequestCovers(t *testing.T) {
	tests := []struct{ name, body string }{
		{"the gateway benchmark's", `{"model":"mock-claude","stream":true,"messages":[{"role":"user","content":"Say hello in five words."}]}`},
		{"system and turns", string(benchSimpleRequest)},
		{"sampling, stop, user", `{"model":"claude","max_completion_tokens":300,"max_tokens":99,"temperature":0.2,"top_p":0.9,"stop":["END","\n\n"],"user":"u-42",
		  "messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":"Use French."},{"role":"user","name":"ann","content":"Bonjour"}]}`},
		{"usage asked for, n 1", `{"model":"gpt-4o","n":1,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a"}]}`},
		{"turns to merge, system between", `{"model":"claude","messages":[{"role":"user","content":"a"},{"role":"system","content":"s"},{"role":"user","content":""},
		  {"role":"assistant","content":""},{"role":"assistant","content":"b"},{"role":"developer","content":"d"},{"role":"user","content":"c"}]}`},
	}
	for _, tt := range tests {
		if _, ok := NewFromOpenAI("c", "c").fastRequest([]byte(tt.body)); !ok {
			t.Errorf("%s: not read by fastRequest: %s", tt.name, tt.body)
		}
	}
}
