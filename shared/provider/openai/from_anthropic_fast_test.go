package openai

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/sse"
)

// fastSeeds are chunks as OpenAI and compatible servers send them, and
// ones shaped a little otherwise, which fastChunk must leave to the whole
// decoding.
var fastSeeds = []string{
	// OpenAI
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"aB3"}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" Hello"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x"}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":8,"total_tokens":27,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":2,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"Zx"}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_p","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_r","type":"function","function":{"name":"f","arguments":"{\"city\": \"Rome\"}"}}]},"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}},{"index":1,"function":{"arguments":"2}"}}]},"finish_reason":"tool_calls"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"id":"call_\u00e9","function":{"name":"n\"q","arguments":"{\"s\":\"\\u00e9\\n\"}"}}]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`,
	// DeepSeek, vLLM, SGLang, Ollama, OpenRouter, Azure, Groq
	`{"id":"r1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_x","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Two plus "},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"r1","choices":[{"index":0,"delta":{"content":"4","reasoning_content":null},"finish_reason":null}]}`,
	`{"id":"r1","choices":[{"index":0,"delta":{"content":null,"reasoning_signature":"sig-new"},"finish_reason":null}]}`,
	`{"id":"r1","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":16},"completion_tokens_details":{"reasoning_tokens":10},"prompt_cache_hit_tokens":16,"prompt_cache_miss_tokens":14}}`,
	`{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"reasoning":"hmm"},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":"END"}],"usage":null}`,
	`{"id":"chatcmpl-v","choices":[{"index":0,"delta":{},"finish_reason":"stop","stop_reason":151645}]}`,
	`{"id":"chatcmpl-v","choices":[{"index":0,"delta":{},"finish_reason":"stop","stop_reason":"E\u004eD"}]}`,
	`{"id":"chatcmpl-v","choices":[],"usage":{"prompt_tokens":9,"total_tokens":20,"completion_tokens":11,"prompt_tokens_details":null}}`,
	`{"id":"chatcmpl-v","choices":[{"index":0,"delta":{"tool_calls":[{"id":"chatcmpl-tool-1","type":"function","index":0,"function":{"name":"get_weather"}}]},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"s","choices":[{"index":0,"delta":{"role":null,"content":"x","reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":"stop","matched_stop":"END"}]}`,
	`{"id":"chatcmpl-o","object":"chat.completion.chunk","created":1,"model":"llama3","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`,
	`{"id":"gen-1","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"x","reasoning_details":[{"type":"reasoning.text","text":"x"}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}`,
	`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}`,
	`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}],"created":1,"id":"chatcmpl-a","model":"gpt-4o","object":"chat.completion.chunk","system_fingerprint":"fp_1"}`,
	`{"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"llama","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":9,"completion_tokens":3}}}`,
	// strings: escapes, unicode, invalid UTF-8, empty, null
	`{"id":"c","choices":[{"index":0,"delta":{"content":"line\nbreak \"q\" <b>&amp; \u00e9\ud83d\ude42 \ud800 \u2028 \/"}}]}`,
	"{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"bad \xff utf8 \xe2\x80\xa8 ok\"}}]}",
	`{"id":"c","choices":[{"index":0,"delta":{"content":"","reasoning_content":"","reasoning":"y"}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"reasoning_content":null,"reasoning":null,"reasoning_signature":null,"refusal":null}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"think","content":"say","refusal":"no","tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"redacted_reasoning":["EmwK"]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,"function":{"name":null,"arguments":null}}]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"x"}}]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[null]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":null}]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"x"}}]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":{"index":0}}}]}`,
	// finish reasons
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":""}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"eos"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"st\u006fp"}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":1}]}`,
	// numbers and usage
	`{"id":"c","choices":[],"usage":{}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":-1,"completion_tokens":2}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":1e3,"completion_tokens":2}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":1.0}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":01}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":9223372036854775807}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":null}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":3,"cost":0.0001}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":30,"prompt_tokens_details":{"cached_tokens":40,"cache_write_tokens":5}}}`,
	`{"id":"c","choices":[],"usage":{"prompt_tokens":3,"prompt_tokens_details":{"cached_tokens":"1"}}}`,
	`{"id":"c","choices":[],"usage":[]}`,
	`{"id":"c","created":"1","choices":[]}`,
	// choices
	`{"id":"c"}`,
	`{"id":"c","choices":null}`,
	`{"id":"c","choices":[{}]}`,
	`{"id":"c","choices":[null]}`,
	`{"id":"c","choices":[{"index":1,"delta":{"content":"other"}}]}`,
	`{"id":"c","choices":[{"index":null,"delta":{"content":"x"}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"content":"a"}},{"index":0,"delta":{"content":"b"}}]}`,
	`{"id":"c","choices":[{"index":0,"text":"legacy","finish_reason":null}]}`,
	// ids
	`{"id":null,"choices":[]}`,
	`{"id":"msg_x","choices":[]}`,
	`{"id":"a\u00e9","choices":[]}`,
	`{"id":1,"choices":[]}`,
	// errors
	`{"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":null}}`,
	`{"error":null,"id":"c","choices":[]}`,
	`{"id":"c","error":{"message":"x","code":"rate_limit_exceeded"},"choices":[]}`,
	// keys: repeated, in another case, escaped, unknown
	`{"id":"c","choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}`,
	`{"id":"c","choices":[],"choices":[{"index":0,"delta":{"content":"b"}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"Content":"a"}}]}`,
	`{"ID":"c","Choices":[{"Index":0,"Delta":{"content":"a"}}],"USAGE":{"PROMPT_TOKENS":1}}`,
	`{"id":"c","choices":[{"index":0,"delta":{"c\u006fntent":"a"}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"content":"a","audio":{"id":"x"}}}]}`,
	`{"id":"c","foo":1,"choices":[]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"function_call":{"name":"f","arguments":""}}}]}`,
	// not chunks
	`{}`, `[]`, `null`, `"x"`, `{"id":"c"`, ` {"id" : "c" , "choices" : [ { "index" : 0 , "delta" : { "content" : "sp" } } ] } `, `{"id":"c"} x`,
}

