package gemini

import (
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/sse"
)

const benchRequest = `{"model":"my-gemini","stream":true,"stream_options":{"include_usage":true},"messages":[
 {"role":"system","content":"You are terse."},
 {"role":"user","content":"What is the weather in Paris?"},
 {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
 {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"},
 {"role":"user","content":"And tomorrow?"}],
 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
 "temperature":0.2,"max_completion_tokens":512}`

// benchEvents is a 100-event Gemini stream.
func benchEvents() []sse.Event {
	evs := make([]sse.Event, 100)
	for i := range evs {
		data := `{"candidates":[{"content":{"parts":[{"text":"word "}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":40,"totalTokenCount":40},"modelVersion":"gemini-2.5-flash","responseId":"bench"}`
		if i == len(evs)-1 {
			data = strings.Replace(data, `"index":0`, `"finishReason":"STOP","index":0`, 1)
		}
		evs[i] = sse.Event{Data: []byte(data)}
	}
	return evs
}

// BenchmarkChatRequest: translating one OpenAI request to Gemini.
func BenchmarkChatRequest(b *testing.B) {
	body := []byte(benchRequest)
	b.ReportAllocs()
	for b.Loop() {
		tr, _ := New(api.EndpointChatCompletions, "my-gemini", "gemini-2.5-flash")
		if _, _, err := tr.Request(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatStream: translating a 100-event Gemini stream to OpenAI chunks.
func BenchmarkChatStream(b *testing.B) {
	evs := benchEvents()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		tr := &FromOpenAI{client: "my-gemini", model: "gemini-2.5-flash", includeUsage: true}
		for _, ev := range evs {
			var err error
			if buf, err = tr.StreamEvent(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		buf, _ = tr.StreamEnd(buf[:0])
	}
}

// BenchmarkMessagesStream: the same stream to Anthropic events.
func BenchmarkMessagesStream(b *testing.B) {
	evs := benchEvents()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		tr := &FromAnthropic{client: "claude-ish", model: "gemini-2.5-flash"}
		for _, ev := range evs {
			var err error
			if buf, err = tr.StreamEvent(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		buf, _ = tr.StreamEnd(buf[:0])
	}
}
