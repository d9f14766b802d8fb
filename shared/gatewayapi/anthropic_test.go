package gatewayapi

import (
	"strings"
	"testing"
	"time"
)

const anthropicManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: claude, namespace: default}
spec:
  provider: anthropic
  credentialRef: {name: anthropic}
  models: [claude-sonnet-4-5]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: claude-proxy, namespace: default}
spec:
  provider: anthropic
  endpoint: https://llm-proxy.internal.example/anthropic/v1/
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: claude, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {group: sluice.dev, kind: AIBackend, name: claude}
    - {group: sluice.dev, kind: AIBackend, name: claude-proxy}
`

// TestAnthropicBackend: provider anthropic is accepted, and an AIBackend
// without an endpoint gets Anthropic's API base.
func TestAnthropicBackend(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"claude.yaml": []byte(anthropicManifests)})
	for _, p := range probs {
		t.Errorf("unexpected problem: %s", p)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range tab.Backends {
		got[b.Name] = b.Provider + " " + b.Endpoint + " " + b.Credential
	}
	want := map[string]string{
		"default/claude":       "anthropic https://api.anthropic.com/v1 anthropic",
		"default/claude-proxy": "anthropic https://llm-proxy.internal.example/anthropic/v1 ",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	// vllm has no default base URL, so it still requires an endpoint.
	_, probs = Validate(map[string][]byte{"o.yaml": []byte(strings.Replace(anthropicManifests, "provider: anthropic\n  credentialRef", "provider: vllm\n  credentialRef", 1))})
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "spec.endpoint") {
		t.Fatalf("vllm without endpoint: %v", probs)
	}
}
