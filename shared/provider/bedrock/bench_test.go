package bedrock

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider/providertest"
)

var benchChat = []byte(`{"model":"claude","stream":true,"stream_options":{"include_usage":true},"max_tokens":512,"temperature":0.3,
"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"What is the weather in Paris?"},
{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
{"role":"tool","tool_call_id":"t1","content":"18C"},{"role":"user","content":"And in Rome?"}],
"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`)

// BenchmarkRequest translates one OpenAI chat request into Converse.
func BenchmarkRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		tr, _ := New(api.EndpointChatCompletions, "claude", "anthropic.claude-sonnet-4-20250514-v1:0", testConfig())
		if _, _, err := tr.Request(benchChat); err != nil {
			b.Fatal(err)
		}
	}
}

// stream100 is a ConverseStream answer of 100 events, framed.
func stream100(b *testing.B) []byte {
	var sb strings.Builder
	sb.WriteString("messageStart {\"role\":\"assistant\"}\n")
	for i := 0; i < 96; i++ {
		fmt.Fprintf(&sb, "contentBlockDelta {\"contentBlockIndex\":0,\"delta\":{\"text\":\"word%d \"},\"p\":\"abcdefgh\"}\n", i)
	}
	sb.WriteString("contentBlockStop {\"contentBlockIndex\":0}\nmessageStop {\"stopReason\":\"end_turn\"}\n")
	sb.WriteString("metadata {\"usage\":{\"inputTokens\":20,\"outputTokens\":96,\"totalTokens\":116},\"metrics\":{\"latencyMs\":100}}\n")
	t := &testing.T{}
	return encodeEvents(t, []byte(sb.String()))
}

// BenchmarkStream100 decodes and translates a 100-event stream for each
// client protocol.
func BenchmarkStream100(b *testing.B) {
	upstream := stream100(b)
	for _, c := range []struct {
		name string
		ep   api.Endpoint
		req  []byte
	}{
		{"openai", api.EndpointChatCompletions, benchChat},
		{"anthropic", api.EndpointMessages, []byte(`{"model":"claude","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(upstream)))
			for b.Loop() {
				tr, _ := New(c.ep, "claude", "anthropic.claude-sonnet-4-20250514-v1:0", testConfig())
				if _, _, err := tr.Request(c.req); err != nil {
					b.Fatal(err)
				}
				out, _ := providertest.Stream(tr, bytes.NewReader(upstream))
				if len(out) == 0 {
					b.Fatal("no output")
				}
			}
		})
	}
}
