package cache

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
)

const responsesTextAnswer = `{"id":"resp_old","object":"response","created_at":1700000000,"status":"completed","model":"gpt-4o","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Paris is the capital of France, and has been for a very long time.","annotations":[],"logprobs":[]}]}],"usage":{"input_tokens":12,"output_tokens":15,"total_tokens":27},"error":null}`

const responsesToolAnswer = `{"id":"resp_old","object":"response","created_at":1700000000,"status":"completed","model":"gpt-4o","output":[{"type":"reasoning","id":"rs_1","summary":[]},{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Let me look that up for you, it takes a moment.","annotations":[]},{"type":"refusal","refusal":"I will not guess the weather without asking."}]},{"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\",\"days\":3}","status":"completed"}],"usage":{"input_tokens":30,"output_tokens":20,"total_tokens":50}}`

const responsesIncompleteAnswer = `{"id":"resp_old","object":"response","created_at":1700000000,"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-4o","output":[{"type":"message","id":"msg_1","status":"incomplete","role":"assistant","content":[{"type":"output_text","text":"Paris is the capital of France, and has been for a very","annotations":[]}]}],"usage":{"input_tokens":12,"output_tokens":12,"total_tokens":24}}`

// respEvents reads a Responses stream back into its events' data, checking
// that each event's name is its type and that sequence numbers count up
// from zero.
func respEvents(t *testing.T, stream []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, block := range strings.Split(strings.TrimSuffix(string(stream), "\n\n"), "\n\n") {
		name, data, ok := strings.Cut(block, "\ndata: ")
		if !ok || !strings.HasPrefix(name, "event: ") {
			t.Fatalf("not an event: %q", block)
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["type"] != strings.TrimPrefix(name, "event: ") || ev["sequence_number"] != float64(len(out)) {
			t.Fatalf("event %d: %q is %v, sequence %v", len(out), name, ev["type"], ev["sequence_number"])
		}
		out = append(out, ev)
	}
	return out
}

// TestResponsesStreamAddsUpToTheStoredAnswer replays stored Responses
// answers as event streams, checks the events' order and that their deltas
// add up to each item, and collects the stream back into the stored answer.
func TestResponsesStreamAddsUpToTheStoredAnswer(t *testing.T) {
	cases := []struct {
		name, body, finish string
		types              []string // the events' types, deltas counted once
	}{
		{"text", responsesTextAnswer, "stop", []string{"response.created", "response.in_progress",
			"response.output_item.added", "response.content_part.added", "response.output_text.delta",
			"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"}},
		{"reasoning, text, refusal, function call", responsesToolAnswer, "tool_calls", []string{"response.created", "response.in_progress",
			"response.output_item.added", "response.output_item.done",
			"response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
			"response.content_part.added", "response.refusal.delta", "response.refusal.done", "response.content_part.done", "response.output_item.done",
			"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done",
			"response.completed"}},
		{"incomplete", responsesIncompleteAnswer, "length", []string{"response.created", "response.in_progress",
			"response.output_item.added", "response.content_part.added", "response.output_text.delta",
			"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Entry{Body: []byte(c.body)}
			stream, err := Stream(nil, Responses, &e, fresh, false)
			if err != nil {
				t.Fatal(err)
			}
			events := respEvents(t, stream)
			var types []string
			deltas := map[string]string{}
			nDeltas := 0
			for _, ev := range events {
				typ := ev["type"].(string)
				if strings.HasSuffix(typ, ".delta") {
					deltas[ev["item_id"].(string)] += ev["delta"].(string)
					nDeltas++
					if types[len(types)-1] == typ {
						continue
					}
				}
				types = append(types, typ)
				if it, ok := ev["item"].(map[string]any); ok && typ == "response.output_item.added" {
					switch it["type"] {
					case "message":
						if it["status"] != "in_progress" || it["role"] != "assistant" || len(it["content"].([]any)) != 0 {
							t.Errorf("message added as %v", it)
						}
					case "function_call":
						if it["status"] != "in_progress" || it["arguments"] != "" || it["call_id"] == "" || it["name"] == "" {
							t.Errorf("function call added as %v", it)
						}
					}
				}
				if r, ok := ev["response"].(map[string]any); ok && (r["id"] != fresh.ID || r["created_at"] != float64(fresh.Created.Unix())) {
					t.Errorf("%s: response id %v created_at %v", typ, r["id"], r["created_at"])
				}
			}
			if strings.Join(types, " ") != strings.Join(c.types, " ") {
				t.Fatalf("events\n%v\nwant\n%v", types, c.types)
			}
			if nDeltas < 3 {
				t.Errorf("only %d deltas: the content should come in several", nDeltas)
			}
			var stored struct {
				Output []respItem `json:"output"`
			}
			if err := json.Unmarshal([]byte(c.body), &stored); err != nil {
				t.Fatal(err)
			}
			for _, it := range stored.Output {
				if deltas[it.ID] != it.streamed() {
					t.Errorf("item %s: deltas add up to %q, want %q", it.ID, deltas[it.ID], it.streamed())
				}
			}
			if start := events[0]["response"].(map[string]any); start["status"] != "in_progress" || len(start["output"].([]any)) != 0 || start["usage"] != nil ||
				start["incomplete_details"] != nil {
				t.Errorf("response.created: %v", start)
			}
			col := NewCollector(Responses, 1<<20)
			for i := range stream {
				col.Write(stream[i : i+1])
			}
			body, finish, ok := col.Answer(api.Usage{})
			if !ok || finish != c.finish {
				t.Fatalf("collected ok=%v finish=%q", ok, finish)
			}
			if !sameJSON(t, body, []byte(c.body), "id", "created_at") {
				t.Fatalf("collected\n%s\nwant\n%s", body, c.body)
			}
		})
	}
}

// TestResponsesCollectorFillsOutput: a terminal response that leaves out
// its output is given the items the stream carried, in order.
func TestResponsesCollectorFillsOutput(t *testing.T) {
	e := Entry{Body: []byte(responsesToolAnswer)}
	stream, _ := Stream(nil, Responses, &e, fresh, false)
	i := bytes.LastIndex(stream, []byte("event: response.completed"))
	for _, output := range []string{``, `"output":null,`, `"output":[],`} {
		final := []byte(`event: response.completed` + "\n" + `data: {"type":"response.completed","sequence_number":99,"response":{` +
			output + `"id":"resp_x","object":"response","status":"completed","usage":{"input_tokens":30,"output_tokens":20,"total_tokens":50}}}` + "\n\n")
		col := NewCollector(Responses, 1<<20)
		col.Write(append(stream[:i:i], final...))
		body, finish, ok := col.Answer(api.Usage{})
		if !ok || finish != "tool_calls" {
			t.Fatalf("%q: ok=%v finish=%q %s", output, ok, finish, body)
		}
		var got, want struct {
			Output json.RawMessage `json:"output"`
		}
		if json.Unmarshal(body, &got) != nil || json.Unmarshal([]byte(responsesToolAnswer), &want) != nil {
			t.Fatalf("%q: %s", output, body)
		}
		if !sameJSONList(t, got.Output, want.Output) {
			t.Fatalf("%q: output\n%s\nwant\n%s", output, got.Output, want.Output)
		}
	}
}

func sameJSONList(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb []any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ea, _ := json.Marshal(va)
	eb, _ := json.Marshal(vb)
	return bytes.Equal(ea, eb)
}

func TestResponsesCollectorRefusesIncompleteStreams(t *testing.T) {
	e := Entry{Body: []byte(responsesToolAnswer)}
	whole, _ := Stream(nil, Responses, &e, fresh, false)
	cut := string(whole[:bytes.LastIndex(whole, []byte("event: response.completed"))])
	// Remove the first text delta, so the deltas no longer add up to the item.
	i := strings.Index(string(whole), "event: response.output_text.delta")
	j := i + strings.Index(string(whole[i:]), "\n\n") + 2
	skipped := string(whole[:i]) + string(whole[j:])
	noOutput := strings.Replace(cut, "event: response.output_item.done", "event: response.ignored", 1) +
		"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n"
	cases := []struct {
		name, stream string
		limit        int
	}{
		{"cut before response.completed", cut, 1 << 20},
		{"a delta missing", skipped, 1 << 20},
		{"an item never done", noOutput, 1 << 20},
		{"failed", cut + "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\"}}\n\n", 1 << 20},
		{"error event", cut + "event: error\ndata: {\"type\":\"error\",\"message\":\"boom\"}\n\n" + string(whole[len(cut):]), 1 << 20},
		{"delta for an item not added", "event: response.output_text.delta\ndata: {\"output_index\":0,\"delta\":\"x\"}\n\n", 1 << 20},
		{"too large", string(whole), 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := NewCollector(Responses, c.limit)
			col.Write([]byte(c.stream))
			if body, _, ok := col.Answer(api.Usage{}); ok {
				t.Fatalf("an incomplete stream was taken as a whole answer: %s", body)
			}
		})
	}
}

