package openai

import (
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

// benchChatResponse is the mock provider's chat completion.
var benchChatResponse = []byte(`{"choices":[{"finish_reason":"stop","index":0,"logprobs":null,"message":{"annotations":[],"content":"Hello from the Sluice mock provider. You said: Say hello in five words.","refusal":null,"role":"assistant"}}],"created":1795797396,"id":"chatcmpl-mock40i7za","model":"mock-gpt","object":"chat.completion","service_tier":"default","system_fingerprint":"fp_sluice_mock","usage":{"completion_tokens":13,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":7,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":20}}`)

// BenchmarkResponse is a whole chat completion passed through, its usage
// read for the ledger.
func BenchmarkResponse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		tr, _ := New(api.EndpointChatCompletions, "m", "m")
		if _, err := tr.Response(benchChatResponse); err != nil || !tr.Usage().Reported {
			b.Fatal("no usage")
		}
	}
}

var benchUsageChunk = []byte(`{"choices":[],"created":1795797106,"id":"chatcmpl-mock91p68b","model":"mock-gpt","object":"chat.completion.chunk","service_tier":"default","system_fingerprint":"fp_sluice_mock","usage":{"completion_tokens":13,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":12,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":25}}`)

// BenchmarkReadUsageChunk is the read of a stream's usage chunk.
func BenchmarkReadUsageChunk(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if u, _, ok := readUsageChunk(benchUsageChunk); !ok || u == nil {
			b.Fatal("no usage")
		}
	}
}
