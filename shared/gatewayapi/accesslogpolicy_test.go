package gatewayapi

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// accessLogManifests reuses policyManifests' Gateway and routes: the
// Gateway logs bodies, the route "own" turns that off with its own policy.
var accessLogManifests = policyManifests[:strings.Index(policyManifests, "---\napiVersion: sluice.dev/v1alpha1\nkind: TokenLimitPolicy")] + `---
apiVersion: sluice.dev/v1alpha1
kind: AccessLogPolicy
metadata: {name: gateway-wide, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  prompt: true
  answer: true
  maxLength: 100
  redaction:
    disableBuiltins: [email]
    patterns: [{name: ticket, regex: 'TICKET-\d+'}]
---
apiVersion: sluice.dev/v1alpha1
kind: AccessLogPolicy
metadata: {name: route-quiet, namespace: ai, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: own}]
---
apiVersion: sluice.dev/v1alpha1
kind: AccessLogPolicy
metadata: {name: route-new, namespace: ai, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: own}]
  prompt: true
`

func TestAccessLogPolicyAttachment(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"p.yaml": []byte(accessLogManifests)})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Prepare(); err != nil {
		t.Fatal(err)
	}
	own, _ := tab.Match(httptest.NewRequest("POST", "/own", nil), "localhost")
	if own.AccessLog != nil {
		t.Fatalf("the route's own policy logs nothing, so the route logs no bodies; got %+v", own.AccessLog)
	}
	inh, _ := tab.Match(httptest.NewRequest("POST", "/inherits", nil), "localhost")
	a := inh.AccessLog
	if a == nil || a.Policy != "ai/gateway-wide" || !a.Prompt || !a.Answer || a.MaxBytes != 100 {
		t.Fatalf("the Gateway's policy compiled to %+v", a)
	}
	got := a.Redactor().Redact("TICKET-42 from jane@example.com, key sk-abcdefghijklmnopqrstu")
	if want := "[REDACTED:ticket] from jane@example.com, key [REDACTED:apiKey]"; got != want {
		t.Errorf("redacted %q, want %q", got, want)
	}
	SetStatus(objs, time.Unix(0, 0))
	for _, o := range objs {
		p, ok := o.Value.(*AccessLogPolicy)
		if !ok {
			continue
		}
		want := map[string]string{"gateway-wide": "Accepted", "route-quiet": "Accepted", "route-new": "Conflicted"}[o.Name]
		if got := p.Status.Ancestors[0].Conditions[0].Reason; got != want {
			t.Errorf("%s: %s, want %s", o.Name, got, want)
		}
	}
}

func TestNoAccessLogPolicyNoBodies(t *testing.T) {
	objs, _ := Validate(map[string][]byte{"p.yaml": []byte(policyManifests)})
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rules {
		if r.AccessLog != nil {
			t.Errorf("rule of %s logs bodies without a policy", r.Route)
		}
	}
}