// TestResponsesStreamRefusesCorruptEntries: an entry whose body is not a
// Responses answer is a miss, never a malformed stream.
func TestResponsesStreamRefusesCorruptEntries(t *testing.T) {
	for _, body := range []string{`{"output":`, `{"output":[{"type":"message","content":"x"}]}`, `{"output":[{"type":"function_call","id":"fc"}]}`} {
		if _, err := Stream(nil, Responses, &Entry{Body: []byte(body)}, fresh, false); err == nil {
			t.Errorf("%s: replayed", body)
		}
	}
}

// BenchmarkReplayAndCollect is a stored answer replayed as a stream and a
// stream collected into an answer, a Responses answer beside a chat
// completion with the same tool call.
func BenchmarkReplayAndCollect(b *testing.B) {
	for _, c := range []struct {
		name string
		p    Protocol
		body string
	}{{"chat", ChatCompletions, chatToolAnswer}, {"responses", Responses, responsesToolAnswer}} {
		e := Entry{Body: []byte(c.body)}
		stream, err := Stream(nil, c.p, &e, fresh, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/replay", func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf, _ = Stream(buf[:0], c.p, &e, fresh, false)
			}
		})
		b.Run(c.name+"/collect", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				col := NewCollector(c.p, 1<<20)
				col.Write(stream)
				if _, _, ok := col.Answer(api.Usage{}); !ok {
					b.Fatal("not collected")
				}
			}
		})
	}
}
