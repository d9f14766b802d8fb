package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/ledger"
)

// TestTokenLimitPolicy: a TokenLimitPolicy attached to the chat route
// limits each key per model and each consumer across its keys; the free
// route, which it does not target, is not limited; a key's own per-model
// limit applies everywhere.
func TestTokenLimitPolicy(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{policy: `apiVersion: sluice.dev/v1alpha1
kind: TokenLimitPolicy
metadata: {name: chat-limits, namespace: ai}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}]
  perKey:
    models:
      gpt-4o: {requestsPerMinute: 1}
  perConsumer: {requestsPerMinute: 4}
`})
	ctx := context.Background()
	k1 := e.key("one", "team-x", ledger.Limits{})
	k2 := e.key("two", "team-x", ledger.Limits{})
	k3 := e.key("three", "", ledger.Limits{Models: map[string]ledger.Limits{"free-model": {RequestsPerMinute: 1}}})
	steps := []struct {
		name, key, model string
		want             int
		msg              string
	}{
		{"key one, gpt-4o", k1.Key, "gpt-4o", 200, ""},
		{"key one, gpt-4o again: per key and model", k1.Key, "gpt-4o", 429, "for this API key: 1 requests per minute"},
		{"key one, another model", k1.Key, "gpt-4o-mini", 200, ""},
		{"key two, gpt-4o: its own count", k2.Key, "gpt-4o", 200, ""},
		{"key two, another model: the consumer's fourth (a refused request does not count)", k2.Key, "gpt-4o-mini", 200, ""},
		{"key two: the consumer's fifth", k2.Key, "gpt-4o-mini", 429, "for the consumer team-x: 4 requests per minute"},
		{"key one: the consumer is spent", k1.Key, "gpt-4o-mini", 429, "the consumer team-x"},
		{"the untargeted route is free", k2.Key, "free-model", 200, ""},
		{"a key's own model limit, first", k3.Key, "free-model", 200, ""},
		{"a key's own model limit, second", k3.Key, "free-model", 429, "1 requests per minute"},
		{"a key's own model limit, other model", k3.Key, "gpt-4o", 200, ""},
	}
	for _, s := range steps {
		resp, body, err := e.chat(ctx, s.key, chatBody(s.model, "policy", ""))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != s.want || !strings.Contains(string(body), s.msg) {
			t.Fatalf("%s: %d %s, want %d with %q", s.name, resp.StatusCode, body, s.want, s.msg)
		}
	}
	// The policy's status says it is in force on its target.
	var objs struct{ Items []json.RawMessage }
	e.adminDo(http.MethodGet, "/admin/v1/objects", nil, http.StatusOK, &objs)
	found := false
	for _, raw := range objs.Items {
		var c bytes.Buffer
		json.Compact(&c, raw)
		raw = c.Bytes()
		if strings.Contains(string(raw), `"kind":"TokenLimitPolicy"`) {
			found = strings.Contains(string(raw), `"reason":"Accepted"`) && strings.Contains(string(raw), "in force on HTTPRoute/ai/chat")
		}
	}
	if !found {
		t.Fatalf("no Accepted TokenLimitPolicy in %s", objs.Items)
	}
}
