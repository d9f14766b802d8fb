package json_test

import (
	"bytes"
	"testing"

	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
)

// The benchmarks decode and encode the shapes the translators handle most,
// so a candidate codec can be compared here before it is tried under the
// per-pair benchmarks of shared/provider and shared/gateway.

var (
	benchChatRequest = []byte(`{"model":"claude","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":1024,"temperature":0.3,
"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city",
 "parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["location"]}}}],
"messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},
{"role":"user","content":"What's the weather in Paris?"},
{"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},
{"role":"tool","tool_call_id":"toolu_1","content":"{\"temp\":18,\"sky\":\"clear\"}"},
{"role":"user","content":"And should I take an umbrella tomorrow? Please explain in two sentences."}]}`)
	benchEvent = []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word 17 and some "}}`)
	benchChunk = []byte(`{"id":"chatcmpl-BENCH1234567890abcdefghij","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"content":" word 17 and"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Zx"}`)
)

// BenchmarkDecodeChatRequest is a client's chat request decoded strictly,
// as a translator reads it.
func BenchmarkDecodeChatRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchChatRequest)))
	for b.Loop() {
		var r chat.Request
		dec := json.NewDecoder(bytes.NewReader(benchChatRequest))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMessagesEvent is one text delta of an Anthropic stream.
func BenchmarkDecodeMessagesEvent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var e messages.Event
		if err := json.Unmarshal(benchEvent, &e); err != nil || e.Delta == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeChatChunk is one text chunk of an OpenAI stream.
func BenchmarkDecodeChatChunk(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var c chat.Chunk
		if err := json.Unmarshal(benchChunk, &c); err != nil || len(c.Choices) != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeMessagesRequest is a translated request written for an
// Anthropic backend.
func BenchmarkEncodeMessagesRequest(b *testing.B) {
	var r chat.Request
	if err := chat.Decode(benchChatRequest, &r); err != nil {
		b.Fatal(err)
	}
	out := messages.Request{Model: "claude-sonnet-4-5", MaxTokens: 1024, Stream: true, Temperature: r.Temperature,
		System: &messages.Content{Text: r.Messages[0].Content.String()},
		Messages: []messages.Message{
			{Role: "user", Content: messages.Content{Text: r.Messages[1].Content.String()}},
			{Role: "user", Content: messages.Content{Text: r.Messages[4].Content.String()}},
		}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&out); err != nil {
			b.Fatal(err)
		}
	}
}
