// Package conformance is the HTTPRoute part of the upstream Gateway API
// conformance suite (kubernetes-sigs/gateway-api, release v1.7.0) retold
// for Sluice, for tests to run: upstream's base manifests unchanged
// (testdata/upstream), one manifest per upstream test (testdata/tests,
// named for it), the requests each test sends with what must come of them,
// and the status it expects. Three runners share it: shared/gatewayapi
// compiles the manifests and checks status and matching, shared/gateway
// serves them through the gateway handler, and tests/ through the local
// process on real sockets.
//
// Where Sluice differs from a Kubernetes implementation, a test's manifest
// says so: every Gateway and listener is served from one front door (the
// local port, or API Gateway), so tests that tell listeners apart by port
// tell them apart by hostname; TLS ends at the front door.
package conformance

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The namespaces of upstream's base manifests, and the GatewayClass name the
// runners give `{GATEWAY_CLASS_NAME}`.
const (
	Infra      = "gateway-conformance-infra"
	AppBackend = "gateway-conformance-app-backend"
	WebBackend = "gateway-conformance-web-backend"
	Class      = "sluice"
	// Release is the upstream release the tests retell.
	Release = "v1.7.0"
)

//go:embed testdata/upstream/manifests.yaml
var upstreamBase []byte

//go:embed testdata/tests/*.yaml
var retold embed.FS

// UpstreamBase returns upstream's conformance/base/manifests.yaml as it
// ships.
func UpstreamBase() []byte { return bytes.Clone(upstreamBase) }

// Base returns the base manifests as upstream's harness applies them, with
// its one substitution: `{GATEWAY_CLASS_NAME}` becomes class.
func Base(class string) []byte {
	return bytes.ReplaceAll(upstreamBase, []byte("{GATEWAY_CLASS_NAME}"), []byte(class))
}

// GatewayClass is the manifest of a GatewayClass of Sluice's controller.
func GatewayClass(class string) []byte {
	return fmt.Appendf(nil, "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: %s}\nspec: {controllerName: sluice.dev/gateway-controller}\n", class)
}

// Setup returns, by file name, what every test runs on: the GatewayClass,
// the base manifests, and EndpointSlices pointing the base's Services at
// the pods b stands up for its Deployments.
func (b *Backends) Setup() map[string][]byte {
	base := Base(Class)
	return map[string][]byte{
		"gatewayclass.yaml":        GatewayClass(Class),
		"base/manifests.yaml":      base,
		"base/endpointslices.yaml": b.endpointSlices(base, base),
	}
}

// Files returns the test's own manifest, rendered, with the EndpointSlices
// for the Services it adds, by file name; none for a test that runs on the
// base alone.
func (tt *Test) Files(b *Backends) map[string][]byte {
	if tt.Manifest == "" {
		return nil
	}
	raw, err := retold.ReadFile("testdata/tests/" + tt.Manifest)
	if err != nil {
		panic(fmt.Sprintf("conformance: %s: %v", tt.Name, err))
	}
	m := b.render(raw, Class)
	files := map[string][]byte{"tests/" + tt.Manifest: m}
	if slices := b.endpointSlices(m, Base(Class), m); len(slices) > 0 {
		files["tests/"+strings.TrimSuffix(tt.Manifest, ".yaml")+"-endpointslices.yaml"] = slices
	}
	return files
}

// Test is one upstream conformance test retold.
type Test struct {
	// Name is the upstream test's ShortName.
	Name string
	// Manifest is the test's file in testdata/tests; "" when it runs on the
	// base manifests alone.
	Manifest string
	// Cases are the requests the test sends, in order.
	Cases []Case
	// Status maps "HTTPRoute/namespace/name" or "ListenerSet/namespace/name"
	// to the object's status, as StatusOf writes it.
	Status map[string]string
	// Listeners maps "Gateway/namespace/name" to "listener=attachedRoutes
	// ...", as ListenerCounts writes them.
	Listeners map[string]string
	// Check, when set, checks what requests and answers alone cannot
	// (traffic shares, a WebSocket, mirrors sent in the background).
	Check func(t *testing.T, g *Gateway)
	// Admin, when set, checks what takes applying more manifests and
	// reading objects back; only a runner with an admin API runs it.
	Admin func(t *testing.T, a Admin)
	// NoCounterpart says why the test cannot run against Sluice.
	NoCounterpart string
	// Note says how the retelling differs from upstream, when it does.
	Note string
	// Own marks a test of Sluice's own, not upstream's.
	Own bool
}

// Admin is what a runner with an admin API lends a test.
type Admin interface {
	// Apply applies more manifests, by file name.
	Apply(t *testing.T, files map[string][]byte)
	// Object returns an applied object, decoded as Decode does; nil when
	// it is not applied.
	Object(t *testing.T, key string) any
}

