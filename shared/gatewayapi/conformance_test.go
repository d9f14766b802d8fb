package gatewayapi

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/route"
)

// The HTTPRoute tests of the upstream conformance suite
// (kubernetes-sigs/gateway-api conformance/tests, release 1.7), retold as
// manifests compiled by Sluice and matched by its route table: each file in
// testdata/conformance is named for the upstream test it mirrors and is
// loaded with _base.yaml. The cases send the same requests and expect the
// same backend, 404 or 500, and the same route status. Filters (redirects,
// rewrites, header modifiers, mirrors, CORS, timeouts) are checked through
// the gateway handler in shared/gateway's conformance test.
//
// Where Sluice differs on purpose, the manifest says so: listener ports are
// recorded, not bound (HTTPRouteListenerPortMatching), every Gateway is
// served from one front door (HTTPRouteMultipleGateways), and listeners
// cannot select namespaces by label (HTTPRouteCrossNamespace). TLS is
// terminated by the front door (API Gateway, or nothing locally), so
// HTTPRouteHTTPSListener and HTTPRouteHTTPSListenerDetectMisdirectedRequests
// have no counterpart; neither do HTTPRouteBackendProtocolH2C (backends are
// spoken to over HTTP/1.1 or TLS), HTTPRouteRetry, HTTPRouteRetryConnectionError
// and HTTPRouteRetryWith*Timeout (Sluice refuses a rule's retry field: see
// TestV17Refusals) and HTTPRouteObservedGenerationBump (there is no API
// server bumping generations). Routes whose manifest sets
// metadata.creationTimestamp are that old here; the others tie at the epoch.

// confCase is one request and what it should get: a backend as
// namespace/name (the namespace left out for infra), "404" for no route,
// "500" for a rule without a valid backend, "redirect" for a redirect, or
// for several refs each as name*weight.
type confCase struct {
	host, method, path string
	headers            map[string]string
	want               string
}

func (c confCase) String() string {
	s := c.method + " " + c.host + c.path
	if len(c.headers) > 0 {
		var hs []string
		for k, v := range c.headers {
			hs = append(hs, k+":"+v)
		}
		sort.Strings(hs)
		s += " " + strings.Join(hs, ",")
	}
	return strings.TrimSpace(s)
}

type confTest struct {
	cases []confCase
	// status maps HTTPRoute/ns/name to its conditions, one parent after
	// another: "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs".
	status map[string]string
	// listeners maps Gateway/ns/name to "listener=attachedRoutes ...".
	listeners map[string]string
	// backends maps a backend name to its endpoints, comma-separated.
	backends map[string]string
}

const (
	accepted    = "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"
	refNotOK    = "Accepted=True/Accepted ResolvedRefs=False/"
	notAccepted = "Accepted=False/"
)

