package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGatewayAPIEndToEnd applies a multi-team set of manifests with the CLI
// through the admin API into DynamoDB Local, sends real HTTP through the
// local gateway to echo backends, and checks status, delete and rollback.
func TestGatewayAPIEndToEnd(t *testing.T) {
	echoA, echoB := echoBackend(t, "a"), echoBackend(t, "b")
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("platform.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: platform}
spec:
  gatewayClassName: sluice
  listeners:
  - {name: web, protocol: HTTP, port: 80, hostname: "*.example.test", allowedRoutes: {namespaces: {from: All}}}
`)
	write("team-a.yaml", fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: shop, namespace: team-a}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: shop-1, namespace: team-a, labels: {kubernetes.io/service-name: shop}}
addressType: IPv4
ports: [{name: http, port: %s}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: team-a}
spec:
  parentRefs: [{name: edge, namespace: platform}]
  hostnames: [shop.example.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-team, value: a}]}
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    backendRefs: [{name: shop, port: 80}]
  - matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /new}, statusCode: 301}
`, portOf(echoA.URL)))
	write("team-b.yaml", fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: blog, namespace: team-b}
spec: {type: ExternalName, externalName: 127.0.0.1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: blog, namespace: team-b}
spec:
  parentRefs: [{name: edge, namespace: platform}]
  hostnames: [blog.example.test]
  rules:
  - backendRefs: [{name: blog, port: %s}]
  - matches: [{path: {type: PathPrefix, value: /shop}}]
    backendRefs: [{name: shop, namespace: team-a, port: 80}]
`, portOf(echoB.URL)))

	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-manifests", "", "-table-refresh", "100ms")
	cli := build(t, "cmd/sluice")
	sluice := func(args ...string) (string, error) {
		cmd := exec.Command(cli, append(args, "--endpoint", p.url(""), "--admin-token", adminToken(t, p))...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := sluice("apply", "-f", dir)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !strings.Contains(out, "RefNotPermitted") || !strings.Contains(out, "route table version 1 stored") ||
		!strings.Contains(out, " created\n") || strings.Contains(out, " unchanged\n") {
		t.Fatalf("apply output:\n%s", out)
	}
	// The same manifests again change nothing: no new version.
	if out, err := sluice("apply", "-f", dir); err != nil || !strings.Contains(out, "nothing changed; route table version 1 stays current") ||
		!strings.Contains(out, " unchanged\n") || strings.Contains(out, " created\n") {
		t.Fatalf("apply again: %v\n%s", err, out)
	}

	get := func(host, path string) (int, echoed, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", p.url(path), nil)
		req.Host = host
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e echoed
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e, resp.Header
	}
	eventually(t, func() bool { s, _, _ := get("shop.example.test", "/api/items"); return s == 200 })

	if s, e, _ := get("shop.example.test:8080", "/api/items?x=1"); s != 200 || e.Backend != "a" || e.Path != "/v2/items" || e.Header.Get("X-Team") != "a" || e.Host != "shop.example.test:8080" {
		t.Errorf("shop: %d %+v", s, e)
	}
	if s, _, h := get("shop.example.test", "/old"); s != 301 || h.Get("Location") != "http://shop.example.test/new" {
		t.Errorf("redirect: %d %v", s, h.Get("Location"))
	}
	if s, e, _ := get("blog.example.test", "/post/1"); s != 200 || e.Backend != "b" || e.Path != "/post/1" {
		t.Errorf("blog: %d %+v", s, e)
	}
	if s, _, _ := get("blog.example.test", "/shop/x"); s != 500 {
		t.Errorf("cross-namespace ref without a grant: %d, want 500", s)
	}
	if s, _, _ := get("other.example.test", "/"); s != 404 {
		t.Errorf("no route: %d, want 404", s)
	}
	if s, _, _ := get("shop.example.test", "/"); s != 404 {
		t.Errorf("unmatched path: %d, want 404", s)
	}

	out, err = sluice("get", "HTTPRoute")
	if err != nil || !regexpMatch(`HTTPRoute\s+team-b\s+blog\s+edge:Accepted edge:ResolvedRefs=False\(RefNotPermitted\)`, out) ||
		!regexpMatch(`HTTPRoute\s+team-a\s+shop\s+edge:Accepted edge:ResolvedRefs\n`, out) {
		t.Fatalf("get:\n%s %v", out, err)
	}

	// A ReferenceGrant fixes the cross-namespace ref.
	write("grant.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: blog-to-shop, namespace: team-a}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-b}]
  to: [{group: "", kind: Service, name: shop}]
`)
	if out, err := sluice("apply", "-f", filepath.Join(dir, "grant.yaml")); err != nil ||
		!strings.Contains(out, "ReferenceGrant/team-a/blog-to-shop created\n1 created; route table version 2 stored\n") {
		t.Fatalf("apply grant: %v\n%s", err, out)
	}
	eventually(t, func() bool { s, e, _ := get("blog.example.test", "/shop/x"); return s == 200 && e.Backend == "a" })

	// Delete the blog route, then roll back to bring it back.
	if out, err := sluice("delete", "HTTPRoute", "blog", "-n", "team-b"); err != nil || !strings.Contains(out, "version 3") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	eventually(t, func() bool { s, _, _ := get("blog.example.test", "/post/1"); return s == 404 })
	if out, err := sluice("rollback"); err != nil || !strings.Contains(out, "restored route table version 2 as version 4") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	eventually(t, func() bool { s, e, _ := get("blog.example.test", "/post/1"); return s == 200 && e.Backend == "b" })

	// Invalid manifests are refused with file, line, object and field.
	write("bad.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: bad, namespace: team-a}\nspec:\n  rules:\n  - matches: [{path: {type: RegularExpression, value: \"(\"}}]\n")
	out, err = sluice("apply", "-f", filepath.Join(dir, "bad.yaml"))
	if err == nil || !strings.Contains(out, "bad.yaml:6: HTTPRoute/team-a/bad: spec.rules[0].matches[0].path.value: invalid regular expression") {
		t.Fatalf("bad apply: %v\n%s", err, out)
	}
}

type echoed struct {
	Backend string
	Path    string
	Host    string
	Header  http.Header
}

func echoBackend(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echoed{name, r.URL.Path, r.Host, r.Header})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func portOf(u string) string { return u[strings.LastIndexByte(u, ':')+1:] }

func adminToken(t *testing.T, p *localProc) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dataDir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// eventually polls cond until it holds; route tables reach gateways within
// the refresh bound, not at once.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
