package conformance

import (
	"fmt"
	"strings"
	"testing"
)

// TestSuite: every upstream HTTPRoute test has an entry, each entry with a
// manifest has its file, and no file is left without an entry.
func TestSuite(t *testing.T) {
	byName := map[string]*Test{}
	for _, tt := range Tests() {
		if byName[tt.Name] != nil {
			t.Errorf("%s is listed twice", tt.Name)
		}
		byName[tt.Name] = tt
		if tt.NoCounterpart == "" && len(tt.Cases) == 0 && tt.Check == nil && len(tt.Status) == 0 {
			t.Errorf("%s checks nothing", tt.Name)
		}
	}
	for _, name := range append(append([]string(nil), Upstream...), UpstreamListenerSet...) {
		if byName[name] == nil {
			t.Errorf("upstream test %s has no entry", name)
		}
	}
	files, err := retold.ReadDir("testdata/tests")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, tt := range byName {
		if tt.Manifest != "" {
			used[tt.Manifest] = true
			if _, err := retold.ReadFile("testdata/tests/" + tt.Manifest); err != nil {
				t.Errorf("%s: %v", tt.Name, err)
			}
		}
	}
	for _, f := range files {
		if !used[f.Name()] {
			t.Errorf("testdata/tests/%s belongs to no test", f.Name())
		}
	}
}

// TestEndpointSlices: each Service that selects a Deployment's pods gets a
// slice listing the pod's ports for the Service's target ports.
func TestEndpointSlices(t *testing.T) {
	b := FakeBackends()
	got := string(b.Setup()["base/endpointslices.yaml"])
	v1 := b.Echo("infra-backend-v1")
	if v1 == nil {
		t.Fatalf("no pod for infra-backend-v1 in:\n%s", got)
	}
	for _, want := range []string{
		"name: infra-backend-v1-infra-backend-v1, namespace: gateway-conformance-infra, labels: {kubernetes.io/service-name: infra-backend-v1}",
		"ports: [{name: \"first-port\", port: " + itoa(v1.HTTPPort) + "}, {name: \"second-port\", port: " + itoa(v1.H2CPort) + "}, {name: \"third-port\", port: " + itoa(v1.HTTPPort) + "}]",
		"name: web-backend-web-backend, namespace: gateway-conformance-web-backend",
		"name: app-backend-v2-app-backend-v2, namespace: gateway-conformance-app-backend",
	} {
		if !contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
