package cache

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
)

var fresh = Fresh{ID: "chatcmpl-fresh", Created: time.Unix(1_800_000_000, 0)}

const chatAnswer = `{"id":"chatcmpl-old","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is four, as two plus two makes four in ordinary arithmetic."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":15,"total_tokens":27}}`

const chatToolAnswer = `{"id":"chatcmpl-old","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\",\"days\":3}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":20,"total_tokens":50}}`

const messagesAnswer = `{"id":"msg_old","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Paris is the capital of France, and has been for a very long time."},{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"Paris population"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":25}}`

func TestPlainKeepsTheAnswerWithAFreshID(t *testing.T) {
	e := Entry{Body: []byte(chatAnswer)}
	got := string(Plain(ChatCompletions, &e, fresh))
	want := strings.Replace(strings.Replace(chatAnswer, "chatcmpl-old", "chatcmpl-fresh", 1), "1700000000", "1800000000", 1)
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if string(e.Body) != chatAnswer {
		t.Fatal("Plain changed the stored body")
	}
}

// TestStreamAddsUpToTheStoredAnswer replays each answer as a stream, feeds
// it to a collector one byte at a time, and compares what it adds up to
// with the stored answer.
func TestStreamAddsUpToTheStoredAnswer(t *testing.T) {
	cases := []struct {
		name   string
		p      Protocol
		body   string
		finish string
		want   []string // in the stream, in order
	}{
		{"chat text", ChatCompletions, chatAnswer, "stop",
			[]string{`"role":"assistant","content":""`, `"content":"The answer `, `"finish_reason":"stop"`, `"choices":[],"usage":{"prompt_tokens":12`, "data: [DONE]\n\n"}},
		{"chat tool call", ChatCompletions, chatToolAnswer, "tool_calls",
			[]string{`"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]`, `"finish_reason":"tool_calls"`, "[DONE]"}},
		{"messages", Messages, messagesAnswer, "tool_use",
			[]string{"event: message_start\n", `"id":"chatcmpl-fresh"`, "event: content_block_start\n", `"type":"text_delta"`, `"type":"input_json_delta"`, "event: content_block_stop\n", `"stop_reason":"tool_use"`, "event: message_stop\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Entry{Body: []byte(c.body), Usage: api.Usage{InputTokens: 1, OutputTokens: 1}}
			stream, err := Stream(nil, c.p, &e, fresh, true)
			if err != nil {
				t.Fatal(err)
			}
			rest := string(stream)
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stream lacks %q (in order) in:\n%s", w, stream)
				}
				rest = rest[i+len(w):]
			}
			if n := strings.Count(string(stream), "delta"); n < 4 {
				t.Errorf("only %d deltas: the content should come in several", n)
			}
			col := NewCollector(c.p, 1<<20)
			for i := range stream {
				col.Write(stream[i : i+1])
			}
			body, finish, ok := col.Answer(api.Usage{})
			if !ok || finish != c.finish {
				t.Fatalf("collected ok=%v finish=%q", ok, finish)
			}
			if !sameJSON(t, body, []byte(c.body), "id", "created") {
				t.Fatalf("collected\n%s\nwant\n%s", body, c.body)
			}
		})
	}
}

// sameJSON compares two JSON objects, ignoring the top-level members named.
func sameJSON(t *testing.T, a, b []byte, ignore ...string) bool {
	t.Helper()
	var va, vb map[string]any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	for _, k := range ignore {
		delete(va, k)
		delete(vb, k)
	}
	ea, _ := json.Marshal(va)
	eb, _ := json.Marshal(vb)
	return bytes.Equal(ea, eb)
}

func TestCollectorRefusesIncompleteStreams(t *testing.T) {
	e := Entry{Body: []byte(chatAnswer)}
	whole, _ := Stream(nil, ChatCompletions, &e, fresh, false)
	me := Entry{Body: []byte(messagesAnswer)}
	wholeM, _ := Stream(nil, Messages, &me, fresh, false)
	cases := []struct {
		name   string
		p      Protocol
		stream string
		limit  int
	}{
		{"cut before [DONE]", ChatCompletions, strings.TrimSuffix(string(whole), "data: [DONE]\n\n"), 1 << 20},
		{"error event", ChatCompletions, "data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n", 1 << 20},
		{"no finish reason", ChatCompletions, "data: {\"id\":\"a\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\ndata: [DONE]\n\n", 1 << 20},
		{"too large", ChatCompletions, string(whole), 100},
		{"anthropic cut before message_stop", Messages, string(wholeM[:bytes.LastIndex(wholeM, []byte("event: message_stop"))]), 1 << 20},
		{"anthropic error", Messages, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[]}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n", 1 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := NewCollector(c.p, c.limit)
			col.Write([]byte(c.stream))
			if _, _, ok := col.Answer(api.Usage{}); ok {
				t.Fatal("an incomplete stream was taken as a whole answer")
			}
		})
	}
}

