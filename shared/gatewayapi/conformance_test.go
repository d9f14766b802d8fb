package gatewayapi

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/gatewayapi/conformance"
	"github.com/sluicegw/sluice/shared/route"
)

// TestConformance compiles each retold upstream HTTPRoute conformance test
// (package conformance) on upstream's base manifests, unchanged, and checks
// what compiling alone decides: no refusal, the status of the routes and
// the Gateways' listeners, and where the route table sends each request
// (a Service, 404, 500 or a redirect). Filters, timeouts, retries and
// protocols are checked through the gateway in shared/gateway and through
// the local process in tests/.
func TestConformance(t *testing.T) {
	b := conformance.FakeBackends()
	for _, tt := range conformance.Tests() {
		if tt.NoCounterpart != "" {
			continue // tests/ says why
		}
		t.Run(tt.Name, func(t *testing.T) {
			files := b.Setup()
			for name, f := range tt.Files(b) {
				files[name] = f
			}
			objs, probs := Validate(files)
			for _, p := range probs {
				if p.Level == Refused {
					t.Errorf("refused: %s", p)
				}
			}
			tab, err := Compile(objs, 1, time.Unix(0, 0), createdAt)
			if err != nil {
				t.Fatal(err)
			}
			SetStatus(objs, time.Unix(0, 0))
			idx := index(objs)
			for _, m := range []map[string]string{tt.Status, tt.Listeners} {
				for key, want := range m {
					if got := conformance.StatusOf(valueOf(idx[key])); got != want {
						t.Errorf("%s: %s, want %s", key, got, want)
					}
				}
			}
			for _, c := range tt.Cases {
				if want := c.Routing(); want != "" {
					if got := routing(tab, c); got != want {
						t.Errorf("%s: got %s, want %s", c, got, want)
					}
				}
			}
		})
	}
}

// routing matches c against the table as the gateway does and says what
// the request would get, as Case.Routing says it.
func routing(tab *route.Table, c conformance.Case) string {
	method := c.Method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, "http://gateway.test"+c.Path, nil)
	for k, v := range c.Header {
		r.Header.Set(k, v)
	}
	host := c.Host
	if host == "" {
		host = "gateway.test"
	}
	host, _, _ = strings.Cut(host, ":") // the gateway drops the port before matching
	rule, _ := tab.Match(r, host)
	switch {
	case rule == nil:
		return "404"
	case rule.Filters.Redirect != nil:
		return "redirect"
	case len(rule.Backends) == 0:
		return "500"
	}
	if b := rule.Backends[0].Backend; b >= 0 {
		if rd := rule.Backends[0].Filters.Redirect; rd != nil {
			return "redirect"
		}
		return serviceName(tab.Backends[b].Name)
	}
	return "500"
}

// serviceName turns "Service/gateway-conformance-infra/name:8080" into
// "name", and other namespaces' Services into "namespace/name".
func serviceName(backend string) string {
	s := strings.TrimPrefix(backend, "Service/")
	s, _, _ = strings.Cut(s, ":")
	return strings.TrimPrefix(s, conformance.Infra+"/")
}

// createdAt is a route's metadata.creationTimestamp, or the epoch.
func createdAt(o *Object) time.Time {
	if r, ok := o.Value.(*gwv1.HTTPRoute); ok && !r.CreationTimestamp.IsZero() {
		return r.CreationTimestamp.Time
	}
	return time.Unix(0, 0)
}

// TestUpstreamBase: upstream's base manifests load as they ship, with the
// harness's placeholder for the GatewayClass: nothing is refused, and the
// Gateways wait for their class. With the class named, every Gateway is
// accepted, the HTTPS listeners too (TLS ends at the front door), and the
// selector listener takes routes from the namespaces labelled for it.
func TestUpstreamBase(t *testing.T) {
	objs, probs := Validate(map[string][]byte{"manifests.yaml": conformance.UpstreamBase()})
	notes := 0
	for _, p := range probs {
		switch p.Level {
		case Refused:
			t.Errorf("refused: %s", p)
		case Condition:
			t.Errorf("condition: %s", p)
		case Notice:
			notes++
		}
	}
	if want := 4 + 14; notes != want { // 4 Gateways without their class, 14 Deployments
		t.Errorf("%d notes, want %d", notes, want)
	}
	if len(objs) != 35 {
		t.Errorf("%d objects, want all 35", len(objs))
	}

	files := conformance.FakeBackends().Setup()
	objs, probs = Validate(files)
	for _, p := range probs {
		if p.Level != Notice {
			t.Errorf("%s", p.Printed())
		}
	}
	SetStatus(objs, time.Unix(0, 0))
	for _, o := range objs {
		g, ok := o.Value.(*gwv1.Gateway)
		if !ok {
			continue
		}
		if c := g.Status.Conditions; len(c) == 0 || c[0].Status != "True" {
			t.Errorf("%s: %v", o.Key(), c)
		}
		for _, l := range g.Status.Listeners {
			if l.Conditions[0].Status != "True" {
				t.Errorf("%s listener %s: %v", o.Key(), l.Name, l.Conditions[0])
			}
		}
	}
}
