package gatewayapi

import (
	"strings"
	"testing"
)

// TestV17Refusals: Gateway API fields Sluice does not implement are refused
// with file, line and field, never silently ignored; rule names must be
// unique within a route (standard in v1.7). The types are v1.6.3 (see
// go.mod), so fields that only v1.7 defines are refused as unknown fields.
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
  - {type: IPAddress, value: 10.0.0.1}
  listeners:
  - name: http
    protocol: HTTP
    port: 80
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
      type: Cookie
      sessionName: s
  - name: other
    backendRefs: [{name: svc, port: 8080}]
`
	expectProblems(t, "v17.yaml", manifest,
		"v17.yaml:12: Gateway/infra/gw: spec.addresses: not supported",
		"v17.yaml:31: HTTPRoute/infra/r: spec.rules[0].retry: not supported",
		"v17.yaml:32: HTTPRoute/infra/r: spec.rules[1].name: rule name \"same\" is used twice (also spec.rules[0])",
		"v17.yaml:35: HTTPRoute/infra/r: spec.rules[1].sessionPersistence: not supported",
	)

	const v17Only = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    filters:
      requests: [{type: ExtensionRef, extensionRef: {group: example.net, kind: Auth, name: a}}]
`
	expectProblems(t, "listener.yaml", v17Only,
		"listener.yaml:11: Gateway/infra/gw: spec.listeners[0].filters: unknown field")
}

// expectProblems validates one file and checks it has exactly the problems
// that start with want.
func expectProblems(t *testing.T, name, manifest string, want ...string) {
	t.Helper()
	_, probs := Validate(map[string][]byte{name: []byte(manifest)})
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("no problem %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}
