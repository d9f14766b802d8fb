package anthropic

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/sse"
)

var benchRequest = []byte(`{"model":"claude","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":1024,"temperature":0.3,
"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city",
 "parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["location"]}}}],
"messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},
{"role":"user","content":"What's the weather in Paris?"},
{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},
{"role":"tool","tool_call_id":"toolu_1","content":"{\"temp\":18,\"sky\":\"clear\"}"},
{"role":"user","content":"And should I take an umbrella tomorrow? Please explain in two sentences."}]}`)

// benchStream is a 100-event Anthropic stream: message_start, ping, one
// text block of 94 deltas, message_delta, message_stop.
func benchStream() []sse.Event {
	var b bytes.Buffer
	b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":120,\"output_tokens\":1}}}\n\n")
	b.WriteString("event: ping\ndata: {\"type\": \"ping\"}\n\n")
	b.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	for i := 0; i < 94; i++ {
		fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word %d and some \"}}\n\n", i)
	}
	b.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	b.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":300}}\n\n")
	b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	rd := sse.NewReader(&b)
	var evs []sse.Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return evs
		}
		ev.Data = append([]byte(nil), ev.Data...)
		ev.Raw = append([]byte(nil), ev.Raw...)
		evs = append(evs, ev)
	}
}

func BenchmarkFromOpenAIRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for b.Loop() {
		tr := NewFromOpenAI("claude", "claude-sonnet-4-5")
		if _, _, err := tr.Request(benchRequest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromOpenAIStream100 translates a whole 100-event stream, as the
// gateway does, buffer reused between events.
func BenchmarkFromOpenAIStream100(b *testing.B) {
	evs := benchStream()
	if len(evs) != 100 {
		b.Fatalf("%d events", len(evs))
	}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		tr := NewFromOpenAI("claude", "claude-sonnet-4-5")
		tr.includeUsage = true
		for _, ev := range evs {
			var err error
			if buf, err = tr.StreamEvent(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tr.StreamEnd(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromAnthropicStream100 is the pass-through path over the same
// stream, for comparison.
func BenchmarkFromAnthropicStream100(b *testing.B) {
	evs := benchStream()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		tr := NewFromAnthropic(api.EndpointMessages, "claude", "claude")
		for _, ev := range evs {
			var err error
			if buf, err = tr.StreamEvent(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tr.StreamEnd(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSimpleRequest is a plainly shaped request: a system prompt and
// three turns of text, streamed, with max_tokens.
var benchSimpleRequest = []byte(`{"model":"claude","stream":true,"max_tokens":1024,"messages":[
{"role":"system","content":"You are a helpful assistant. Answer briefly."},
{"role":"user","content":"What is the capital of France?"},
{"role":"assistant","content":"Paris."},
{"role":"user","content":"And what is it famous for? Please answer in two sentences."}]}`)

func BenchmarkFromOpenAIRequestSimple(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchSimpleRequest)))
	for b.Loop() {
		tr := NewFromOpenAI("claude", "claude-sonnet-4-5")
		if _, _, err := tr.Request(benchSimpleRequest); err != nil {
			b.Fatal(err)
		}
	}
}