func TestStorable(t *testing.T) {
	cases := []struct {
		reason        string
		length, tools bool
		want          bool
	}{
		{"stop", false, false, true},
		{"end_turn", false, false, true},
		{"length", false, false, false},
		{"length", true, false, true},
		{"max_tokens", true, false, true},
		{"tool_calls", false, false, false},
		{"tool_use", false, true, true},
		{"content_filter", true, true, false},
		{"", true, true, false},
	}
	for _, c := range cases {
		if got := Storable(c.reason, c.length, c.tools); got != c.want {
			t.Errorf("Storable(%q, %v, %v) = %v", c.reason, c.length, c.tools, got)
		}
	}
	if f, ok := Finish(ChatCompletions, []byte(chatToolAnswer)); !ok || f != "tool_calls" {
		t.Errorf("Finish chat: %q %v", f, ok)
	}
	if f, ok := Finish(Messages, []byte(messagesAnswer)); !ok || f != "tool_use" {
		t.Errorf("Finish messages: %q %v", f, ok)
	}
}

// FuzzCollector feeds arbitrary streams, split anywhere, to both
// collectors: they never panic, and an answer they accept is JSON.
func FuzzCollector(f *testing.F) {
	e := Entry{Body: []byte(chatToolAnswer)}
	s, _ := Stream(nil, ChatCompletions, &e, fresh, true)
	f.Add(s, 7)
	me := Entry{Body: []byte(messagesAnswer)}
	s, _ = Stream(nil, Messages, &me, fresh, false)
	f.Add(s, 3)
	f.Add([]byte("data: {\"choices\":[{\"index\":-1,\"delta\":{}}]}\n\ndata: [DONE]\n\n"), 1)
	f.Add([]byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":5}\n\n"), 2)
	re := Entry{Body: []byte(responsesToolAnswer)}
	s, _ = Stream(nil, Responses, &re, fresh, false)
	f.Add(s, 5)
	f.Add([]byte("event: response.output_text.delta\ndata: {\"output_index\":3,\"delta\":\"x\"}\n\n"), 4)
	f.Fuzz(func(t *testing.T, stream []byte, split int) {
		for _, p := range []Protocol{ChatCompletions, Messages, Responses} {
			c := NewCollector(p, 1<<20)
			rest := stream
			for len(rest) > 0 {
				n := min(max(split%64, 1), len(rest))
				c.Write(rest[:n])
				rest = rest[n:]
			}
			if body, _, ok := c.Answer(api.Usage{}); ok && !json.Valid(body) {
				t.Fatalf("%s: accepted answer is not JSON: %s", p, body)
			}
		}
	})
}

func TestResponsesPlainAndFinish(t *testing.T) {
	const answer = `{"id":"resp_old","object":"response","created_at":1700000000,"status":"completed","model":"gpt-4o","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"hi"}]}]}`
	e := Entry{Body: []byte(answer)}
	got := string(Plain(Responses, &e, Fresh{ID: "resp_new", Created: time.Unix(1_800_000_000, 0)}))
	if !strings.Contains(got, `"id":"resp_new"`) || !strings.Contains(got, `"created_at":1800000000`) {
		t.Fatalf("plain %s", got)
	}
	for body, want := range map[string]string{
		answer: "stop",
		`{"status":"completed","output":[{"type":"function_call"}]}`: "tool_calls",
		`{"status":"incomplete","output":[]}`:                        "length",
		`{"status":"failed"}`:                                        "",
	} {
		if f, _ := Finish(Responses, []byte(body)); f != want {
			t.Errorf("%s: finish %q, want %q", body, f, want)
		}
	}
}
