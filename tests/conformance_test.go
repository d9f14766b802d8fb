package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/gatewayapi/conformance"
)

// TestConformance runs every HTTPRoute test of the upstream Gateway API
// conformance suite (release v1.7.0, retold in package conformance)
// through the local process on real sockets. The process starts on
// upstream's base manifests, unchanged (the harness's GatewayClass name
// filled in), with a GatewayClass and the EndpointSlices that point the
// base's Services at echo servers standing for its pods. Each test's
// manifests are then applied through the admin API, its requests sent to
// the local port, its routes' and Gateways' status read back through the
// admin API, and the base restored by a rollback before the next test.
// The tests Sluice cannot run say why.
func TestConformance(t *testing.T) {
	b := conformance.StartBackends(t)
	dir := t.TempDir()
	for name, f := range b.Setup() {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-manifests", dir, "-table-refresh", "50ms")
	c := &adminClient{url: p.url(""), token: adminToken(t, p)}
	const baseVersion = 1 // the manifests the process applied at start
	g := conformance.NewGateway(p.url(""), b)
	for _, tt := range conformance.Tests() {
		t.Run(tt.Name, func(t *testing.T) {
			if tt.NoCounterpart != "" {
				t.Skip("no counterpart: " + tt.NoCounterpart)
			}
			files := tt.Files(b)
			if files == nil {
				files = map[string][]byte{}
			}
			files["probe.yaml"] = probe(tt.Name)
			c.apply(t, files)
			defer c.rollback(t, baseVersion)
			// The gateway has the test's table once the probe route
			// answers with the test's name.
			eventually(t, func() bool {
				resp, _ := g.Do(t, conformance.Case{Host: "probe.sluice.test", Path: "/"})
				return strings.HasPrefix(resp.Header.Get("Location"), "http://"+strings.ToLower(tt.Name)+".probe/")
			})
			if len(tt.Status)+len(tt.Listeners) > 0 {
				objs := c.objects(t)
				for _, m := range []map[string]string{tt.Status, tt.Listeners} {
					for key, want := range m {
						if got := conformance.StatusOf(conformance.Decode(key, objs[key])); got != want {
							t.Errorf("%s: %s, want %s", key, got, want)
						}
					}
				}
			}
			tt.Run(t, g)
			if tt.Admin != nil {
				tt.Admin(t, c)
			}
		})
	}
}

// probe is a Gateway of its own, on a hostname no test uses, whose route
// redirects to a host named for the test: seeing it tells the test's route
// table is in force.
func probe(test string) []byte {
	return fmt.Appendf(nil, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: probe, namespace: sluice-conformance-probe}
spec:
  gatewayClassName: %s
  listeners: [{name: http, protocol: HTTP, port: 80, hostname: probe.sluice.test}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: probe, namespace: sluice-conformance-probe}
spec:
  parentRefs: [{name: probe}]
  rules: [{filters: [{type: RequestRedirect, requestRedirect: {hostname: %s.probe}}]}]
`, conformance.Class, strings.ToLower(test))
}

// adminClient calls the local process's admin API.
type adminClient struct{ url, token string }

func (c *adminClient) do(t *testing.T, method, path string, body, into any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %v %+v", method, path, resp.Status, err, into)
	}
}

// apply applies the files; a refusal fails the test.
func (c *adminClient) apply(t *testing.T, files map[string][]byte) {
	t.Helper()
	req := admin.ApplyRequest{Files: map[string]string{}}
	for name, f := range files {
		req.Files[name] = string(f)
	}
	var resp admin.ApplyResponse
	c.do(t, http.MethodPost, "/admin/v1/apply", req, &resp)
}

// rollback restores the objects of a table version.
func (c *adminClient) rollback(t *testing.T, version int64) {
	t.Helper()
	var resp map[string]any
	c.do(t, http.MethodPost, "/admin/v1/rollback", admin.RollbackRequest{Version: version}, &resp)
}

// Object returns an applied object, decoded.
func (c *adminClient) Object(t *testing.T, key string) any {
	raw, ok := c.objects(t)[key]
	if !ok {
		return nil
	}
	return conformance.Decode(key, raw)
}

// Apply applies files (conformance.Admin).
func (c *adminClient) Apply(t *testing.T, files map[string][]byte) { c.apply(t, files) }

// objects returns the applied objects by Kind/namespace/name.
func (c *adminClient) objects(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	var resp struct{ Items []json.RawMessage }
	c.do(t, http.MethodGet, "/admin/v1/objects", nil, &resp)
	out := map[string]json.RawMessage{}
	for _, raw := range resp.Items {
		var o struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		json.Unmarshal(raw, &o)
		out[o.Kind+"/"+o.Metadata.Namespace+"/"+o.Metadata.Name] = raw
	}
	return out
}
