package gateway_test

import (
	"net/http"
	"testing"
)

// BenchmarkChatCompletionSemanticHit serves a reworded question from the
// semantic cache: the exact lookup's miss, the embedding call to the mock
// provider over loopback, the LSH lookup and the answer's read in the test
// binary's redis-server; no chat upstream.
func BenchmarkChatCompletionSemanticHit(b *testing.B) {
	s := semanticGateway(b, "", semantic, nil)
	if resp, _ := s.g.Do(b, http.MethodPost, "/v1/chat/completions", chatBody("gpt-4o", "S", "What is the capital of France?", ""),
		"Authorization", "Bearer "+s.g.Key); resp.Header.Get("X-Sluice-Cache") != "miss" {
		b.Fatalf("first: %v", resp.Header)
	}
	body := chatBody("gpt-4o", "S", "Can you tell me what the capital of France is, please?", "")
	b.ReportAllocs()
	for b.Loop() {
		resp, out := s.g.Do(b, http.MethodPost, "/v1/chat/completions", body, "Authorization", "Bearer "+s.g.Key)
		if resp.Header.Get("X-Sluice-Cache") != "hit" {
			b.Fatalf("status %d, cache %q: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), out)
		}
	}
}