var conformance = map[string]confTest{
	"HTTPRouteSimpleSameNamespace": {
		status: map[string]string{"HTTPRoute/infra/simple": accepted},
		cases:  []confCase{{path: "/", want: "infra-backend-v1"}},
	},
	"HTTPRouteMatching": {cases: []confCase{
		{path: "/", want: "infra-backend-v1"},
		{path: "/example", want: "infra-backend-v1"},
		{path: "/", headers: map[string]string{"Version": "one"}, want: "infra-backend-v1"},
		{path: "/v2", want: "infra-backend-v2"},
		{path: "/v2/example", want: "infra-backend-v2"},
		{path: "/", headers: map[string]string{"Version": "two"}, want: "infra-backend-v2"},
		{path: "/v2/", want: "infra-backend-v2"},
		{path: "/v2example", want: "infra-backend-v1"}, // not a segment of /v2
		{path: "/foo/v2/example", want: "infra-backend-v1"},
	}},
	"HTTPRouteMatchingAcrossRoutes": {cases: []confCase{
		{host: "example.com", path: "/", want: "infra-backend-v1"},
		{host: "example.com", path: "/example", want: "infra-backend-v1"},
		{host: "example.net", path: "/example", want: "infra-backend-v1"},
		{host: "example.com", path: "/example", headers: map[string]string{"Version": "one"}, want: "infra-backend-v1"},
		{host: "example.com", path: "/v2", want: "infra-backend-v2"},
		{host: "example.net", path: "/v2", want: "infra-backend-v1"}, // the /v2 route is on example.com only
		{host: "example.com", path: "/v2/example", want: "infra-backend-v2"},
		{host: "example.com", path: "/", headers: map[string]string{"Version": "two"}, want: "infra-backend-v2"},
	}},
	"HTTPRoutePathMatchOrder": {cases: []confCase{
		{path: "/match/exact/one", want: "infra-backend-v3"},
		{path: "/match/exact", want: "infra-backend-v2"},
		{path: "/match", want: "infra-backend-v1"},
		{path: "/match/prefix/one/any", want: "infra-backend-v2"},
		{path: "/match/prefix/any", want: "infra-backend-v1"},
		{path: "/match/any", want: "infra-backend-v3"},
	}},
	"HTTPRouteExactPathMatching": {cases: []confCase{
		{path: "/one", want: "infra-backend-v1"},
		{path: "/two", want: "infra-backend-v2"},
		{path: "/", want: "404"},
		{path: "/one/example", want: "404"},
		{path: "/two/", want: "404"},
		{path: "/Two", want: "404"},
	}},
	"HTTPRouteHeaderMatching": {cases: []confCase{
		{path: "/", headers: map[string]string{"Version": "one"}, want: "infra-backend-v1"},
		{path: "/", headers: map[string]string{"Version": "two"}, want: "infra-backend-v2"},
		{path: "/", headers: map[string]string{"Version": "two", "Color": "orange"}, want: "infra-backend-v1"},
		{path: "/", headers: map[string]string{"Version": "two", "Color": "blue"}, want: "infra-backend-v2"},
		{path: "/", headers: map[string]string{"Color": "orange"}, want: "404"},
		{path: "/", headers: map[string]string{"Some-Other-Header": "one"}, want: "404"},
		{path: "/", headers: map[string]string{"Color": "blue"}, want: "infra-backend-v1"},
		{path: "/", headers: map[string]string{"Color": "green"}, want: "infra-backend-v1"},
		{path: "/", headers: map[string]string{"Color": "red"}, want: "infra-backend-v2"},
		{path: "/", headers: map[string]string{"Color": "yellow"}, want: "infra-backend-v2"},
		{path: "/", headers: map[string]string{"Color": "purple"}, want: "404"},
		{path: "/", headers: map[string]string{"color": "blue"}, want: "infra-backend-v1"}, // names are case-insensitive
		{path: "/", headers: map[string]string{"Color": "Blue"}, want: "404"},              // values are not
	}},
	"HTTPRouteMethodMatching": {cases: []confCase{
		{method: "POST", path: "/", want: "infra-backend-v1"},
		{method: "GET", path: "/", want: "infra-backend-v2"},
		{method: "HEAD", path: "/", want: "404"},
		// with other matches
		{method: "GET", path: "/path1", want: "infra-backend-v1"},
		{method: "PUT", path: "/", headers: map[string]string{"version": "one"}, want: "infra-backend-v2"},
		{method: "POST", path: "/path2", headers: map[string]string{"version": "two"}, want: "infra-backend-v3"},
		// ORed matches: either one
		{method: "PATCH", path: "/path3", want: "infra-backend-v1"},
		{method: "DELETE", path: "/path4", headers: map[string]string{"version": "three"}, want: "infra-backend-v1"},
		// ANDed parts: all of them
		{method: "PUT", path: "/", want: "404"},
		{method: "DELETE", path: "/path4", want: "404"},
		// precedence: path over method over headers
		{method: "PATCH", path: "/path5", want: "infra-backend-v1"},
		{method: "PATCH", path: "/", headers: map[string]string{"version": "four"}, want: "infra-backend-v2"},
	}},
	"HTTPRouteQueryParamMatching": {cases: []confCase{
		{path: "/?animal=whale", want: "infra-backend-v1"},
		{path: "/?animal=dolphin", want: "infra-backend-v2"},
		{path: "/?animal=dolphin&color=blue", want: "infra-backend-v3"},
		{path: "/?ANIMAL=Whale", want: "infra-backend-v3"},
		{path: "/?animal=whale&otherparam=irrelevant", want: "infra-backend-v1"},
		{path: "/?animal=dolphin&color=yellow", want: "infra-backend-v2"},
		{path: "/?color=blue", want: "404"},
		{path: "/?animal=dog", want: "404"},
		{path: "/?animal=whaledolphin", want: "404"},
		{path: "/", want: "404"},
		// with other matches
		{path: "/path1?animal=whale", want: "infra-backend-v1"},
		{path: "/?animal=whale", headers: map[string]string{"version": "one"}, want: "infra-backend-v2"},
		{path: "/path2?animal=whale", headers: map[string]string{"version": "two"}, want: "infra-backend-v3"},
		// ORed matches
		{path: "/path3?animal=shark", want: "infra-backend-v1"},
		{path: "/path4?animal=kraken", headers: map[string]string{"version": "three"}, want: "infra-backend-v1"},
		// ANDed parts
		{path: "/?animal=shark", want: "404"},
		{path: "/path4?animal=kraken", want: "404"},
		// precedence: path over headers over query
		{path: "/path5?animal=hydra", want: "infra-backend-v1"},
		{path: "/?animal=hydra", headers: map[string]string{"version": "four"}, want: "infra-backend-v3"},
	}},
	"HTTPRouteHostnameIntersection": {
		status: map[string]string{
			"HTTPRoute/infra/specific-on-specific": accepted,
			"HTTPRoute/infra/specific-on-wildcard": accepted,
			"HTTPRoute/infra/wildcard-on-specific": accepted,
			"HTTPRoute/infra/wildcard-on-wildcard": accepted,
			"HTTPRoute/infra/no-intersection":      "Accepted=False/NoMatchingListenerHostname ResolvedRefs=True/ResolvedRefs",
			"HTTPRoute/infra/on-any-host":          accepted,
		},
		// Only accepted routes count, on the listeners they intersect.
		listeners: map[string]string{"Gateway/infra/intersection": "listener-1=2 listener-2=1 listener-3=1"},
		cases: []confCase{
			{host: "very.specific.com", path: "/s1", want: "infra-backend-v1"},
			{host: "very.specific.com:1234", path: "/s1", want: "infra-backend-v1"}, // the port is not part of the host
			{host: "non.matching.com", path: "/s1", want: "404"},
			{host: "foo.nonmatchingwildcard.io", path: "/s1", want: "404"},
			{host: "foo.wildcard.io", path: "/s1", want: "404"},
			{host: "very.specific.com", path: "/non-matching-prefix", want: "404"},

			{host: "foo.wildcard.io", path: "/s2", want: "infra-backend-v2"},
			{host: "bar.wildcard.io", path: "/s2", want: "infra-backend-v2"},
			{host: "foo.bar.wildcard.io", path: "/s2", want: "infra-backend-v2"},
			{host: "non.matching.com", path: "/s2", want: "404"},
			{host: "wildcard.io", path: "/s2", want: "404"},
			{host: "very.specific.com", path: "/s2", want: "404"},
			{host: "foo.wildcard.io", path: "/non-matching-prefix", want: "404"},

			{host: "very.specific.com", path: "/s3", want: "infra-backend-v3"},
			{host: "non.matching.com", path: "/s3", want: "404"},
			{host: "foo.specific.com", path: "/s3", want: "404"},
			{host: "foo.wildcard.io", path: "/s3", want: "404"},
			{host: "very.specific.com", path: "/non-matching-prefix", want: "404"},

			{host: "foo.anotherwildcard.io", path: "/s4", want: "infra-backend-v1"},
			{host: "bar.anotherwildcard.io", path: "/s4", want: "infra-backend-v1"},
			{host: "foo.bar.anotherwildcard.io", path: "/s4", want: "infra-backend-v1"},
			{host: "anotherwildcard.io", path: "/s4", want: "404"},
			{host: "foo.wildcard.io", path: "/s4", want: "404"},
			{host: "very.specific.com", path: "/s4", want: "404"},
			{host: "foo.anotherwildcard.io", path: "/non-matching-prefix", want: "404"},

			{host: "specific.but.wrong.com", path: "/s5", want: "404"},
			{host: "wildcard.io", path: "/s5", want: "404"},

			{host: "first.com", path: "/", want: "infra-backend-v2"},
			{host: "sub.first.com", path: "/", want: "infra-backend-v2"},
			{host: "second.com", path: "/", want: "infra-backend-v2"},
			{host: "sub.second.com", path: "/", want: "infra-backend-v2"},
			{host: "third.com", path: "/", want: "404"},
			{host: "sub.third.com", path: "/", want: "404"},
		},
	},
	"HTTPRouteListenerHostnameMatching": {
		listeners: map[string]string{"Gateway/infra/listener-hosts": "listener-1=1 listener-2=1 listener-3=1 listener-4=1"},
		cases: []confCase{
			{host: "bar.com", path: "/", want: "infra-backend-v1"},
			{host: "foo.bar.com", path: "/", want: "infra-backend-v2"},
			{host: "baz.bar.com", path: "/", want: "infra-backend-v3"},
			{host: "boo.bar.com", path: "/", want: "infra-backend-v3"},
			{host: "multiple.prefixes.bar.com", path: "/", want: "infra-backend-v3"},
			{host: "multiple.prefixes.foo.com", path: "/", want: "infra-backend-v3"},
			{host: "foo.com", path: "/", want: "404"},
			{host: "no.matching.host", path: "/", want: "404"},
		},
	},
	"HTTPRouteListenerPortMatching": {
		// Attachment by port: port-80 on listener-1, port-8080 on
		// listeners 2 and 3, port-8090 on listener-4 only.
		listeners: map[string]string{"Gateway/infra/listener-ports": "listener-1=1 listener-2=1 listener-3=1 listener-4=1 listener-5=0"},
		cases: []confCase{
			{host: "foo.com", path: "/", want: "infra-backend-v1"}, // three routes serve foo.com here: the first by name wins
			{host: "bar.com:8080", path: "/", want: "infra-backend-v2"},
		},
	},
	"HTTPRouteMultipleGateways": {cases: []confCase{
		{path: "/shared", want: "infra-backend-v1"},
		{path: "/", want: "infra-backend-v3"}, // dedicated-all sorts before dedicated-same
	}},
	"HTTPRouteCrossNamespace": {
		status: map[string]string{"HTTPRoute/web/cross-namespace": accepted},
		cases:  []confCase{{path: "/", want: "web/web-backend"}},
	},
	"HTTPRouteReferenceGrant": {
		status: map[string]string{"HTTPRoute/infra/granted": accepted},
		cases:  []confCase{{path: "/", want: "web/web-backend"}},
	},
	"HTTPRouteInvalidReferenceGrant": {
		status: map[string]string{"HTTPRoute/infra/not-granted": refNotOK + "RefNotPermitted"},
		cases:  []confCase{{path: "/", want: "500"}},
	},
	"HTTPRoutePartiallyInvalidViaInvalidReferenceGrant": {
		status: map[string]string{"HTTPRoute/infra/partly": refNotOK + "RefNotPermitted"},
		cases: []confCase{
			{path: "/v2", want: "500"},
			{path: "/", want: "app/app-backend-v1"},
		},
	},
	"HTTPRouteInvalidCrossNamespaceBackendRef": {
		status: map[string]string{"HTTPRoute/infra/no-grant": refNotOK + "RefNotPermitted"},
		cases:  []confCase{{path: "/", want: "500"}},
	},
	"HTTPRouteInvalidNonExistentBackendRef": {
		status: map[string]string{"HTTPRoute/infra/missing-backend": refNotOK + "BackendNotFound"},
		cases:  []confCase{{path: "/", want: "500"}},
	},
	"HTTPRouteInvalidBackendRefUnknownKind": {
		status: map[string]string{"HTTPRoute/infra/unknown-kind": refNotOK + "InvalidKind"},
		cases:  []confCase{{path: "/v2", want: "500"}},
	},
	"HTTPRouteNoBackendRefs": {
		status: map[string]string{"HTTPRoute/infra/omitted": accepted},
		cases: []confCase{
			{path: "/forward", want: "infra-backend-v1"},
			{path: "/omitted-no-forward", want: "500"},
			{path: "/empty-no-forward", want: "500"},
		},
	},
	"HTTPRouteInvalidCrossNamespaceParentRef": {
		status:    map[string]string{"HTTPRoute/web/from-web": notAccepted + "NotAllowedByListeners ResolvedRefs=True/ResolvedRefs"},
		listeners: map[string]string{"Gateway/infra/same-namespace": "http=0"},
		cases:     []confCase{{path: "/", want: "404"}},
	},
	"HTTPRouteDisallowedKind": {
		status:    map[string]string{"HTTPRoute/infra/wrong-kind": notAccepted + "NotAllowedByListeners ResolvedRefs=True/ResolvedRefs"},
		listeners: map[string]string{"Gateway/infra/tlsroutes-only": "tls=0"},
		cases:     []confCase{{path: "/", want: "404"}},
	},
	"HTTPRouteInvalidParentRefNotMatchingListenerPort": {
		status:    map[string]string{"HTTPRoute/infra/wrong-port": notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs"},
		listeners: map[string]string{"Gateway/infra/same-namespace": "http=0"},
		cases:     []confCase{{path: "/", want: "404"}},
	},
	"HTTPRouteInvalidParentRefNotMatchingSectionName": {
		status:    map[string]string{"HTTPRoute/infra/wrong-section": notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs"},
		listeners: map[string]string{"Gateway/infra/same-namespace": "http=0"},
		cases:     []confCase{{path: "/", want: "404"}},
	},
	"HTTPRouteInvalidParentRefSectionNameNotMatchingPort": {
		status:    map[string]string{"HTTPRoute/infra/section-and-port": notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs"},
		listeners: map[string]string{"Gateway/infra/one-listener": "http=0"},
		cases:     []confCase{{path: "/", want: "404"}},
	},
	"HTTPRouteWeight": {cases: []confCase{
		{path: "/", want: "infra-backend-v1*70 infra-backend-v2*30 infra-backend-v3*0"},
	}},
	"HTTPRouteRuleOrder": {
		status: map[string]string{
			"HTTPRoute/infra/first-rule-wins":   accepted,
			"HTTPRoute/infra/first-rule-broken": refNotOK + "BackendNotFound",
		},
		cases: []confCase{
			{path: "/ordered", headers: map[string]string{"X-Shape": "round", "X-Size": "small"}, want: "infra-backend-v1"},
			{path: "/ordered", headers: map[string]string{"X-Shape": "round"}, want: "404"},
			{path: "/ordered-broken", want: "500"},
		},
	},
	"HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection": {
		listeners: map[string]string{"Gateway/infra/same-intersection": "exact=2 exact-path=2 exact-header=2 wild=2 wild-path=2 wild-header=2"},
		cases: []confCase{
			{host: "a.one.test", path: "/", want: "infra-backend-v2"},
			{host: "a.two.test", path: "/path/prefix/longer", want: "infra-backend-v2"},
			{host: "a.three.test", path: "/path/prefix/longer", headers: map[string]string{"Header-A": "A", "Header-B": "B"}, want: "infra-backend-v2"},
			{host: "a.three.test", path: "/path/prefix/longer", headers: map[string]string{"Header-B": "B"}, want: "infra-backend-v1"},
			{host: "a.three.test", path: "/path", headers: map[string]string{"Header-B": "B"}, want: "404"},
			{host: "a.four.test", path: "/", want: "infra-backend-v2"},
			{host: "a.five.test", path: "/path/prefix/longer", want: "infra-backend-v2"},
			{host: "a.six.test", path: "/path/prefix/longer", headers: map[string]string{"Header-A": "A", "Header-B": "B"}, want: "infra-backend-v2"},
			{host: "a.six.test", path: "/path/prefix/longer", headers: map[string]string{"Header-B": "B"}, want: "infra-backend-v1"},
			{host: "b.one.test", path: "/", want: "404"}, // the listener serves a.one.test only
		},
	},
	"HTTPRoutePreserveForeignStatus": {
		// Sluice's entry for its parent, then nothing for the stale
		// parent, and the other controller's entry as it was.
		status: map[string]string{"HTTPRoute/infra/shared-status": "example.net/other-controller:Accepted=True/Accepted:theirs " + accepted},
		cases:  []confCase{{path: "/shared-status", want: "infra-backend-v1"}},
	},
	"HTTPRouteNamedRule": {
		status: map[string]string{"HTTPRoute/infra/named-rules": accepted},
		cases: []confCase{
			{path: "/named", want: "infra-backend-v1"},
			{path: "/unnamed", want: "infra-backend-v2"},
		},
	},
	"SluiceRegularExpressionMatching": {cases: []confCase{
		{path: "/v1/items/42", want: "infra-backend-v1"},
		{path: "/v1/items/42/more", want: "404"},         // anchored
		{path: "/v2/items/42", want: "infra-backend-v2"}, // the prefix ranks first
		{path: "/search", headers: map[string]string{"Version": "v2"}, want: "infra-backend-v3"},
		{path: "/search/all", headers: map[string]string{"Version": "v3"}, want: "404"},
		{path: "/search/all", headers: map[string]string{"Version": "xv1"}, want: "404"},
		{path: "/searching?page=12", want: "infra-backend-v3"},
		{path: "/search?page=12a", want: "404"},
	}},
	"HTTPRouteServiceTypes": {
		status: map[string]string{"HTTPRoute/infra/service-types": accepted},
		backends: map[string]string{
			"manual":          "http://10.0.0.1:3000,http://[fd00::1]:3000",
			"headless-manual": "http://10.0.0.2:3000",
		},
		cases: []confCase{
			{path: "/manual-endpointslices", want: "manual"},
			{path: "/headless-manual-endpointslices", want: "headless-manual"},
		},
	},
}

func TestConformance(t *testing.T) {
	files, _ := filepath.Glob("testdata/conformance/[^_]*.yaml")
	if len(files) != len(conformance) {
		t.Errorf("%d manifests in testdata/conformance, %d tests here", len(files), len(conformance))
	}
	base, err := os.ReadFile("testdata/conformance/_base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, ct := range conformance {
		t.Run(name, func(t *testing.T) {
			file := "testdata/conformance/" + name + ".yaml"
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			objs, probs := Validate(map[string][]byte{"_base.yaml": base, file: b})
			for _, p := range probs {
				// Problems that only status reports are expected; a
				// TLS listener is one Sluice reports on its own.
				if p.Reason == "" && !(name == "HTTPRouteDisallowedKind" && strings.Contains(p.Message, "protocol")) {
					t.Errorf("problem: %s", p)
				}
			}
			tab, err := Compile(objs, 1, time.Unix(0, 0), createdAt)
			if err != nil {
				t.Fatal(err)
			}
			SetStatus(objs, time.Unix(0, 0))
			idx := index(objs)
			for key, want := range ct.status {
				if got := routeConditions(idx[key]); got != want {
					t.Errorf("%s: %s, want %s", key, got, want)
				}
			}
			for key, want := range ct.listeners {
				if got := listenerCounts(idx[key]); got != want {
					t.Errorf("%s: %s, want %s", key, got, want)
				}
			}
			for name, want := range ct.backends {
				found := false
				for _, b := range tab.Backends {
					if shortName(b.Name) == name {
						found = true
						if got := strings.Join(b.Endpoints, ","); got != want {
							t.Errorf("backend %s: endpoints %s, want %s", name, got, want)
						}
					}
				}
				if !found {
					t.Errorf("backend %s not in the table", name)
				}
			}
			for _, c := range ct.cases {
				if got := outcome(tab, c); got != c.want {
					t.Errorf("%s: got %s, want %s", c, got, c.want)
				}
			}
		})
	}
}

// outcome matches c against the table as the gateway does and says what
// the request would get.
func outcome(tab *route.Table, c confCase) string {
	method := c.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, "http://gateway.test"+c.path, nil)
	for k, v := range c.headers {
		r.Header.Set(k, v)
	}
	host := c.host
	if host == "" {
		host = "gateway.test"
	}
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h // the gateway drops the port before matching
	}
	rule, _ := tab.Match(r, host)
	switch {
	case rule == nil:
		return "404"
	case rule.Filters.Redirect != nil:
		return "redirect"
	case len(rule.Backends) == 0:
		return "500"
	case len(rule.Backends) == 1:
		if b := rule.Backends[0].Backend; b >= 0 {
			return shortName(tab.Backends[b].Name)
		}
		return "500"
	}
	var out []string
	for _, ref := range rule.Backends {
		name := "invalid"
		if ref.Backend >= 0 {
			name = shortName(tab.Backends[ref.Backend].Name)
		}
		out = append(out, fmt.Sprintf("%s*%d", name, ref.Weight))
	}
	return strings.Join(out, " ")
}

// shortName turns "Service/infra/name:8080" into "name", and other
// namespaces' Services into "namespace/name".
func shortName(backend string) string {
	s := strings.TrimPrefix(backend, "Service/")
	s, _, _ = strings.Cut(s, ":")
	return strings.TrimPrefix(s, "infra/")
}

// createdAt is a route's metadata.creationTimestamp, or the epoch.
func createdAt(o *Object) time.Time {
	if r, ok := o.Value.(*gwv1.HTTPRoute); ok && !r.CreationTimestamp.IsZero() {
		return r.CreationTimestamp.Time
	}
	return time.Unix(0, 0)
}

// routeConditions lists a route's parent conditions; another controller's
// carry its name and their message.
func routeConditions(o *Object) string {
	if o == nil {
		return "(no such route)"
	}
	var out []string
	for _, p := range o.Value.(*gwv1.HTTPRoute).Status.Parents {
		for _, c := range p.Conditions {
			s := c.Type + "=" + string(c.Status) + "/" + c.Reason
			if p.ControllerName != ControllerName {
				s = string(p.ControllerName) + ":" + s + ":" + c.Message
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func listenerCounts(o *Object) string {
	if o == nil {
		return "(no such gateway)"
	}
	var out []string
	for _, l := range o.Value.(*gwv1.Gateway).Status.Listeners {
		out = append(out, fmt.Sprintf("%s=%d", l.Name, l.AttachedRoutes))
	}
	return strings.Join(out, " ")
}
