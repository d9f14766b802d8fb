package gatewayapi

import (
	"net/http/httptest"
	"testing"
	"time"
)

const policyManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ai}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: b, namespace: ai}
spec: {provider: openai, endpoint: "http://127.0.0.1:1/v1"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: own, namespace: ai}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /own}}], backendRefs: [{group: sluice.dev, kind: AIBackend, name: b}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: inherits, namespace: ai}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /inherits}}], backendRefs: [{group: sluice.dev, kind: AIBackend, name: b}]}]
---
apiVersion: sluice.dev/v1alpha1
kind: TokenLimitPolicy
metadata: {name: gateway-wide, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  perKey: {tokensPerDay: 1000}
---
apiVersion: sluice.dev/v1alpha1
kind: TokenLimitPolicy
metadata: {name: route-old, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: own}]
  perConsumer: {requestsPerMinute: 5}
  prices: {m: {input: 1, output: 2}}
  defaultMaxTokens: 256
---
apiVersion: sluice.dev/v1alpha1
kind: TokenLimitPolicy
metadata: {name: route-new, namespace: ai, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: own}]
  perKey: {requestsPerMinute: 1}
`

// TestPolicyAttachment: a route's own policy wins over its Gateway's; of
// two on one target the older wins, and the other says it is Conflicted.
func TestPolicyAttachment(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"p.yaml": []byte(policyManifests)})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, wantPolicy string }{
		{"/own", "ai/route-old"},
		{"/inherits", "ai/gateway-wide"},
	}
	for _, tt := range tests {
		rule, _ := tab.Match(httptest.NewRequest("POST", tt.path, nil), "localhost")
		if rule == nil || rule.Limits == nil || rule.Limits.Name != tt.wantPolicy {
			t.Fatalf("%s: rule %+v, want policy %s", tt.path, rule, tt.wantPolicy)
		}
	}
	own, _ := tab.Match(httptest.NewRequest("POST", "/own", nil), "localhost")
	if p := own.Limits; p.Consumer.RequestsPerMinute != 5 || p.Prices["m"].Output != 2 || p.DefaultMaxTokens != 256 {
		t.Fatalf("compiled policy %+v", p)
	}
	SetStatus(objs, time.Unix(0, 0))
	for _, o := range objs {
		p, ok := o.Value.(*TokenLimitPolicy)
		if !ok {
			continue
		}
		want := map[string]string{"gateway-wide": "Accepted", "route-old": "Accepted", "route-new": "Conflicted"}[o.Name]
		if got := p.Status.Ancestors[0].Conditions[0].Reason; got != want {
			t.Errorf("%s: %s, want %s", o.Name, got, want)
		}
	}
}
