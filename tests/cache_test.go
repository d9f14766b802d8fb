package tests

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sluicegw/sluice/shared/ledger"
)

const consumerCache = `apiVersion: sluice.dev/v1alpha1
kind: CachePolicy
metadata: {name: per-team, namespace: ai}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}]
  scope: consumer
`

// TestCacheScopesSavingsAndLimits runs the cache with the ledger in
// DynamoDB Local and the windows and answers in redis-server: a consumer's
// answer is never served to another consumer; a hit costs nothing and
// records what it saved; rate limits still count it.
func TestCacheScopesSavingsAndLimits(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{policy: consumerCache, cache: true})
	ctx := context.Background()
	a1 := e.key("a1", "team-a", ledger.Limits{TokensPerDay: 1_000_000, RequestsPerMinute: 3})
	a2 := e.key("a2", "team-a", ledger.Limits{TokensPerDay: 1_000_000})
	b := e.key("b", "team-b", ledger.Limits{TokensPerDay: 1_000_000})
	body := chatBody("gpt-4o", "What is a response cache?", `,"temperature":0`)
	steps := []struct {
		name, key, want string
	}{
		{"team a asks", a1.Key, "miss"},
		{"team a asks again", a1.Key, "hit"},
		{"another key of team a", a2.Key, "hit"},
		{"team b asks the same", b.Key, "miss"},
	}
	var answer reported
	for _, s := range steps {
		resp, out, err := e.chat(ctx, s.key, body)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != s.want {
			t.Fatalf("%s: %v %v cache %q: %s", s.name, err, resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), out)
		}
		if s.want == "miss" {
			json.Unmarshal(out, &answer)
		}
	}
	u := e.usage("key=" + a1.ID).Total
	saved := answer.Usage.PromptTokens + answer.Usage.CompletionTokens
	cost := ledger.DefaultPrices["gpt-4o"].Cost(answer.Usage.PromptTokens, 0, answer.Usage.CompletionTokens)
	if u.Requests != 2 || u.CacheHits != 1 || u.SavedTokens != saved || u.SavedCostMicros != cost || u.CostMicros != cost ||
		u.InputTokens != answer.Usage.PromptTokens {
		t.Fatalf("key a1's usage %+v: want one request paid, one hit saving %d tokens and %d micro-USD", u, saved, cost)
	}
	// Two requests so far count against a1's three per minute; a hit is the third.
	if resp, _, _ := e.chat(ctx, a1.Key, body); resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "hit" {
		t.Fatalf("third: %d %q", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"))
	}
	if resp, out, _ := e.chat(ctx, a1.Key, body); resp.StatusCode != 429 {
		t.Fatalf("a hit past the request limit: %d %s", resp.StatusCode, out)
	}
}
