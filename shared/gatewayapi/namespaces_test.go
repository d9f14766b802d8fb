package gatewayapi

import (
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/gatewayapi/conformance"
)

// TestNamespaceSelector: a listener that selects namespaces by label takes
// routes from the Namespaces whose labels match (matchLabels and
// matchExpressions), counting the name label Kubernetes always sets, and
// from namespaces only referred to, which carry that label alone.
func TestNamespaceSelector(t *testing.T) {
	const manifest = `apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {tier: gold, team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b, labels: {tier: silver}}
---
apiVersion: gateway.networking.k8s.io/v1
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
  - name: gold
    protocol: HTTP
    port: 80
    hostname: gold.test
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {tier: gold}}}}
  - name: not-silver
    protocol: HTTP
    port: 80
    hostname: expr.test
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {matchExpressions: [{key: tier, operator: NotIn, values: [silver]}]}
  - name: by-name
    protocol: HTTP
    port: 80
    hostname: name.test
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {matchLabels: {kubernetes.io/metadata.name: team-c}}
`
	route := func(ns string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: %[1]s}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: %[1]s}
spec: {type: ExternalName, externalName: %[1]s.test, ports: [{port: 80}]}
`, ns)
	}
	files := map[string][]byte{"gw.yaml": []byte(manifest + route("team-a") + route("team-b") + route("team-c"))}
	objs, probs := Validate(files)
	var got []string
	for _, p := range probs {
		got = append(got, p.Printed())
	}
	if want := `condition: gw.yaml:58: HTTPRoute/team-b/r: spec.parentRefs[0]: NotAllowedByListeners: no listener of Gateway infra/gw takes HTTPRoutes from namespace "team-b"`; strings.Join(got, "\n") != want {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	SetStatus(objs, time.Unix(0, 0))
	idx := index(objs)
	if got := conformance.ListenerCounts(idx["Gateway/infra/gw"].Value.(*gwv1.Gateway)); got != "gold=1 not-silver=2 by-name=1" {
		t.Errorf("attached routes %s, want gold=1 not-silver=2 by-name=1", got)
	}
	var accepted []string
	for _, ns := range []string{"team-a", "team-b", "team-c"} {
		accepted = append(accepted, ns+":"+conformance.RouteConditions(idx["HTTPRoute/"+ns+"/r"].Value.(*gwv1.HTTPRoute)))
	}
	sort.Strings(accepted)
	want := []string{
		"team-a:" + accepted0,
		"team-b:Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs",
		"team-c:" + accepted0,
	}
	if strings.Join(accepted, "\n") != strings.Join(want, "\n") {
		t.Errorf("route status:\n%s\nwant:\n%s", strings.Join(accepted, "\n"), strings.Join(want, "\n"))
	}
}

const accepted0 = "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"

// TestSelectorService: a Service with a selector, headless or not, takes
// its endpoints from the EndpointSlices that name it; without any, the
// routes that use it say ResolvedRefs=False, and the manifests still apply.
func TestSelectorService(t *testing.T) {
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
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8080, targetPort: 3000}
  - {name: grpc, port: 8081, targetPort: 3001, appProtocol: kubernetes.io/h2c}
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: infra}
spec:
  clusterIP: None
  selector: {app: headless}
  ports: [{port: 8080, targetPort: 3000}]
---
apiVersion: v1
kind: Service
metadata: {name: nowhere, namespace: infra}
spec:
  selector: {app: nowhere}
  ports: [{port: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: infra, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 3000}, {name: grpc, port: 3001}]
endpoints:
- addresses: [10.0.0.1]
- addresses: [10.0.0.2]
  conditions: {ready: false}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: headless-1, namespace: infra, labels: {kubernetes.io/service-name: headless}}
addressType: IPv4
ports: [{port: 3000}]
endpoints: [{addresses: [10.0.1.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /web}}]
    backendRefs: [{name: web, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /grpc}}]
    backendRefs: [{name: web, port: 8081}]
  - matches: [{path: {type: PathPrefix, value: /headless}}]
    backendRefs: [{name: headless, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /nowhere}}]
    backendRefs: [{name: nowhere, port: 8080}]
`
	objs, probs := Validate(map[string][]byte{"svc.yaml": []byte(manifest)})
	var got []string
	for _, p := range probs {
		got = append(got, p.Printed())
	}
	want := "condition: svc.yaml:67: HTTPRoute/infra/r: spec.rules[3].backendRefs[0].name: BackendNotFound: Service infra/nowhere port 8080 has no ready endpoints: no EndpointSlice among the files given labelled kubernetes.io/service-name=nowhere lists one (Sluice runs no pods: the Service's selector picks nothing; apply EndpointSlices for it)"
	if strings.Join(got, "\n") != want {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/web":      "http://10.0.0.1:3000",
		"/grpc":     "h2c http://10.0.0.1:3001",
		"/headless": "http://10.0.1.1:3000",
		"/nowhere":  "invalid",
	} {
		rule, _ := tab.Match(httptest.NewRequest("GET", path, nil), "gateway.test")
		got := "invalid"
		if b := rule.Backends[0].Backend; b >= 0 {
			be := tab.Backends[b]
			got = strings.TrimSpace(be.Protocol + " " + strings.Join(be.Endpoints, ","))
		}
		if got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}
