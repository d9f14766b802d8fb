package gatewayapi

import (
	"strings"
	"testing"
)

// unservedBase is a GatewayClass, a Gateway and a Service the cases below
// attach to.
const unservedBase = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: tcp, protocol: TCP, port: 9000}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: infra}
spec: {type: ExternalName, externalName: svc.test, ports: [{port: 8080}]}
`

// TestUnserved: valid objects and fields Sluice does not serve are kept
// and reported through the standard conditions (or a notice for kinds
// without status), while what Kubernetes itself would refuse stays a
// refusal. The lines are as `sluice validate` prints them.
func TestUnserved(t *testing.T) {
	tests := []struct {
		name, manifest string
		want           []string
	}{{
		name: "a TCP listener, and a route on it",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: svc, port: 8080}]}]
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"condition: x.yaml:5: HTTPRoute/infra/r: spec.parentRefs[0]: NotAllowedByListeners: no listener of Gateway infra/gw takes HTTPRoutes from namespace \"infra\"",
		},
	}, {
		name: "a GRPCRoute",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules: [{backendRefs: [{name: svc, port: 8080}]}]
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"condition: x.yaml:5: GRPCRoute/infra/g: spec.parentRefs[0]: NotAllowedByListeners: Sluice serves HTTPRoutes only: no listener takes a GRPCRoute",
		},
	}, {
		name: "a filter type and session persistence",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: ExtensionRef, extensionRef: {group: example.net, kind: Auth, name: a}}]
    backendRefs: [{name: svc, port: 8080}]
  - sessionPersistence: {type: Cookie, sessionName: s}
    backendRefs: [{name: svc, port: 8080}]
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"condition: x.yaml:5: HTTPRoute/infra/r: spec.parentRefs[0]: UnsupportedValue: spec.rules[0].filters: spec.rules[0].filters[0].type: filter type \"ExtensionRef\" is not one Sluice serves",
		},
	}, {
		name: "a Gateway with addresses",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: addressed, namespace: infra}
spec:
  gatewayClassName: sluice
  addresses: [{type: IPAddress, value: 10.0.0.1}]
  listeners: [{name: http, protocol: HTTP, port: 80}]
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"condition: x.yaml:6: Gateway/infra/addressed: spec.addresses: UnsupportedAddress: Sluice assigns no addresses",
		},
	}, {
		name: "retry is served; its values are checked",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - name: same
    backendRefs: [{name: svc, port: 8080}]
    retry: {attempts: 2, codes: [503], backoff: 100ms}
  - name: same
    backendRefs: [{name: svc, port: 8080}]
    retry: {backoff: soon}
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"x.yaml:10: HTTPRoute/infra/r: spec.rules[1].name: rule name \"same\" is used twice (also spec.rules[0])",
			"x.yaml:12: HTTPRoute/infra/r: spec.rules[1].retry.backoff: invalid duration \"soon\"",
		},
	}, {
		name: "fields only v1.7 defines are unknown to the v1.6.3 types",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw17, namespace: infra}
spec:
  gatewayClassName: sluice
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    filters:
      requests: [{type: ExtensionRef, extensionRef: {group: example.net, kind: Auth, name: a}}]
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"x.yaml:11: Gateway/infra/gw17: spec.listeners[0].filters: unknown field",
		},
	}, {
		name: "another controller's class, a Deployment, a kind of another project",
		manifest: `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.net/controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: their-gw, namespace: infra}
spec:
  gatewayClassName: theirs
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: infra}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}
---
apiVersion: example.net/v1
kind: Widget
metadata: {name: w, namespace: infra}
`,
		want: []string{
			"condition: base.yaml:13: Gateway/infra/gw: spec.listeners[1]: UnsupportedProtocol: Sluice serves HTTP and HTTPS listeners, not TCP",
			"note: x.yaml:4: GatewayClass/theirs: spec.controllerName: controller \"example.net/controller\" is not Sluice's",
			"note: x.yaml:10: Gateway/infra/their-gw: spec.gatewayClassName: GatewayClass \"theirs\" belongs to controller \"example.net/controller\"",
			"note: x.yaml:13: Deployment/infra/web: kept as written, not served: Sluice runs no workloads",
			"note: x.yaml:18: Widget.example.net/infra/w: kept as written, not served",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Validate(map[string][]byte{"base.yaml": []byte(unservedBase), "x.yaml": []byte(tt.manifest)})
			var got []string
			for _, p := range probs {
				got = append(got, p.Printed())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d:\n%s\nwant it to start with\n%s", i, got[i], tt.want[i])
				}
			}
		})
	}
}
