package gatewayapi

import (
	"testing"
	"time"
)

// TestEmbeddingBackendInTable: the AIBackend a semantic CachePolicy embeds
// with reaches the table though no route sends to it, once however many
// rules the policy covers; an exact-only policy adds nothing.
func TestEmbeddingBackendInTable(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"p.yaml": []byte(cacheManifests)})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range tab.Backends {
		if b.Name == "ai/embedder" {
			n++
			if b.Provider != "openai" || b.Endpoint != "http://127.0.0.1:1/v1" {
				t.Errorf("embedding backend %+v", b)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d embedding backends in the table, want 1: %+v", n, tab.Backends)
	}
	for _, r := range tab.Rules {
		for _, ref := range r.Backends {
			if ref.Backend >= 0 && tab.Backends[ref.Backend].Name == "ai/embedder" {
				t.Fatalf("rule %s sends traffic to the embedding backend", r.Route)
			}
		}
	}
}
