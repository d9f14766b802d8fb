package gatewayapi

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cacheManifests reuses policyManifests' Gateway, backend and routes, and
// attaches CachePolicies instead of TokenLimitPolicies.
var cacheManifests = policyManifests[:strings.Index(policyManifests, "---\napiVersion: sluice.dev/v1alpha1\nkind: TokenLimitPolicy")] + `---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: embedder, namespace: ai}
spec: {provider: openai, endpoint: "http://127.0.0.1:1/v1"}
---
apiVersion: sluice.dev/v1alpha1
kind: CachePolicy
metadata: {name: gateway-wide, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
---
apiVersion: sluice.dev/v1alpha1
kind: CachePolicy
metadata: {name: route-old, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: own}]
  mode: both
  ttl: 10m
  maxEntryBytes: 1000
  scope: consumer
  cacheToolCalls: true
  semantic: {embeddingBackend: embedder, threshold: 0.9, text: conversation}
---
apiVersion: sluice.dev/v1alpha1
kind: CachePolicy
metadata: {name: route-new, namespace: ai, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: own}]
`

func TestCachePolicyAttachment(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"p.yaml": []byte(cacheManifests)})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	own, _ := tab.Match(httptest.NewRequest("POST", "/own", nil), "localhost")
	c := own.Cache
	if c == nil || c.Policy != "ai/route-old" || c.Scope != "ai/own/0" || !c.Exact || !c.Semantic ||
		c.TTL != 10*time.Minute || c.MaxBytes != 1000 || !c.PerConsumer || c.PerKey || !c.AllowToolCalls ||
		c.AllowLengthCut || c.AllowTemperature || c.Threshold != 0.9 || c.EmbeddingBackend != "embedder" ||
		c.Turns != DefaultCacheTurns || c.EmbeddingBudget != DefaultEmbeddingBudget {
		t.Fatalf("route's own policy compiled to %+v", c)
	}
	inh, _ := tab.Match(httptest.NewRequest("POST", "/inherits", nil), "localhost")
	c = inh.Cache
	if c == nil || c.Policy != "ai/gateway-wide" || c.Scope != "ai/inherits/0" || !c.Exact || c.Semantic ||
		c.TTL != DefaultCacheTTL || c.MaxBytes != DefaultCacheEntryBytes || c.PerConsumer || c.PerKey {
		t.Fatalf("the Gateway's policy compiled to %+v", c)
	}
	SetStatus(objs, time.Unix(0, 0))
	for _, o := range objs {
		p, ok := o.Value.(*CachePolicy)
		if !ok {
			continue
		}
		want := map[string]string{"gateway-wide": "Accepted", "route-old": "Accepted", "route-new": "Conflicted"}[o.Name]
		if got := p.Status.Ancestors[0].Conditions[0].Reason; got != want {
			t.Errorf("%s: %s, want %s", o.Name, got, want)
		}
	}
}

func TestNoCachePolicyNoCache(t *testing.T) {
	objs, _ := Validate(map[string][]byte{"p.yaml": []byte(policyManifests)})
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := tab.Match(httptest.NewRequest("POST", "/own", nil), "localhost"); r.Cache != nil {
		t.Fatalf("cache %+v without a CachePolicy", r.Cache)
	}
}