// Case is one request and what must come of it. Zero fields are not
// checked.
type Case struct {
	Method, Host, Path string
	Header             map[string]string
	// SetResponse asks the echo to add these headers to its answer.
	SetResponse map[string]string
	// UUID adds uuid=<fresh> to the query, so the echo's retry simulation
	// counts this request's attempts on their own.
	UUID bool
	// H2C sends the request over HTTP/2 with prior knowledge.
	H2C bool

	Status  int    // 0: 200
	Backend string // the Deployment whose pod answered: name in gateway-conformance-infra, else namespace/name
	// Service is the Service the route table sends the request to, when
	// its name is not the Backend's (compile-only checks use it).
	Service  string
	Location string // of a redirect
	// What the backend saw: its path, Host and protocol, headers (values
	// joined by ","), and headers it must not see.
	ReqPath, ReqHost, ReqProto string
	ReqHeader                  map[string]string
	ReqAbsent                  []string
	// What the client saw.
	RespHeader map[string]string
	RespAbsent []string
	// MirroredTo are the Deployments that must get a copy of the request.
	MirroredTo []string
}

func (c Case) String() string {
	m := c.Method
	if m == "" {
		m = "GET"
	}
	s := m + " " + c.Host + c.Path
	if c.H2C {
		s = "h2c " + s
	}
	for _, k := range sortedKeys(c.Header) {
		s += " " + k + ":" + c.Header[k]
	}
	return s
}

// Routing is what the route table alone decides for the case: a backend's
// Service as Case.Backend names Deployments ("name" or "namespace/name"),
// "404" for no route, "500" for no valid backend, "redirect"; "" when it
// takes more than matching to tell (timeouts, retries, CORS preflights).
func (c Case) Routing() string {
	switch {
	case c.UUID, c.Method == http.MethodOptions:
		return "" // the backend's answer, or a preflight's
	case c.Location != "":
		return "redirect"
	case c.Status == http.StatusNotFound || c.Status == http.StatusInternalServerError:
		return fmt.Sprint(c.Status)
	case c.Status != 0 && c.Status != http.StatusOK:
		return ""
	case c.Service != "":
		return c.Service
	}
	return c.Backend
}

// RouteConditions writes a route's conditions, parent after parent, as
// "Type=Status/Reason"; another controller's carry its name and their
// message.
func RouteConditions(r *gwv1.HTTPRoute) string {
	if r == nil {
		return "(no such route)"
	}
	var out []string
	for _, p := range r.Status.Parents {
		for _, c := range p.Conditions {
			s := c.Type + "=" + string(c.Status) + "/" + c.Reason
			if p.ControllerName != "sluice.dev/gateway-controller" {
				s = string(p.ControllerName) + ":" + s + ":" + c.Message
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// ListenerCounts writes a Gateway's listeners as "name=attachedRoutes",
// each followed by its conditions in parentheses when they are not all
// well, and "listenerSets=N" when ListenerSets are attached.
func ListenerCounts(g *gwv1.Gateway) string {
	if g == nil {
		return "(no such gateway)"
	}
	var out []string
	for _, l := range g.Status.Listeners {
		out = append(out, listener(string(l.Name), l.AttachedRoutes, l.Conditions))
	}
	if n := g.Status.AttachedListenerSets; n != nil && *n > 0 {
		out = append(out, fmt.Sprintf("listenerSets=%d", *n))
	}
	return strings.Join(out, " ")
}

// ListenerSetStatus writes a ListenerSet's conditions as "Type=Status/Reason"
// and its listeners as ListenerCounts does.
func ListenerSetStatus(ls *gwv1.ListenerSet) string {
	if ls == nil {
		return "(no such listener set)"
	}
	var out []string
	for _, c := range ls.Status.Conditions {
		out = append(out, c.Type+"="+string(c.Status)+"/"+c.Reason)
	}
	for _, l := range ls.Status.Listeners {
		out = append(out, listener(string(l.Name), l.AttachedRoutes, l.Conditions))
	}
	return strings.Join(out, " ")
}

func listener(name string, attached int32, conds []metav1.Condition) string {
	s := fmt.Sprintf("%s=%d", name, attached)
	var amiss []string
	for _, c := range conds {
		if (c.Status == metav1.ConditionTrue) != (c.Type != "Conflicted") {
			amiss = append(amiss, c.Type+"="+string(c.Status)+"/"+c.Reason)
		}
	}
	if len(amiss) > 0 {
		s += "(" + strings.Join(amiss, " ") + ")"
	}
	return s
}

// StatusOf writes the status of an HTTPRoute, a Gateway or a ListenerSet
// as RouteConditions, ListenerCounts or ListenerSetStatus do.
func StatusOf(v any) string {
	switch o := v.(type) {
	case *gwv1.HTTPRoute:
		return RouteConditions(o)
	case *gwv1.Gateway:
		return ListenerCounts(o)
	case *gwv1.ListenerSet:
		return ListenerSetStatus(o)
	}
	return "(no such object)"
}

// Decode decodes an object stored as JSON for StatusOf, by the kind its
// key ("Kind/namespace/name") starts with.
func Decode(key string, raw []byte) any {
	var v any
	switch {
	case strings.HasPrefix(key, "HTTPRoute/"):
		v = new(gwv1.HTTPRoute)
	case strings.HasPrefix(key, "Gateway/"):
		v = new(gwv1.Gateway)
	case strings.HasPrefix(key, "ListenerSet/"):
		v = new(gwv1.ListenerSet)
	default:
		return nil
	}
	if json.Unmarshal(raw, v) != nil {
		return nil
	}
	return v
}
