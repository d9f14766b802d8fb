package openai

import (
	"encoding/json"

	"github.com/sluicegw/sluice/shared/api"
	"reflect"
	"testing"
)

// FuzzStreamFields checks the quick scan of withStreamUsage against
// json.Unmarshal of the whole body, which it replaced.
func FuzzStreamFields(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","stream":true,"messages":[]}`,
		`{"model":"m","stream":true,"stream_options":{"include_usage":false}}`,
		`{"stream":true,"stream_options":null}`,
		`{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"x":1}}`,
		`{"Stream":true}`, `{"stream":"yes"}`, `{"stream":true,"stream_options":5}`, `{"stream":true`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := streamFields(body)
		var want streamRequest
		wantOK := json.Unmarshal(body, &want) == nil
		if ok != wantOK || ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("streamFields(%q) = %+v, %v; want %+v, %v", body, got, ok, want, wantOK)
		}
	})
}

// FuzzReadUsage checks Response's usage scan against json.Unmarshal of
// the whole body.
func FuzzReadUsage(f *testing.F) {
	for _, s := range []string{
		`{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":1}}}`,
		`{"usage":null}`, `{"usage":{"prompt_tokens":"x"}}`, `{"usage":{"prompt_tokens":1},"usage":{"completion_tokens":2}}`,
		`{"USAGE":{"prompt_tokens":1}}`, `[]`, `{"usage":{}`,
		`{"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":2},"prompt_tokens_details":{"x":1},"completion_tokens_details":null}}`,
		`{"usage":{"prompt_tokens":1.5}}`, `{"usage":{"prompt_tokens":99999999999999999999}}`, `{"usage":{"Prompt_Tokens":1}}`,
		string(benchChatResponse),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got *wireUsage
		ok := readUsage(body, &got)
		var want struct {
			Usage *wireUsage `json:"usage"`
		}
		wantOK := json.Unmarshal(body, &want) == nil
		if ok != wantOK || ok && !reflect.DeepEqual(got, want.Usage) {
			t.Fatalf("readUsage(%q) = %+v, %v; want %+v, %v", body, got, ok, want.Usage, wantOK)
		}
	})
}

// benchChatResponse is the mock provider's chat completion.
var benchChatResponse = []byte(`{"choices":[{"finish_reason":"stop","index":0,"logprobs":null,"message":{"annotations":[],"content":"Hello from the Sluice mock provider. You said: Say hello in five words.","refusal":null,"role":"assistant"}}],"created":1795797396,"id":"chatcmpl-mock40i7za","model":"mock-gpt","object":"chat.completion","service_tier":"default","system_fingerprint":"fp_sluice_mock","usage":{"completion_tokens":13,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":7,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":20}}`)

func BenchmarkResponse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		tr, _ := New(api.EndpointChatCompletions, "m", "m")
		if _, err := tr.Response(benchChatResponse); err != nil || !tr.Usage().Reported {
			b.Fatal("no usage")
		}
	}
}

// BenchmarkResponseUnmarshal is Response's usage read as it was before
// readUsage: json.Unmarshal of the whole body.
func BenchmarkResponseUnmarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var r struct {
			Usage *wireUsage `json:"usage"`
		}
		if json.Unmarshal(benchChatResponse, &r) != nil || r.Usage == nil {
			b.Fatal("no usage")
		}
	}
}

// FuzzReadUsageChunk checks StreamEvent's usage-chunk read against
// json.Unmarshal of the whole chunk.
func FuzzReadUsageChunk(f *testing.F) {
	for _, s := range []string{
		string(benchUsageChunk),
		`{"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1}}`,
		`{"choices":null,"usage":{"prompt_tokens":1}}`, `{"choices":5,"usage":{}}`, `{"choices":[ ],"usage":null}`,
		`{"usage":{"prompt_tokens":1},"usage":{"completion_tokens":2}}`, `{"Choices":[1],"usage":{}}`,
		`{"choices":[],"choices":[1],"usage":{"prompt_tokens":2.5}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, n, ok := readUsageChunk(data)
		var want usageChunk
		wantOK := json.Unmarshal(data, &want) == nil
		if ok != wantOK || ok && (!reflect.DeepEqual(u, want.Usage) || (n == 0) != (len(want.Choices) == 0)) {
			t.Fatalf("readUsageChunk(%q) = %+v, %d, %v; want %+v, %d, %v", data, u, n, ok, want.Usage, len(want.Choices), wantOK)
		}
	})
}

var benchUsageChunk = []byte(`{"choices":[],"created":1795797106,"id":"chatcmpl-mock91p68b","model":"mock-gpt","object":"chat.completion.chunk","service_tier":"default","system_fingerprint":"fp_sluice_mock","usage":{"completion_tokens":13,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":12,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":25}}`)

func BenchmarkReadUsageChunk(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if u, _, ok := readUsageChunk(benchUsageChunk); !ok || u == nil {
			b.Fatal("no usage")
		}
	}
}

// BenchmarkReadUsageChunkUnmarshal is the same read with json.Unmarshal
// of the whole chunk, as StreamEvent did before readUsageChunk.
func BenchmarkReadUsageChunkUnmarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var c usageChunk
		if json.Unmarshal(benchUsageChunk, &c) != nil || c.Usage == nil {
			b.Fatal("no usage")
		}
	}
}
