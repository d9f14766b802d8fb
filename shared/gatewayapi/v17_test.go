package gatewayapi

import (
	"strings"
	"testing"
)

// TestV17Refusals: fields of Gateway API v1.7 that Sluice does not
// implement are refused with file, line and field, never silently ignored;
// rule names, unique within a route in v1.7's standard channel, are checked.
func TestV17Refusals(t *testing.T) {
	const manifest = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: sluice
  addresses:
  - {type: IPAddress, value: 10.0.0.1, routability: Cluster}
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    filters:
      requests: [{type: ExtensionRef, extensionRef: {group: example.net, kind: Auth, name: a}}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: infra}
spec: {type: ExternalName, externalName: svc.test, ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: same
    backendRefs: [{name: svc, port: 8080}]
    retry: {attempts: 2, codes: [503], backoff: 100ms}
  - name: same
    backendRefs: [{name: svc, port: 8080}]
    sessionPersistence:
      type: Header
      header: {name: x-session}
  - name: other
    backendRefs: [{name: svc, port: 8080}]
`
	_, probs := Validate(map[string][]byte{"v17.yaml": []byte(manifest)})
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	for _, want := range []string{
		"v17.yaml:12: Gateway/infra/gw: spec.addresses: not supported",
		"v17.yaml:18: Gateway/infra/gw: spec.listeners[0].filters: pre-routing listener filters",
		"v17.yaml:33: HTTPRoute/infra/r: spec.rules[0].retry: not supported",
		"v17.yaml:34: HTTPRoute/infra/r: spec.rules[1].name: rule name \"same\" is used twice (also spec.rules[0])",
		"v17.yaml:37: HTTPRoute/infra/r: spec.rules[1].sessionPersistence: not supported",
	} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("no problem %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != 5 {
		t.Errorf("%d problems, want 5:\n%s", len(got), strings.Join(got, "\n"))
	}
}
