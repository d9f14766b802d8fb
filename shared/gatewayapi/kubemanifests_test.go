package gatewayapi

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestKubectlManifests: a Namespace, Services and an EndpointSlice as
// kubectl prints them from a cluster, every field and status included,
// load without a problem and resolve as kube-proxy would: the ready (or
// unconditioned) addresses of the slice's port named like the Service's,
// h2c by appProtocol, an ExternalName's DNS name; the route attaches
// through the Namespace's labels.
func TestKubectlManifests(t *testing.T) {
	objs, probs := load(t, "testdata/kube")
	for _, p := range probs {
		t.Errorf("unexpected problem: %s", p.Printed())
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{"/web", "Service/web/web:8080 http://10.244.1.7:3000,http://10.244.3.4:3000"},
		{"/grpc", "Service/web/web:8081 h2c http://10.244.1.7:3001,http://10.244.3.4:3001"},
		{"/docs", "Service/web/docs:80 http://docs.example.com:80"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rule, _ := tab.Match(httptest.NewRequest("GET", tt.path, nil), "gateway.test")
			if rule == nil {
				t.Fatal("no rule matches")
			}
			b := tab.Backends[rule.Backends[0].Backend]
			got := strings.Join(strings.Fields(b.Name+" "+b.Protocol+" "+strings.Join(b.Endpoints, ",")), " ")
			if got != tt.want {
				t.Fatalf("backend %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKubeMisspeltFields: a misspelt field of a Service, Namespace or
// EndpointSlice, at the top, in spec or status, or in a nested list, is
// refused with its file, line and path.
func TestKubeMisspeltFields(t *testing.T) {
	const (
		svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: n}\n"
		ns  = "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n"
		es  = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e, namespace: n}\naddressType: IPv4\n"
	)
	tests := []struct {
		name, text, want string
	}{
		{"Service at the top", svc + "spec: {ports: [{port: 80}]}\nstatsu: {}\n",
			"f.yaml:5: Service/n/s: statsu: unknown field"},
		{"Service in metadata", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: n\n  lables: {a: b}\n",
			"f.yaml:6: Service/n/s: metadata.lables: unknown field"},
		{"Service in spec", svc + "spec:\n  type: ClusterIP\n  selectr: {app: web}\n",
			"f.yaml:6: Service/n/s: spec.selectr: unknown field"},
		{"Service in spec.ports[]", svc + "spec:\n  ports:\n  - port: 80\n  - port: 81\n    targetPrt: 3000\n",
			"f.yaml:8: Service/n/s: spec.ports[1].targetPrt: unknown field"},
		{"Service in sessionAffinityConfig", svc + "spec:\n  sessionAffinityConfig:\n    clientIP: {timeout: 10}\n",
			"f.yaml:6: Service/n/s: spec.sessionAffinityConfig.clientIP.timeout: unknown field"},
		{"Service in status ingress ports", svc + "status:\n  loadBalancer:\n    ingress:\n    - ip: 203.0.113.1\n      ports: [{port: 80, protocol: TCP, eror: x}]\n",
			"f.yaml:8: Service/n/s: status.loadBalancer.ingress[0].ports[0].eror: unknown field"},
		{"Service with a wrong type", svc + "spec:\n  ports: [{port: http}]\n",
			"f.yaml:5: Service/n/s: spec.ports.port: expected int32, got a string"},
		{"Namespace at the top", ns + "sepc: {finalizers: [kubernetes]}\n",
			"f.yaml:4: Namespace/n: sepc: unknown field"},
		{"Namespace in spec", ns + "spec: {finalizer: [kubernetes]}\n",
			"f.yaml:4: Namespace/n: spec.finalizer: unknown field"},
		{"Namespace in status.conditions[]", ns + "status:\n  phase: Active\n  conditions:\n  - type: X\n    status: \"True\"\n    reasn: Y\n",
			"f.yaml:9: Namespace/n: status.conditions[0].reasn: unknown field"},
		{"EndpointSlice at the top", es + "endpoint: [{addresses: [10.0.0.1]}]\n",
			"f.yaml:5: EndpointSlice/n/e: endpoint: unknown field"},
		{"EndpointSlice in ports[]", es + "ports:\n- name: http\n  prot: 80\n",
			"f.yaml:7: EndpointSlice/n/e: ports[0].prot: unknown field"},
		{"EndpointSlice in endpoints[].conditions", es + "endpoints:\n- addresses: [10.0.0.1]\n  conditions:\n    redy: true\n",
			"f.yaml:8: EndpointSlice/n/e: endpoints[0].conditions.redy: unknown field"},
		{"EndpointSlice in endpoints[].hints", es + "endpoints:\n- addresses: [10.0.0.1]\n  hints:\n    forZones: [{zone: a}]\n",
			"f.yaml:8: EndpointSlice/n/e: endpoints[0].hints.forZones[0].zone: unknown field"},
		{"EndpointSlice in endpoints[].targetRef", es + "endpoints:\n- addresses: [10.0.0.1]\n  targetRef: {kind: Pod, nmae: p}\n",
			"f.yaml:7: EndpointSlice/n/e: endpoints[0].targetRef.nmae: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Parse(map[string][]byte{"f.yaml": []byte(tt.text)})
			var got []string
			for _, p := range probs {
				got = append(got, p.Printed())
			}
			if strings.Join(got, "\n") != tt.want {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

// BenchmarkParseKubectl decodes the kubectl-printed Namespace, Services
// and EndpointSlice, as every apply and cold start does.
func BenchmarkParseKubectl(b *testing.B) {
	files, err := ReadDir("testdata/kube/cluster.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, probs := Parse(files); len(probs) > 0 {
			b.Fatal(probs)
		}
	}
}
