package tests

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/gatewayapi/conformance"
)

// runCLI runs the sluice CLI and returns its output and exit code.
func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(build(t, "cmd/sluice"), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("sluice %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// TestValidateUpstreamBase: `sluice validate` takes upstream's conformance
// base manifests as they ship: nothing refused, no condition, a note for
// each object it keeps without serving.
func TestValidateUpstreamBase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifests.yaml"), conformance.UpstreamBase(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		args := []string{"validate", "-f", dir}
		if strict {
			args = append(args, "--strict")
		}
		out, code := runCLI(t, nil, args...)
		if code != 0 || !strings.HasSuffix(out, "1 files valid, with 0 conditions and 18 notes\n") ||
			!strings.Contains(out, `note: `+filepath.Join(dir, "manifests.yaml")+`:22: Gateway/gateway-conformance-infra/same-namespace: spec.gatewayClassName: GatewayClass {GATEWAY_CLASS_NAME} is not among the files given`) {
			t.Fatalf("strict=%v: exit %d\n%s", strict, code, out)
		}
	}
}

// TestValidateAndApplyAgree: `sluice validate` and `sluice apply --dry-run`
// print the same refusals, conditions and notes for the same files, and
// judge them the same way; validate says when a parent is not among the
// files given, and apply judges it against what is applied. The local
// process prints the conditions of the manifests it loads, and `sluice
// get` shows a listener Sluice does not serve.
func TestValidateAndApplyAgree(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	gw := write("gateway.yaml", `apiVersion: gateway.networking.k8s.io/v1
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
  - {name: web, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}
  - {name: mqtt, protocol: TCP, port: 1883}
`)
	route := write("route.yaml", `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: team-a}
spec:
  parentRefs: [{name: edge, namespace: platform}]
  rules:
  - backendRefs: [{name: shop, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: team-a}
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: team-a}
spec:
  selector: {matchLabels: {app: shop}}
  template: {metadata: {labels: {app: shop}}, spec: {containers: [{name: shop, image: shop}]}}
`)
	dataDir := t.TempDir()
	p := startLocal(t, dataDir, "-dynamodb", env.DynamoDB(t), "-manifests", dir)
	env := []string{"SLUICE_ENDPOINT=" + p.url(""), "SLUICE_ADMIN_TOKEN=" + adminToken(t, p)}
	// lines keeps the refusals, conditions and notes, in the words apply
	// uses: where validate says an object is not among the files given,
	// apply, which sees the applied set, says it is not found.
	offline := strings.NewReplacer(" is not among the files given (where they are applied, it may exist)", " not found",
		"no EndpointSlice among the files given", "no EndpointSlice")
	lines := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, dir) || strings.HasPrefix(l, "condition: ") || strings.HasPrefix(l, "note: ") {
				keep = append(keep, offline.Replace(l))
			}
		}
		return strings.Join(keep, "\n")
	}

	validated, vcode := runCLI(t, env, "validate", "-f", dir)
	applied, acode := runCLI(t, env, "apply", "--dry-run", "-f", dir)
	if vcode != 0 || acode != 0 || lines(validated) != lines(applied) ||
		!strings.Contains(validated, "condition: "+gw+":13: Gateway/platform/edge: spec.listeners[1]: UnsupportedProtocol") ||
		!strings.Contains(validated, "condition: "+route+":7: HTTPRoute/team-a/shop: spec.rules[0].backendRefs[0].name: BackendNotFound") ||
		!strings.Contains(validated, "note: "+route+":16: Deployment/team-a/shop: kept as written, not served") {
		t.Fatalf("validate (exit %d):\n%s\napply --dry-run (exit %d):\n%s", vcode, validated, acode, applied)
	}
	if out, code := runCLI(t, env, "validate", "--strict", "-f", dir); code != 1 {
		t.Errorf("validate --strict with conditions: exit %d\n%s", code, out)
	}

	// A lone route file: validate says its Gateway is not among the files;
	// apply judges it against the applied set, where the Gateway is.
	out, code := runCLI(t, env, "validate", "-f", route)
	if code != 0 || !strings.Contains(out, "NoMatchingParent: Gateway platform/edge is not among the files given") {
		t.Errorf("validate route.yaml: exit %d\n%s", code, out)
	}
	out, code = runCLI(t, env, "apply", "--dry-run", "-f", route)
	if code != 0 || strings.Contains(out, "NoMatchingParent") || !strings.Contains(out, "BackendNotFound") {
		t.Errorf("apply --dry-run route.yaml: exit %d\n%s", code, out)
	}

	// What Kubernetes would refuse, both refuse, in the same words.
	bad := write("bad.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: bad, namespace: team-a}\nspec:\n  parentRef: []\n")
	validated, vcode = runCLI(t, env, "validate", "-f", dir)
	applied, acode = runCLI(t, env, "apply", "--dry-run", "-f", dir)
	if vcode != 1 || acode != 1 || lines(validated) != lines(applied) || !strings.Contains(validated, bad+":5: HTTPRoute/team-a/bad: spec.parentRef: unknown field") {
		t.Fatalf("validate (exit %d):\n%s\napply --dry-run (exit %d):\n%s", vcode, validated, acode, applied)
	}
	os.Remove(bad)

	out, code = runCLI(t, env, "get", "Gateway")
	if code != 0 || !regexpMatch(`Gateway\s+platform\s+edge\s+Accepted=True\(ListenersNotValid\) Programmed mqtt:Accepted=False\(UnsupportedProtocol\) mqtt:Programmed=False\(UnsupportedProtocol\)`, out) {
		t.Errorf("get Gateway: exit %d\n%s", code, out)
	}
	out, _ = runCLI(t, env, "get", "Deployment")
	if !regexpMatch(`Deployment\s+team-a\s+shop\s+\(kept, not served\)`, out) {
		t.Errorf("get Deployment:\n%s", out)
	}

	p.stop(t)
	if log := p.out.String(); !strings.Contains(log, "condition: "+route+":7: HTTPRoute/team-a/shop: spec.rules[0].backendRefs[0].name: BackendNotFound") {
		t.Errorf("the local process did not print the condition:\n%s", log)
	}
}

// TestValidateAccessLogPolicy: `sluice validate` prints an AccessLogPolicy's
// problems by file and line, a redaction pattern that is not RE2 among
// them, and fails.
func TestValidateAccessLogPolicy(t *testing.T) {
	dir := t.TempDir()
	const manifest = `apiVersion: sluice.dev/v1alpha1
kind: AccessLogPolicy
metadata: {name: bodies, namespace: ai}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  prompt: true
  maxLength: -1
  redaction:
    disableBuiltins: [phone]
    patterns:
    - {name: ticket, regex: 'TICKET-(\d+'}
`
	if err := os.WriteFile(filepath.Join(dir, "log.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runCLI(t, nil, "validate", "-f", dir)
	if code == 0 {
		t.Fatalf("validate passed:\n%s", out)
	}
	for _, want := range []string{
		"log.yaml:7: AccessLogPolicy/ai/bodies: spec.maxLength: must be between 1 and 65536 bytes, got -1",
		`log.yaml:9: AccessLogPolicy/ai/bodies: spec.redaction.disableBuiltins[0]: must be one of apiKey, bearerToken, email, cardNumber, got "phone"`,
		"log.yaml:11: AccessLogPolicy/ai/bodies: spec.redaction.patterns[0].regex: not a valid RE2 expression: error parsing regexp: missing closing ): `TICKET-(\\d+`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