// fastStates are streams a chunk may arrive in: none yet, a text block
// open, a thinking block open, a tool call whose arguments are not yet
// whole, a whole one after text, a finish seen; and a request with
// thinking not displayed.
var fastStates = []struct {
	request string
	chunks  []string
}{
	{"", nil},
	{"", []string{`{"id":"s","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}`}},
	{"", []string{`{"id":"s","choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}`}},
	{"", []string{`{"id":"s","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","function":{"name":"f","arguments":"{\"x\":"}}]}}]}`}},
	{"", []string{`{"id":"s","choices":[{"index":0,"delta":{"content":"Let me check."}}]}`,
		`{"id":"s","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","function":{"name":"f","arguments":"{\"city\":\"Paris\"}"}}]}}]}`}},
	{"", []string{`{"id":"s","choices":[{"index":0,"delta":{"content":"Done"},"finish_reason":"stop"}]}`}},
	{`"thinking":{"type":"enabled","budget_tokens":2000,"display":"omitted"},`, []string{`{"id":"s","choices":[{"index":0,"delta":{"content":"x"}}]}`}},
}

// FuzzFastChunk checks the reflection-free reading of chunks against
// decoding them whole: for any chunk data, in each of fastStates, both give
// the same events, the same error and the same state.
func FuzzFastChunk(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	for _, data := range transcriptChunks(f) {
		f.Add(data)
	}
	bases := make([]*fromAnthropic, len(fastStates))
	for i, s := range fastStates {
		tr := mustRequested(f, []byte(`{"model":"m","max_tokens":9000,"stream":true,"stop_sequences":["END","\n\n"],`+s.request+`"messages":[{"role":"user","content":"hi"}]}`))
		for _, c := range s.chunks {
			if _, err := tr.StreamEvent(nil, sse.Event{Data: []byte(c)}); err != nil {
				f.Fatal(err)
			}
		}
		bases[i] = tr
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
			return // StreamEvent's, before either way
		}
		for i, base := range bases {
			fast, whole := cloneState(base), cloneState(base)
			got, gotErr := fast.StreamEvent([]byte("x"), sse.Event{Data: data})
			want, wantErr := whole.decodeChunk([]byte("x"), data)
			if string(got) != string(want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("state %d, chunk %s:\nfast  %q, %v\nwhole %q, %v", i, data, got, gotErr, want, wantErr)
			}
			if fast.usage != whole.usage || fast.skipped != whole.skipped || !reflect.DeepEqual(fast.st, whole.st) {
				t.Fatalf("state %d, chunk %s: state differs:\nfast  %+v %d %+v\nwhole %+v %d %+v", i, data,
					fast.usage, fast.skipped, fast.st, whole.usage, whole.skipped, whole.st)
			}
		}
	})
}

// cloneState is a copy of tr that shares nothing tr's stream changes.
func cloneState(tr *fromAnthropic) *fromAnthropic {
	c := *tr
	c.buf = nil
	c.st.tools = nil
	for _, tb := range tr.st.tools {
		tb.args = bytes.Clone(tb.args)
		c.st.tools = append(c.st.tools, tb)
	}
	return &c
}

// transcriptChunks are the chunk data of the recorded streams.
func transcriptChunks(tb testing.TB) [][]byte {
	files, _ := filepath.Glob("testdata/from_anthropic/*_stream.upstream")
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		rd := sse.NewReader(bytes.NewReader(b))
		for {
			ev, err := rd.Next()
			if err != nil {
				break
			}
			if ev.Data != nil {
				out = append(out, bytes.Clone(ev.Data))
			}
		}
	}
	return out
}

// TestFastChunkCovers checks that the chunks of the recorded transcripts
// and of the local mock's streams (text, reasoning, one and two tool calls)
// take the reflection-free path, but for error events.
func TestFastChunkCovers(t *testing.T) {
	streams := map[string][]byte{}
	files, _ := filepath.Glob("testdata/from_anthropic/*_stream.upstream")
	for _, name := range files {
		streams[name] = mustRead(t, name)
	}
	tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}]`
	for _, prompt := range []string{"Say hello", "think first", "use a tool", "use parallel tools"} {
		w := httptest.NewRecorder()
		(&mock.OpenAI{}).ServeHTTP(w, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(
			`{"model":"m","stream":true,"stream_options":{"include_usage":true},`+tools+`,"messages":[{"role":"user","content":"`+prompt+`"}]}`)))
		streams["mock: "+prompt] = w.Body.Bytes()
	}
	for name, b := range streams {
		tr := newFromAnthropic("c", "c")
		rd := sse.NewReader(bytes.NewReader(b))
		n := 0
		for {
			ev, err := rd.Next()
			if err != nil {
				break
			}
			if ev.IsComment() || ev.Type != "" || tr.st.done || bytes.Equal(ev.Data, []byte("[DONE]")) {
				tr.StreamEvent(nil, ev)
				continue
			}
			n++
			if _, ok := tr.fastChunk(nil, ev.Data); !ok {
				if !bytes.HasPrefix(ev.Data, []byte(`{"error"`)) {
					t.Errorf("%s: not read by fastChunk: %s", name, ev.Data)
				}
				tr.decodeChunk(nil, ev.Data)
			}
		}
		if n == 0 {
			t.Errorf("%s: no chunks", name)
		}
	}
}
