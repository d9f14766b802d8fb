package gatewayapi

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

const backendPolicyManifests = `apiVersion: gateway.networking.k8s.io/v1
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
metadata: {name: openai, namespace: ai}
spec: {provider: openai, endpoint: "http://127.0.0.1:1/v1"}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: azure, namespace: ai}
spec: {provider: openai, endpoint: "http://127.0.0.2:1/v1"}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: claude, namespace: ai}
spec: {provider: anthropic, endpoint: "http://127.0.0.3:1/v1"}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: vllm, namespace: ai, labels: {app: llama}}
spec: {provider: openai, endpoint: "http://127.0.0.4:1/v1"}
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: llama, namespace: ai}
spec:
  selector: {matchLabels: {app: llama}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: sluice-balancer, port: {number: 9002}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: ai}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /chat}}]
    backendRefs:
    - {group: sluice.dev, kind: AIBackend, name: openai}
    - {group: sluice.dev, kind: AIBackend, name: azure}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: pool, namespace: ai}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /pool}}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: llama}]
---
apiVersion: sluice.dev/v1alpha1
kind: BackendPolicy
metadata: {name: failover, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}
  - {group: inference.networking.k8s.io, kind: InferencePool, name: llama}
  strategy: Priority
  tiers: {azure: 1}
  fallbacks: [{backend: claude, model: claude-sonnet-4-5}]
  retry: {maxAttempts: 4, budgetPercent: 10, minRetries: 1}
  breaker: {consecutiveFailures: 3, errorRatePercent: 40, minRequests: 10, window: 30s, coolDown: 2s}
  timeouts: {connect: 1s, firstByte: 5s, idle: 10s, total: 1m}
  hedge: {delay: 800ms, percentile: 95, excludePaths: [/v1/responses]}
---
apiVersion: sluice.dev/v1alpha1
kind: BackendPolicy
metadata: {name: later, namespace: ai, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}]
  strategy: LeastCost
---
apiVersion: sluice.dev/v1alpha1
kind: BackendPolicy
metadata: {name: claude-timeouts, namespace: ai}
spec:
  targetRefs: [{group: sluice.dev, kind: AIBackend, name: claude}]
  timeouts: {firstByte: 20s}
`

func TestBackendPolicyCompiles(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"p.yaml": []byte(backendPolicyManifests)})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	chat, _ := tab.Match(httptest.NewRequest("POST", "/chat", nil), "localhost")
	p := chat.Balance
	if p == nil || p.Name != "ai/failover" {
		t.Fatalf("chat rule's policy %+v, want ai/failover (the older one)", p)
	}
	want := route.BackendPolicy{Name: "ai/failover", Strategy: "Priority", Tiers: map[string]int{"ai/azure": 1},
		MaxAttempts: 4, RetryBudget: 0.1, MinRetries: 1,
		Breaker:  route.BreakerPolicy{ConsecutiveFailures: 3, ErrorRate: 0.4, MinRequests: 10, Window: 30 * time.Second, CoolDown: 2 * time.Second},
		Timeouts: route.Timeouts{Connect: time.Second, FirstByte: 5 * time.Second, Idle: 10 * time.Second, Total: time.Minute},
	}
	if p.Strategy != want.Strategy || p.Tiers["ai/azure"] != 1 || p.MaxAttempts != want.MaxAttempts ||
		p.RetryBudget != want.RetryBudget || p.MinRetries != want.MinRetries || p.Breaker != want.Breaker || p.Timeouts != want.Timeouts {
		t.Errorf("compiled\n%+v\nwant\n%+v", *p, want)
	}
	if h := p.Hedge; h == nil || h.Delay != 800*time.Millisecond || h.Percentile != 0.95 || h.ExcludePaths[0] != "/v1/responses" {
		t.Errorf("hedge %+v", h)
	}
	if len(p.Fallbacks) != 1 || tab.Backends[p.Fallbacks[0].Backend].Name != "ai/claude" || p.Fallbacks[0].Model != "claude-sonnet-4-5" {
		t.Fatalf("fallbacks %+v", p.Fallbacks)
	}
	if b := tab.Backends[p.Fallbacks[0].Backend]; b.Balance == nil || b.Balance.Timeouts.FirstByte != 20*time.Second {
		t.Errorf("the fallback backend's own policy: %+v", b.Balance)
	}
	pool, _ := tab.Match(httptest.NewRequest("POST", "/pool", nil), "localhost")
	if pool.Balance != nil {
		t.Errorf("the pool rule has the policy %+v; the policy targets the pool, not its route", pool.Balance)
	}
	if b := tab.Pools[0].Balance; b == nil || b.Name != "ai/failover" {
		t.Errorf("pool policy %+v", b)
	}

	SetStatus(objs, time.Unix(0, 0))
	for _, o := range objs {
		p, ok := o.Value.(*BackendPolicy)
		if !ok {
			continue
		}
		want := map[string]string{"failover": "Accepted", "later": "Conflicted", "claude-timeouts": "Accepted"}[o.Name]
		if got := p.Status.Ancestors[0].Conditions[0].Reason; got != want {
			t.Errorf("%s: %s, want %s", o.Name, got, want)
		}
	}
}
