package conformance

import (
	"fmt"
	"net/http"
	"sort"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Tests returns the upstream HTTPRoute conformance tests of release
// v1.7.0, retold, and Sluice's own additions, by name.
func Tests() []*Test {
	out := make([]*Test, len(tests))
	for i := range tests {
		out[i] = &tests[i]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Upstream lists the ShortNames of the HTTPRoute tests of release v1.7.0
// (conformance/tests/httproute-*.go).
var Upstream = []string{
	"HTTPRoute303Redirect",
	"HTTPRoute307Redirect",
	"HTTPRoute308Redirect",
	"HTTPRouteBackendProtocolH2C",
	"HTTPRouteBackendProtocolWebSocket",
	"HTTPRouteBackendRequestHeaderModifier",
	"HTTPRouteBackendURLRewrite",
	"HTTPRouteCORS",
	"HTTPRouteCrossNamespace",
	"HTTPRouteDisallowedKind",
	"HTTPRouteExactPathMatching",
	"HTTPRouteHTTPSListener",
	"HTTPRouteHTTPSListenerDetectMisdirectedRequests",
	"HTTPRouteHeaderMatching",
	"HTTPRouteHostnameIntersection",
	"HTTPRouteInvalidBackendRefUnknownKind",
	"HTTPRouteInvalidCrossNamespaceBackendRef",
	"HTTPRouteInvalidCrossNamespaceParentRef",
	"HTTPRouteInvalidNonExistentBackendRef",
	"HTTPRouteInvalidParentRefNotMatchingListenerPort",
	"HTTPRouteInvalidParentRefNotMatchingSectionName",
	"HTTPRouteInvalidParentRefSectionNameNotMatchingPort",
	"HTTPRouteInvalidReferenceGrant",
	"HTTPRouteListenerHostnameMatching",
	"HTTPRouteListenerPortMatching",
	"HTTPRouteMatching",
	"HTTPRouteMatchingAcrossRoutes",
	"HTTPRouteMethodMatching",
	"HTTPRouteMultipleGateways",
	"HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection",
	"HTTPRouteNamedRule",
	"HTTPRouteNoBackendRefs",
	"HTTPRouteObservedGenerationBump",
	"HTTPRoutePartiallyInvalidViaInvalidReferenceGrant",
	"HTTPRoutePathMatchOrder",
	"HTTPRoutePreserveForeignStatus",
	"HTTPRouteQueryParamMatching",
	"HTTPRouteRedirectHostAndStatus",
	"HTTPRouteRedirectPath",
	"HTTPRouteRedirectPort",
	"HTTPRouteRedirectPortAndScheme",
	"HTTPRouteRedirectScheme",
	"HTTPRouteReferenceGrant",
	"HTTPRouteRequestHeaderModifier",
	"HTTPRouteRequestHeaderModifierBackendWeights",
	"HTTPRouteRequestMirror",
	"HTTPRouteRequestMultipleMirrors",
	"HTTPRouteRequestPercentageMirror",
	"HTTPRouteResponseHeaderModifier",
	"HTTPRouteRetry",
	"HTTPRouteRetryConnectionError",
	"HTTPRouteRetryWithBackendTimeout",
	"HTTPRouteRetryWithRequestTimeout",
	"HTTPRouteRewriteHost",
	"HTTPRouteRewritePath",
	"HTTPRouteRuleOrder",
	"HTTPRouteServiceTypes",
	"HTTPRouteSimpleSameNamespace",
	"HTTPRouteTimeoutBackendRequest",
	"HTTPRouteTimeoutRequest",
	"HTTPRouteWeight",
}

// UpstreamListenerSet lists the ShortNames of the ListenerSet tests of
// release v1.7.0 (conformance/tests/listenerset-*.go).
var UpstreamListenerSet = []string{
	"ListenerSetAllowedNamespaceNone",
	"ListenerSetAllowedNamespaceSame",
	"ListenerSetAllowedNamespaceSelector",
	"ListenerSetAllowedRoutesNamespaces",
	"ListenerSetAllowedRoutesSupportedKinds",
	"ListenerSetDefaultNotAllowed",
	"ListenerSetDualParentRefIndependence",
	"ListenerSetGatewayParentSectionNameNotFound",
	"ListenerSetHTTPRouting",
	"ListenerSetHostnameConflict",
	"ListenerSetProtocolConflict",
	"ListenerSetReferenceGrant",
	"ListenerSetRouteStatusScopedToParentRef",
}

// Route conditions, one parent's, as RouteConditions writes them.
const (
	accepted    = "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"
	refNotOK    = "Accepted=True/Accepted ResolvedRefs=False/"
	notAccepted = "Accepted=False/"
)

// ListenerSet conditions.
const (
	lsOK      = "Accepted=True/Accepted Programmed=True/Programmed"
	lsInvalid = "Accepted=False/ListenersNotValid Programmed=False/ListenersNotValid"
)

// conflict is a conflicting listener's conditions, as ListenerCounts shows them.
func conflict(reason string) string {
	return "Accepted=False/" + reason + " Programmed=False/" + reason + " Conflicted=True/" + reason
}

// listenerSetRouting is ListenerSetHTTPRouting's requests: each route on
// the listeners it attaches to, and on no other.
func listenerSetRouting() []Case {
	hosts := []string{"gateway-listener-1.com", "gateway-listener-2.com",
		"listener-set-http-routing-1-listener-1.com", "listener-set-http-routing-1-listener-2.com",
		"listener-set-http-routing-2-listener-1.com", "listener-set-http-routing-2-listener-2.com"}
	routes := []struct {
		path, backend string
		on            []bool // per host
	}{
		{"/route", "infra-backend-v1", []bool{true, true, true, true, true, true}},
		{"/gateway-route", "infra-backend-v2", []bool{true, true, false, false, false, false}},
		{"/gateway-section-route", "infra-backend-v3", []bool{true, false, false, false, false, false}},
		{"/listener-set-http-routing-1-route", "infra-backend-v2", []bool{false, false, true, true, false, false}},
		{"/listener-set-http-routing-1-section-route", "infra-backend-v3", []bool{false, false, true, false, false, false}},
		{"/listener-set-http-routing-2-route", "infra-backend-v2", []bool{false, false, false, false, true, true}},
	}
	var out []Case
	for _, r := range routes {
		for i, h := range hosts {
			c := Case{Host: h, Path: r.path, Status: http.StatusNotFound}
			if r.on[i] {
				c.Status, c.Backend = 0, r.backend
			}
			out = append(out, c)
		}
	}
	return out
}

var https = map[string]string{"X-Forwarded-Proto": "https"}

var tests = []Test{
	{Name: "ListenerSetHTTPRouting", Manifest: "ListenerSetHTTPRouting.yaml", Status: map[string]string{
		"HTTPRoute/" + Infra + "/attaches-to-all-listeners":     accepted + " " + accepted + " " + accepted,
		"ListenerSet/" + Infra + "/listener-set-http-routing-1": lsOK + " listener-set-http-routing-1-listener-1=3 listener-set-http-routing-1-listener-2=2",
		"ListenerSet/" + Infra + "/listener-set-http-routing-2": lsOK + " listener-set-http-routing-2-listener-1=2 listener-set-http-routing-2-listener-2=2",
	}, Listeners: map[string]string{
		"Gateway/" + Infra + "/gateway-with-listener-sets-http-routing": "gateway-listener-1=3 gateway-listener-2=2 listenerSets=2",
	}, Cases: listenerSetRouting()},
	{Name: "ListenerSetDefaultNotAllowed", Manifest: "ListenerSetDefaultNotAllowed.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-default-not-allowed": "Accepted=False/NotAllowed Programmed=False/NotAllowed listenerset-default-not-allowed-listener=0(Programmed=False/Invalid)",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-default-does-not-allow-listenerset": "gateway-listener=0"},
		Cases: []Case{{Host: "listenerset-default-not-allowed-listener.com", Path: "/", Status: 404}}},
	{Name: "ListenerSetAllowedNamespaceNone", Manifest: "ListenerSetAllowedNamespaceNone.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-not-allowed": "Accepted=False/NotAllowed Programmed=False/NotAllowed listener-set-listener=0(Programmed=False/Invalid)",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-does-not-allow-listenerset": "gateway-listener=0"}},
	{Name: "ListenerSetAllowedNamespaceSame", Manifest: "ListenerSetAllowedNamespaceSame.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-in-same-namespace":                               lsOK + " listenerset-in-same-namespace-listener=0",
		"ListenerSet/gateway-api-listenerset-not-allowed-ns/listenerset-in-different-namespace": "Accepted=False/NotAllowed Programmed=False/NotAllowed listenerset-in-different-namespace-listener=0(Programmed=False/Invalid)",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-allows-listenerset-in-same-namespace": "gateway-listener=0 listenerSets=1"}},
	{Name: "ListenerSetAllowedNamespaceSelector", Manifest: "ListenerSetAllowedNamespaceSelector.yaml", Status: map[string]string{
		"ListenerSet/gateway-api-listenerset-selector-allowed-ns/listenerset-in-selected-namespace":         lsOK + " listenerset-in-selected-namespace-listener=0",
		"ListenerSet/gateway-api-listenerset-selector-not-allowed-ns/listenerset-not-in-selected-namespace": "Accepted=False/NotAllowed Programmed=False/NotAllowed listenerset-not-in-selected-namespace-listener=0(Programmed=False/Invalid)",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-allows-listenerset-in-selected-namespace": "gateway-listener=0 listenerSets=1"}},
	{Name: "ListenerSetAllowedRoutesNamespaces", Manifest: "ListenerSetAllowedRoutesNamespaces.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-test-allowed-routes-namespaces":         lsOK + " listener-set-listener-allowed-routes-all=3 listener-set-listener-allowed-routes-same=1 listener-set-listener-allowed-routes-selector=1",
		"ListenerSet/gateway-api-ls-cross-ns/listenerset-test-allowed-routes-cross-ns": lsOK + " listener-set-listener-allowed-routes-cross-ns-same=1",
		"HTTPRoute/" + Infra + "/route-in-gateway-namespace":                           notAccepted + "NotAllowedByListeners ResolvedRefs=True/ResolvedRefs",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-with-listener-sets-test-allowed-routes": "gateway-listener=0 listenerSets=2"},
		Cases: []Case{
			{Host: "listener-set-listener-allowed-routes-all.com", Path: "/route-in-same-namespace", Backend: "infra-backend-v1"},
			{Host: "listener-set-listener-allowed-routes-all.com", Path: "/route-in-selected-namespace", Backend: "infra-backend-v2"},
			{Host: "listener-set-listener-allowed-routes-all.com", Path: "/route-not-in-selected-namespace", Backend: "infra-backend-v3"},
			{Host: "listener-set-listener-allowed-routes-same.com", Path: "/route-in-same-namespace", Backend: "infra-backend-v1"},
			{Host: "listener-set-listener-allowed-routes-same.com", Path: "/route-in-selected-namespace", Status: 404},
			{Host: "listener-set-listener-allowed-routes-same.com", Path: "/route-not-in-selected-namespace", Status: 404},
			{Host: "listener-set-listener-allowed-routes-selector.com", Path: "/route-in-same-namespace", Status: 404},
			{Host: "listener-set-listener-allowed-routes-selector.com", Path: "/route-in-selected-namespace", Backend: "infra-backend-v2"},
			{Host: "listener-set-listener-allowed-routes-selector.com", Path: "/route-not-in-selected-namespace", Status: 404},
			{Host: "listener-set-listener-allowed-routes-cross-ns-same.com", Path: "/route-in-listenerset-namespace", Backend: "infra-backend-v1"},
			{Host: "listener-set-listener-allowed-routes-cross-ns-same.com", Path: "/route-in-gateway-namespace", Status: 404},
		}},
	{Name: "ListenerSetAllowedRoutesSupportedKinds", Manifest: "ListenerSetAllowedRoutesSupportedKinds.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-test-allowed-routes-supported-kinds": "Accepted=False/ListenersNotValid Programmed=False/ListenersNotValid listener-set-listener-allowed-routes-tls-only=0(Accepted=False/UnsupportedProtocol Programmed=False/UnsupportedProtocol ResolvedRefs=False/InvalidRouteKinds)",
	}},
	{Name: "ListenerSetDualParentRefIndependence", Manifest: "ListenerSetDualParentRefIndependence.yaml", Status: map[string]string{
		"HTTPRoute/" + Infra + "/route-dual-parentref-both": accepted + " " + accepted,
		"HTTPRoute/" + Infra + "/route-dual-parentref-one":  notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs " + accepted,
		"ListenerSet/" + Infra + "/ls-dual-parentref":       lsOK + " ls-dual-parentref-listener=2",
	}, Cases: []Case{
		{Host: "gw-dual.com", Path: "/dualboth", Backend: "infra-backend-v1"},
		{Host: "ls-dual.com", Path: "/dualboth", Backend: "infra-backend-v1"},
		{Host: "ls-dual.com", Path: "/dualone", Backend: "infra-backend-v2"},
		{Host: "gw-dual.com", Path: "/dualone", Status: 404},
	}},
	{Name: "ListenerSetGatewayParentSectionNameNotFound", Manifest: "ListenerSetGatewayParentSectionNameNotFound.yaml", Status: map[string]string{
		"HTTPRoute/" + Infra + "/route-via-listenerset": accepted,
		"HTTPRoute/" + Infra + "/route-via-gateway":     notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-section-name": "gw-listener=0 listenerSets=1"},
		Cases: []Case{
			{Host: "ls-section-name.com", Path: "/goodsection", Backend: "infra-backend-v1"},
			{Host: "gw-section.com", Path: "/badsection", Status: 404},
		}},
	{Name: "ListenerSetRouteStatusScopedToParentRef", Manifest: "ListenerSetRouteStatusScopedToParentRef.yaml", Status: map[string]string{
		"HTTPRoute/" + Infra + "/route-parentref-gwonly":  accepted,
		"HTTPRoute/" + Infra + "/route-parentref-lsonly":  accepted,
		"ListenerSet/" + Infra + "/listenerset-parentref": lsOK + " listenerset-parentref-listener=1",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-parentref": "gw-parentref-listener=1 listenerSets=1"},
		Cases: []Case{
			{Host: "gw-parentref.com", Path: "/gwonly", Backend: "infra-backend-v1"},
			{Host: "listenerset-parentref.com", Path: "/lsonly", Backend: "infra-backend-v2"},
			{Host: "gw-parentref.com", Path: "/lsonly", Status: 404},
			{Host: "listenerset-parentref.com", Path: "/gwonly", Status: 404},
		}},
	{Name: "ListenerSetHostnameConflict", Manifest: "ListenerSetHostnameConflict.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-with-hostname-conflict-with-gateway-1":      lsOK + " listener-set-1-listener=0 hostname-conflict-with-gateway-listener=0(" + conflict("HostnameConflict") + ") hostname-conflict-with-listener-set-listener=0",
		"ListenerSet/" + Infra + "/listenerset-with-hostname-conflict-with-gateway-2":      lsInvalid + " hostname-conflict-with-gateway-listener=0(" + conflict("HostnameConflict") + ")",
		"ListenerSet/" + Infra + "/listenerset-with-hostname-conflict-with-listener-set-1": lsOK + " listener-set-2-listener=0 hostname-conflict-with-listener-set-listener=0(" + conflict("HostnameConflict") + ")",
		"ListenerSet/" + Infra + "/listenerset-with-hostname-conflict-with-listener-set-2": lsInvalid + " hostname-conflict-with-listener-set-listener=0(" + conflict("HostnameConflict") + ")",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-with-listenerset-hostname-conflict": "gateway-listener=0 hostname-conflict-with-gateway-listener=0 listenerSets=2"}},
	{Name: "ListenerSetProtocolConflict", Manifest: "ListenerSetProtocolConflict.yaml", Status: map[string]string{
		"ListenerSet/" + Infra + "/listenerset-with-protocol-conflict-with-gateway-1":      lsOK + " listener-set-1-listener=0 protocol-conflict-with-gateway-listener=0(" + conflict("ProtocolConflict") + ") protocol-conflict-with-listener-set-listener=0",
		"ListenerSet/" + Infra + "/listenerset-with-protocol-conflict-with-gateway-2":      lsInvalid + " protocol-conflict-with-gateway-listener=0(" + conflict("ProtocolConflict") + ")",
		"ListenerSet/" + Infra + "/listenerset-with-protocol-conflict-with-listener-set-1": lsOK + " listener-set-2-listener=0 protocol-conflict-with-listener-set-listener=0(" + conflict("ProtocolConflict") + ")",
		"ListenerSet/" + Infra + "/listenerset-with-protocol-conflict-with-listener-set-2": lsInvalid + " protocol-conflict-with-listener-set-listener=0(" + conflict("ProtocolConflict") + ")",
	}, Listeners: map[string]string{"Gateway/" + Infra + "/gateway-with-listenerset-protocol-conflict": "gateway-listener=0 protocol-conflict-with-gateway-listener=0 listenerSets=2"}},
	{Name: "ListenerSetReferenceGrant", NoCounterpart: "its grants let HTTPS listeners of a ListenerSet use certificates in other namespaces; TLS ends at the front door, so Sluice reads no certificate"},
	{Name: "HTTPRouteBackendProtocolH2C", Manifest: "HTTPRouteBackendProtocolH2C.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/backend-protocol-h2c": accepted},
		Cases: []Case{
			{H2C: true, Path: "/", Backend: "infra-backend-v1", ReqProto: "HTTP/2.0"},
			{Path: "/", Backend: "infra-backend-v1", ReqProto: "HTTP/2.0"}, // an HTTP/1.1 client too
		},
	},
	{Name: "HTTPRouteHTTPSListener", Manifest: "HTTPRouteHTTPSListener.yaml",
		Note: "TLS ends at the front door, which forwards the requests with X-Forwarded-Proto: https",
		Status: map[string]string{
			"HTTPRoute/" + Infra + "/httproute-https-test":             accepted,
			"HTTPRoute/" + Infra + "/httproute-https-test-no-hostname": accepted,
		},
		Cases: []Case{
			{Host: "example.org", Header: https, Path: "/", Backend: "infra-backend-v1"},
			{Host: "unknown-example.org", Header: https, Path: "/", Status: 404},
			{Host: "second-example.org", Header: https, Path: "/", Backend: "infra-backend-v2"},
		},
	},
	{Name: "HTTPRouteHTTPSListenerDetectMisdirectedRequests", NoCounterpart: "TLS ends at the front door: the gateway never sees the SNI a request came with"},
	{Name: "HTTPRouteObservedGenerationBump", Manifest: "HTTPRouteObservedGenerationBump.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/observed-generation-bump": accepted},
		Cases:  []Case{{Path: "/", Backend: "infra-backend-v1"}},
		Admin:  generationBump,
	},
	{Name: "HTTPRouteRetry", Manifest: "HTTPRouteRetry.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/retries": accepted},
		Cases: []Case{
			retryCase("/retry/code-500-attempts-3", 500, 2, "", 200),
			retryCase("/retry/code-500-attempts-3", 500, 4, "", 500), // more failures than attempts
			retryCase("/retry/code-500-attempts-3", 503, 2, "", 503), // a code not listed
			retryCase("/retry/code-all-attempts-2", 500, 1, "", 200),
			retryCase("/retry/code-all-attempts-2", 500, 3, "", 500),
			retryCase("/retry/code-all-attempts-2", 502, 1, "", 200),
			retryCase("/retry/code-all-attempts-2", 502, 3, "", 502),
			retryCase("/retry/code-all-attempts-2", 503, 1, "", 200),
			retryCase("/retry/code-all-attempts-2", 503, 3, "", 503),
			retryCase("/retry/code-all-attempts-2", 504, 1, "", 200),
			retryCase("/retry/code-all-attempts-2", 504, 3, "", 504),
			retryCase("/retry/code-all-attempts-0", 500, 1, "", 500), // no retries
			retryCase("/retry/code-all-attempts-0", 502, 1, "", 502),
			retryCase("/retry/code-all-attempts-0", 503, 1, "", 503),
			retryCase("/retry/code-all-attempts-0", 504, 1, "", 504),
		},
	},
	{Name: "HTTPRouteRetryConnectionError", Manifest: "HTTPRouteRetryConnectionError.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/retries-connection-error": accepted},
		Check:  connectionErrors,
	},
	{Name: "HTTPRouteRetryWithRequestTimeout", Manifest: "HTTPRouteRetryWithTimeouts.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/retries-with-timeouts": accepted},
		Cases: []Case{
			retryCase("/retry/request-timeout-500ms", 500, 1, "", 200),
			retryCase("/retry/request-timeout-500ms", 500, 2, "&delayRetry=300ms", 504), // the retries outlast the request timeout
		},
	},
	{Name: "HTTPRouteRetryWithBackendTimeout", Manifest: "HTTPRouteRetryWithTimeouts.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/retries-with-timeouts": accepted},
		Cases: []Case{
			retryCase("/retry/backend-timeout-500ms", 500, 2, "&delayRetry=100ms&delay=100ms", 200),
			retryCase("/retry/request-timeout-500ms", 500, 2, "&delayRetry=1s&delay=1s", 504),
		},
	},
	{Name: "HTTPRouteSimpleSameNamespace", Manifest: "HTTPRouteSimpleSameNamespace.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/simple": accepted},
		Cases:  []Case{{Path: "/", Backend: "infra-backend-v1"}},
	},
	{Name: "HTTPRouteMatching", Manifest: "HTTPRouteMatching.yaml", Cases: []Case{
		{Path: "/", Backend: "infra-backend-v1"},
		{Path: "/example", Backend: "infra-backend-v1"},
		{Path: "/", Header: map[string]string{"Version": "one"}, Backend: "infra-backend-v1"},
		{Path: "/v2", Backend: "infra-backend-v2"},
		{Path: "/v2/example", Backend: "infra-backend-v2"},
		{Path: "/", Header: map[string]string{"Version": "two"}, Backend: "infra-backend-v2"},
		{Path: "/v2/", Backend: "infra-backend-v2"},
		{Path: "/v2example", Backend: "infra-backend-v1"}, // not a segment of /v2
		{Path: "/foo/v2/example", Backend: "infra-backend-v1"},
	}},
	{Name: "HTTPRouteMatchingAcrossRoutes", Manifest: "HTTPRouteMatchingAcrossRoutes.yaml", Cases: []Case{
		{Host: "example.com", Path: "/", Backend: "infra-backend-v1"},
		{Host: "example.com", Path: "/example", Backend: "infra-backend-v1"},
		{Host: "example.net", Path: "/example", Backend: "infra-backend-v1"},
		{Host: "example.com", Path: "/example", Header: map[string]string{"Version": "one"}, Backend: "infra-backend-v1"},
		{Host: "example.com", Path: "/v2", Backend: "infra-backend-v2"},
		{Host: "example.net", Path: "/v2", Backend: "infra-backend-v1"}, // the /v2 route is on example.com only
		{Host: "example.com", Path: "/v2/example", Backend: "infra-backend-v2"},
		{Host: "example.com", Path: "/", Header: map[string]string{"Version": "two"}, Backend: "infra-backend-v2"},
	}},
	{Name: "HTTPRoutePathMatchOrder", Manifest: "HTTPRoutePathMatchOrder.yaml", Cases: []Case{
		{Path: "/match/exact/one", Backend: "infra-backend-v3"},
		{Path: "/match/exact", Backend: "infra-backend-v2"},
		{Path: "/match", Backend: "infra-backend-v1"},
		{Path: "/match/prefix/one/any", Backend: "infra-backend-v2"},
		{Path: "/match/prefix/any", Backend: "infra-backend-v1"},
		{Path: "/match/any", Backend: "infra-backend-v3"},
	}},
	{Name: "HTTPRouteExactPathMatching", Manifest: "HTTPRouteExactPathMatching.yaml", Cases: []Case{
		{Path: "/one", Backend: "infra-backend-v1"},
		{Path: "/two", Backend: "infra-backend-v2"},
		{Path: "/", Status: 404},
		{Path: "/one/example", Status: 404},
		{Path: "/two/", Status: 404},
		{Path: "/Two", Status: 404},
	}},
	{Name: "HTTPRouteHeaderMatching", Manifest: "HTTPRouteHeaderMatching.yaml", Cases: []Case{
		{Path: "/", Header: map[string]string{"Version": "one"}, Backend: "infra-backend-v1"},
		{Path: "/", Header: map[string]string{"Version": "two"}, Backend: "infra-backend-v2"},
		{Path: "/", Header: map[string]string{"Version": "two", "Color": "orange"}, Backend: "infra-backend-v1"},
		{Path: "/", Header: map[string]string{"Version": "two", "Color": "blue"}, Backend: "infra-backend-v2"},
		{Path: "/", Header: map[string]string{"Color": "orange"}, Status: 404},
		{Path: "/", Header: map[string]string{"Some-Other-Header": "one"}, Status: 404},
		{Path: "/", Header: map[string]string{"Color": "blue"}, Backend: "infra-backend-v1"},
		{Path: "/", Header: map[string]string{"Color": "green"}, Backend: "infra-backend-v1"},
		{Path: "/", Header: map[string]string{"Color": "red"}, Backend: "infra-backend-v2"},
		{Path: "/", Header: map[string]string{"Color": "yellow"}, Backend: "infra-backend-v2"},
		{Path: "/", Header: map[string]string{"Color": "purple"}, Status: 404},
		{Path: "/", Header: map[string]string{"color": "blue"}, Backend: "infra-backend-v1"}, // names are case-insensitive
		{Path: "/", Header: map[string]string{"Color": "Blue"}, Status: 404},                 // values are not
	}},
	{Name: "HTTPRouteMethodMatching", Manifest: "HTTPRouteMethodMatching.yaml", Cases: []Case{
		{Method: "POST", Path: "/", Backend: "infra-backend-v1"},
		{Method: "GET", Path: "/", Backend: "infra-backend-v2"},
		{Method: "HEAD", Path: "/", Status: 404},
		// with other matches
		{Method: "GET", Path: "/path1", Backend: "infra-backend-v1"},
		{Method: "PUT", Path: "/", Header: map[string]string{"version": "one"}, Backend: "infra-backend-v2"},
		{Method: "POST", Path: "/path2", Header: map[string]string{"version": "two"}, Backend: "infra-backend-v3"},
		// ORed matches: either one
		{Method: "PATCH", Path: "/path3", Backend: "infra-backend-v1"},
		{Method: "DELETE", Path: "/path4", Header: map[string]string{"version": "three"}, Backend: "infra-backend-v1"},
		// ANDed parts: all of them
		{Method: "PUT", Path: "/", Status: 404},
		{Method: "DELETE", Path: "/path4", Status: 404},
		// precedence: path over method over headers
		{Method: "PATCH", Path: "/path5", Backend: "infra-backend-v1"},
		{Method: "PATCH", Path: "/", Header: map[string]string{"version": "four"}, Backend: "infra-backend-v2"},
	}},
	{Name: "HTTPRouteQueryParamMatching", Manifest: "HTTPRouteQueryParamMatching.yaml", Cases: []Case{
		{Path: "/?animal=whale", Backend: "infra-backend-v1"},
		{Path: "/?animal=dolphin", Backend: "infra-backend-v2"},
		{Path: "/?animal=dolphin&color=blue", Backend: "infra-backend-v3"},
		{Path: "/?ANIMAL=Whale", Backend: "infra-backend-v3"},
		{Path: "/?animal=whale&otherparam=irrelevant", Backend: "infra-backend-v1"},
		{Path: "/?animal=dolphin&color=yellow", Backend: "infra-backend-v2"},
		{Path: "/?color=blue", Status: 404},
		{Path: "/?animal=dog", Status: 404},
		{Path: "/?animal=whaledolphin", Status: 404},
		{Path: "/", Status: 404},
		// with other matches
		{Path: "/path1?animal=whale", Backend: "infra-backend-v1"},
		{Path: "/?animal=whale", Header: map[string]string{"version": "one"}, Backend: "infra-backend-v2"},
		{Path: "/path2?animal=whale", Header: map[string]string{"version": "two"}, Backend: "infra-backend-v3"},
		// ORed matches
		{Path: "/path3?animal=shark", Backend: "infra-backend-v1"},
		{Path: "/path4?animal=kraken", Header: map[string]string{"version": "three"}, Backend: "infra-backend-v1"},
		// ANDed parts
		{Path: "/?animal=shark", Status: 404},
		{Path: "/path4?animal=kraken", Status: 404},
		// precedence: path over headers over query
		{Path: "/path5?animal=hydra", Backend: "infra-backend-v1"},
		{Path: "/?animal=hydra", Header: map[string]string{"version": "four"}, Backend: "infra-backend-v3"},
	}},
	{Name: "HTTPRouteHostnameIntersection", Manifest: "HTTPRouteHostnameIntersection.yaml",
		Status: map[string]string{
			"HTTPRoute/" + Infra + "/specific-on-specific": accepted,
			"HTTPRoute/" + Infra + "/specific-on-wildcard": accepted,
			"HTTPRoute/" + Infra + "/wildcard-on-specific": accepted,
			"HTTPRoute/" + Infra + "/wildcard-on-wildcard": accepted,
			"HTTPRoute/" + Infra + "/no-intersection":      "Accepted=False/NoMatchingListenerHostname ResolvedRefs=True/ResolvedRefs",
			"HTTPRoute/" + Infra + "/on-any-host":          accepted,
		},
		// Only accepted routes count, on the listeners they intersect.
		Listeners: map[string]string{"Gateway/" + Infra + "/intersection": "listener-1=2 listener-2=1 listener-3=1"},
		Cases: []Case{
			{Host: "very.specific.com", Path: "/s1", Backend: "infra-backend-v1"},
			{Host: "very.specific.com:1234", Path: "/s1", Backend: "infra-backend-v1"}, // the port is not part of the host
			{Host: "non.matching.com", Path: "/s1", Status: 404},
			{Host: "foo.nonmatchingwildcard.io", Path: "/s1", Status: 404},
			{Host: "foo.wildcard.io", Path: "/s1", Status: 404},
			{Host: "very.specific.com", Path: "/non-matching-prefix", Status: 404},

			{Host: "foo.wildcard.io", Path: "/s2", Backend: "infra-backend-v2"},
			{Host: "bar.wildcard.io", Path: "/s2", Backend: "infra-backend-v2"},
			{Host: "foo.bar.wildcard.io", Path: "/s2", Backend: "infra-backend-v2"},
			{Host: "non.matching.com", Path: "/s2", Status: 404},
			{Host: "wildcard.io", Path: "/s2", Status: 404},
			{Host: "very.specific.com", Path: "/s2", Status: 404},
			{Host: "foo.wildcard.io", Path: "/non-matching-prefix", Status: 404},

			{Host: "very.specific.com", Path: "/s3", Backend: "infra-backend-v3"},
			{Host: "non.matching.com", Path: "/s3", Status: 404},
			{Host: "foo.specific.com", Path: "/s3", Status: 404},
			{Host: "foo.wildcard.io", Path: "/s3", Status: 404},
			{Host: "very.specific.com", Path: "/non-matching-prefix", Status: 404},

			{Host: "foo.anotherwildcard.io", Path: "/s4", Backend: "infra-backend-v1"},
			{Host: "bar.anotherwildcard.io", Path: "/s4", Backend: "infra-backend-v1"},
			{Host: "foo.bar.anotherwildcard.io", Path: "/s4", Backend: "infra-backend-v1"},
			{Host: "anotherwildcard.io", Path: "/s4", Status: 404},
			{Host: "foo.wildcard.io", Path: "/s4", Status: 404},
			{Host: "very.specific.com", Path: "/s4", Status: 404},
			{Host: "foo.anotherwildcard.io", Path: "/non-matching-prefix", Status: 404},

			{Host: "specific.but.wrong.com", Path: "/s5", Status: 404},
			{Host: "wildcard.io", Path: "/s5", Status: 404},

			{Host: "first.com", Path: "/", Backend: "infra-backend-v2"},
			{Host: "sub.first.com", Path: "/", Backend: "infra-backend-v2"},
			{Host: "second.com", Path: "/", Backend: "infra-backend-v2"},
			{Host: "sub.second.com", Path: "/", Backend: "infra-backend-v2"},
			{Host: "third.com", Path: "/", Status: 404},
			{Host: "sub.third.com", Path: "/", Status: 404},
		},
	},
	{Name: "HTTPRouteListenerHostnameMatching", Manifest: "HTTPRouteListenerHostnameMatching.yaml",
		Listeners: map[string]string{"Gateway/" + Infra + "/listener-hosts": "listener-1=1 listener-2=1 listener-3=1 listener-4=1"},
		Cases: []Case{
			{Host: "bar.com", Path: "/", Backend: "infra-backend-v1"},
			{Host: "foo.bar.com", Path: "/", Backend: "infra-backend-v2"},
			{Host: "baz.bar.com", Path: "/", Backend: "infra-backend-v3"},
			{Host: "boo.bar.com", Path: "/", Backend: "infra-backend-v3"},
			{Host: "multiple.prefixes.bar.com", Path: "/", Backend: "infra-backend-v3"},
			{Host: "multiple.prefixes.foo.com", Path: "/", Backend: "infra-backend-v3"},
			{Host: "foo.com", Path: "/", Status: 404},
			{Host: "no.matching.host", Path: "/", Status: 404},
		},
	},
	{Name: "HTTPRouteListenerPortMatching", Manifest: "HTTPRouteListenerPortMatching.yaml", Note: "one front door serves every listener port: attachment by port is checked, and requests are told apart by hostname",
		// Attachment by port: port-80 on listener-1, port-8080 on
		// listeners 2 and 3, port-8090 on listener-4 only.
		Listeners: map[string]string{"Gateway/" + Infra + "/listener-ports": "listener-1=1 listener-2=1 listener-3=1 listener-4=1 listener-5=0"},
		Cases: []Case{
			{Host: "foo.com", Path: "/", Backend: "infra-backend-v1"}, // three routes serve foo.com here: the first by name wins
			{Host: "bar.com:8080", Path: "/", Backend: "infra-backend-v2"},
		},
	},
	{Name: "HTTPRouteMultipleGateways", Manifest: "HTTPRouteMultipleGateways.yaml", Note: "one front door serves both Gateways: their dedicated catch-all routes compete for the same requests", Cases: []Case{
		{Path: "/shared", Backend: "infra-backend-v1"},
		{Path: "/", Backend: "infra-backend-v3"}, // dedicated-all sorts before dedicated-same
	}},
	{Name: "HTTPRouteCrossNamespace", Manifest: "HTTPRouteCrossNamespace.yaml",
		Status: map[string]string{"HTTPRoute/" + WebBackend + "/cross-namespace": accepted},
		Cases:  []Case{{Path: "/", Backend: WebBackend + "/web-backend"}},
	},
	{Name: "HTTPRouteReferenceGrant", Manifest: "HTTPRouteReferenceGrant.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/granted": accepted},
		Cases:  []Case{{Path: "/", Backend: WebBackend + "/web-backend"}},
	},
	{Name: "HTTPRouteInvalidReferenceGrant", Manifest: "HTTPRouteInvalidReferenceGrant.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/not-granted": refNotOK + "RefNotPermitted"},
		Cases:  []Case{{Path: "/", Status: 500}},
	},
	{Name: "HTTPRoutePartiallyInvalidViaInvalidReferenceGrant", Manifest: "HTTPRoutePartiallyInvalidViaInvalidReferenceGrant.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/partly": refNotOK + "RefNotPermitted"},
		Cases: []Case{
			{Path: "/v2", Status: 500},
			{Path: "/", Backend: AppBackend + "/app-backend-v1"},
		},
	},
	{Name: "HTTPRouteInvalidCrossNamespaceBackendRef", Manifest: "HTTPRouteInvalidCrossNamespaceBackendRef.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/no-grant": refNotOK + "RefNotPermitted"},
		Cases:  []Case{{Path: "/", Status: 500}},
	},
	{Name: "HTTPRouteInvalidNonExistentBackendRef", Manifest: "HTTPRouteInvalidNonExistentBackendRef.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/missing-backend": refNotOK + "BackendNotFound"},
		Cases:  []Case{{Path: "/", Status: 500}},
	},
	{Name: "HTTPRouteInvalidBackendRefUnknownKind", Manifest: "HTTPRouteInvalidBackendRefUnknownKind.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/unknown-kind": refNotOK + "InvalidKind"},
		Cases:  []Case{{Path: "/v2", Status: 500}},
	},
	{Name: "HTTPRouteNoBackendRefs", Manifest: "HTTPRouteNoBackendRefs.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/omitted": accepted},
		Cases: []Case{
			{Path: "/forward", Backend: "infra-backend-v1"},
			{Path: "/omitted-no-forward", Status: 500},
			{Path: "/empty-no-forward", Status: 500},
		},
	},
	{Name: "HTTPRouteInvalidCrossNamespaceParentRef", Manifest: "HTTPRouteInvalidCrossNamespaceParentRef.yaml",
		Status:    map[string]string{"HTTPRoute/" + WebBackend + "/from-web": notAccepted + "NotAllowedByListeners ResolvedRefs=True/ResolvedRefs"},
		Listeners: map[string]string{"Gateway/" + Infra + "/same-namespace": "http=0"},
		Cases:     []Case{{Path: "/", Status: 404}},
	},
	{Name: "HTTPRouteDisallowedKind", Manifest: "HTTPRouteDisallowedKind.yaml",
		Status:    map[string]string{"HTTPRoute/" + Infra + "/wrong-kind": notAccepted + "NotAllowedByListeners ResolvedRefs=True/ResolvedRefs"},
		Listeners: map[string]string{"Gateway/" + Infra + "/tlsroutes-only": "tls=0(Accepted=False/UnsupportedProtocol Programmed=False/UnsupportedProtocol)"},
		Cases:     []Case{{Path: "/", Status: 404}},
	},
	{Name: "HTTPRouteInvalidParentRefNotMatchingListenerPort", Manifest: "HTTPRouteInvalidParentRefNotMatchingListenerPort.yaml",
		Status:    map[string]string{"HTTPRoute/" + Infra + "/wrong-port": notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs"},
		Listeners: map[string]string{"Gateway/" + Infra + "/same-namespace": "http=0"},
		Cases:     []Case{{Path: "/", Status: 404}},
	},
	{Name: "HTTPRouteInvalidParentRefNotMatchingSectionName", Manifest: "HTTPRouteInvalidParentRefNotMatchingSectionName.yaml",
		Status:    map[string]string{"HTTPRoute/" + Infra + "/wrong-section": notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs"},
		Listeners: map[string]string{"Gateway/" + Infra + "/same-namespace": "http=0"},
		Cases:     []Case{{Path: "/", Status: 404}},
	},
	{Name: "HTTPRouteInvalidParentRefSectionNameNotMatchingPort", Manifest: "HTTPRouteInvalidParentRefSectionNameNotMatchingPort.yaml",
		Status:    map[string]string{"HTTPRoute/" + Infra + "/section-and-port": notAccepted + "NoMatchingParent ResolvedRefs=True/ResolvedRefs"},
		Listeners: map[string]string{"Gateway/" + Infra + "/one-listener": "http=0"},
		Cases:     []Case{{Path: "/", Status: 404}},
	},
	{Name: "HTTPRouteWeight", Manifest: "HTTPRouteWeight.yaml", Check: weights},
	{Name: "HTTPRouteRuleOrder", Manifest: "HTTPRouteRuleOrder.yaml",
		Status: map[string]string{
			"HTTPRoute/" + Infra + "/first-rule-wins":   accepted,
			"HTTPRoute/" + Infra + "/first-rule-broken": refNotOK + "BackendNotFound",
		},
		Cases: []Case{
			{Path: "/ordered", Header: map[string]string{"X-Shape": "round", "X-Size": "small"}, Backend: "infra-backend-v1"},
			{Path: "/ordered", Header: map[string]string{"X-Shape": "round"}, Status: 404},
			{Path: "/ordered-broken", Status: 500},
		},
	},
	{Name: "HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection", Manifest: "HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection.yaml", Note: "one Gateway with a listener per scenario, each on its own hostname, instead of a Gateway per scenario on one hostname",
		Listeners: map[string]string{"Gateway/" + Infra + "/same-intersection": "exact=2 exact-path=2 exact-header=2 wild=2 wild-path=2 wild-header=2"},
		Cases: []Case{
			{Host: "a.one.test", Path: "/", Backend: "infra-backend-v2"},
			{Host: "a.two.test", Path: "/path/prefix/longer", Backend: "infra-backend-v2"},
			{Host: "a.three.test", Path: "/path/prefix/longer", Header: map[string]string{"Header-A": "A", "Header-B": "B"}, Backend: "infra-backend-v2"},
			{Host: "a.three.test", Path: "/path/prefix/longer", Header: map[string]string{"Header-B": "B"}, Backend: "infra-backend-v1"},
			{Host: "a.three.test", Path: "/path", Header: map[string]string{"Header-B": "B"}, Status: 404},
			{Host: "a.four.test", Path: "/", Backend: "infra-backend-v2"},
			{Host: "a.five.test", Path: "/path/prefix/longer", Backend: "infra-backend-v2"},
			{Host: "a.six.test", Path: "/path/prefix/longer", Header: map[string]string{"Header-A": "A", "Header-B": "B"}, Backend: "infra-backend-v2"},
			{Host: "a.six.test", Path: "/path/prefix/longer", Header: map[string]string{"Header-B": "B"}, Backend: "infra-backend-v1"},
			{Host: "b.one.test", Path: "/", Status: 404}, // the listener serves a.one.test only
		},
	},
	{Name: "HTTPRoutePreserveForeignStatus", Manifest: "HTTPRoutePreserveForeignStatus.yaml",
		// Sluice's entry for its parent, then nothing for the stale
		// parent, and the other controller's entry as it was.
		Status: map[string]string{"HTTPRoute/" + Infra + "/shared-status": "example.net/other-controller:Accepted=True/Accepted:theirs " + accepted},
		Cases:  []Case{{Path: "/shared-status", Backend: "infra-backend-v1"}},
	},
	{Name: "HTTPRouteNamedRule", Manifest: "HTTPRouteNamedRule.yaml",
		Status: map[string]string{"HTTPRoute/" + Infra + "/named-rules": accepted},
		Cases: []Case{
			{Path: "/named", Backend: "infra-backend-v1"},
			{Path: "/unnamed", Backend: "infra-backend-v2"},
		},
	},
	{Name: "SluiceRegularExpressionMatching", Manifest: "SluiceRegularExpressionMatching.yaml", Own: true, Cases: []Case{
		{Path: "/v1/items/42", Backend: "infra-backend-v1"},
		{Path: "/v1/items/42/more", Status: 404},            // anchored
		{Path: "/v2/items/42", Backend: "infra-backend-v2"}, // the prefix ranks first
		{Path: "/search", Header: map[string]string{"Version": "v2"}, Backend: "infra-backend-v3"},
		{Path: "/search/all", Header: map[string]string{"Version": "v3"}, Status: 404},
		{Path: "/search/all", Header: map[string]string{"Version": "xv1"}, Status: 404},
		{Path: "/searching?page=12", Backend: "infra-backend-v3"},
		{Path: "/search?page=12a", Status: 404},
	}},
	{Name: "HTTPRouteServiceTypes", Manifest: "HTTPRouteServiceTypes.yaml", Note: "the IPv6 EndpointSlices stay empty (the echo servers listen on IPv4 loopback)",
		Status: map[string]string{"HTTPRoute/" + Infra + "/service-types": accepted},
		Cases: []Case{
			{Path: "/manual-endpointslices", Backend: "infra-backend-v1", Service: "manual-endpointslices"},
			{Path: "/headless", Backend: "infra-backend-v1", Service: "headless"},
			{Path: "/headless-manual-endpointslices", Backend: "infra-backend-v1", Service: "headless-manual-endpointslices"},
		},
	},
	{Name: "HTTPRouteRedirectPath", Manifest: "HTTPRouteRedirectPath.yaml", Cases: []Case{
		{Path: "/original-prefix/lemon", Status: 302, Location: "http://gateway.test/replacement-prefix/lemon"},
		{Path: "/full/path/original", Status: 302, Location: "http://gateway.test/full-path-replacement"},
		{Path: "/path-and-host", Status: 302, Location: "http://example.org/replacement-prefix"},
		{Path: "/path-and-status", Status: 301, Location: "http://gateway.test/replacement-prefix"},
		{Path: "/full-path-and-host", Status: 302, Location: "http://example.org/replacement-full"},
		{Path: "/full-path-and-status", Status: 301, Location: "http://gateway.test/replacement-full"},
		{Path: "/original-prefix/lemon?x=1", Status: 302, Location: "http://gateway.test/replacement-prefix/lemon?x=1"}, // the query stays
	}},
	{Name: "HTTPRouteRedirectHostAndStatus", Manifest: "HTTPRouteRedirectHostAndStatus.yaml", Cases: []Case{
		{Path: "/hostname-redirect", Status: 302, Location: "http://example.org/hostname-redirect"},
		{Path: "/host-and-status", Status: 301, Location: "http://example.org/host-and-status"},
	}},
	{Name: "HTTPRouteRedirectPort", Manifest: "HTTPRouteRedirectPort.yaml", Cases: []Case{
		{Path: "/port", Status: 302, Location: "http://gateway.test:8083/port"},
		{Path: "/port-and-host", Status: 302, Location: "http://example.org:8083/port-and-host"},
		{Path: "/port-and-status", Status: 301, Location: "http://gateway.test:8083/port-and-status"},
		{Path: "/port-and-host-and-status", Status: 302, Location: "http://example.org:8083/port-and-host-and-status"},
	}},
	{Name: "HTTPRouteRedirectScheme", Manifest: "HTTPRouteRedirectScheme.yaml", Cases: []Case{
		{Path: "/scheme", Status: 302, Location: "https://gateway.test/scheme"},
		{Path: "/scheme-and-host", Status: 302, Location: "https://example.org/scheme-and-host"},
		{Path: "/scheme-and-status", Status: 301, Location: "https://gateway.test/scheme-and-status"},
		{Path: "/scheme-and-host-and-status", Status: 302, Location: "https://example.org/scheme-and-host-and-status"},
	}},
	{Name: "HTTPRouteRedirectPortAndScheme", Manifest: "HTTPRouteRedirectPortAndScheme.yaml", Note: "one route on the three listeners carries their rules; a request's listener is told by X-Forwarded-Proto and the Host port", Cases: []Case{
		// HTTP listener on 80
		{Path: "/scheme-nil-and-port-nil", Status: 302, Location: "http://example.org/scheme-nil-and-port-nil"},
		{Path: "/scheme-nil-and-port-80", Status: 302, Location: "http://example.org/scheme-nil-and-port-80"},
		{Path: "/scheme-nil-and-port-8080", Status: 302, Location: "http://example.org:8080/scheme-nil-and-port-8080"},
		{Path: "/scheme-https-and-port-nil", Status: 302, Location: "https://example.org/scheme-https-and-port-nil"},
		{Path: "/scheme-https-and-port-443", Status: 302, Location: "https://example.org/scheme-https-and-port-443"},
		{Path: "/scheme-https-and-port-8443", Status: 302, Location: "https://example.org:8443/scheme-https-and-port-8443"},
		// The port the client connected to is not the listener's.
		{Host: "gateway.test:54321", Path: "/scheme-nil-and-port-nil", Status: 302, Location: "http://example.org/scheme-nil-and-port-nil"},
		// HTTP listener on 8080: without a scheme, the listener's port
		{Host: "gateway.test:8080", Path: "/scheme-nil-and-port-nil", Status: 302, Location: "http://example.org:8080/scheme-nil-and-port-nil"},
		{Host: "gateway.test:8080", Path: "/scheme-nil-and-port-80", Status: 302, Location: "http://example.org/scheme-nil-and-port-80"},
		{Host: "gateway.test:8080", Path: "/scheme-https-and-port-nil", Status: 302, Location: "https://example.org/scheme-https-and-port-nil"},
		// With a scheme and no port, the scheme's well-known port, even
		// when the scheme is the request's own (the Port field's rules).
		{Host: "gateway.test:8080", Path: "/scheme-http-and-port-nil", Status: 302, Location: "http://example.org/scheme-http-and-port-nil"},
		// HTTPS listener on 443
		{Host: "example.org", Header: https, Path: "/scheme-nil-and-port-nil", Status: 302, Location: "https://example.org/scheme-nil-and-port-nil"},
		{Host: "example.org", Header: https, Path: "/scheme-nil-and-port-443", Status: 302, Location: "https://example.org/scheme-nil-and-port-443"},
		{Host: "example.org", Header: https, Path: "/scheme-nil-and-port-8443", Status: 302, Location: "https://example.org:8443/scheme-nil-and-port-8443"},
		{Host: "example.org", Header: https, Path: "/scheme-http-and-port-nil", Status: 302, Location: "http://example.org/scheme-http-and-port-nil"},
		{Host: "example.org", Header: https, Path: "/scheme-http-and-port-80", Status: 302, Location: "http://example.org/scheme-http-and-port-80"},
		{Host: "example.org", Header: https, Path: "/scheme-http-and-port-8080", Status: 302, Location: "http://example.org:8080/scheme-http-and-port-8080"},
	}},
	{Name: "HTTPRoute303Redirect", Manifest: "HTTPRoute303Redirect.yaml", Cases: []Case{{Method: "POST", Path: "/see-other", Status: 303, Location: "http://gateway.test/see-other"}}},
	{Name: "HTTPRoute307Redirect", Manifest: "HTTPRoute307Redirect.yaml", Cases: []Case{{Method: "POST", Path: "/temporary", Status: 307, Location: "http://gateway.test/temporary"}}},
	{Name: "HTTPRoute308Redirect", Manifest: "HTTPRoute308Redirect.yaml", Cases: []Case{{Method: "POST", Path: "/permanent", Status: 308, Location: "http://gateway.test/permanent"}}},
	{Name: "HTTPRouteRewriteHost", Manifest: "HTTPRouteRewriteHost.yaml", Cases: []Case{
		{Host: "rewrite.example", Path: "/one", Backend: "infra-backend-v1", ReqPath: "/one", ReqHost: "one.example.org"},
		{Host: "rewrite.example", Path: "/two", Backend: "infra-backend-v2", ReqPath: "/two", ReqHost: "example.org"},
		{Host: "rewrite.example:8080", Path: "/two", Backend: "infra-backend-v2", ReqHost: "example.org"}, // the port is not part of the hostname
		{Host: "other.example", Path: "/two", Status: 404},
		{Host: "rewrite.example", Path: "/rewrite-host-and-modify-headers", Header: modIn, Backend: "infra-backend-v2",
			ReqPath: "/rewrite-host-and-modify-headers", ReqHost: "test.example.org", ReqHeader: modOut, ReqAbsent: modAbsent},
	}},
	{Name: "HTTPRouteRewritePath", Manifest: "HTTPRouteRewritePath.yaml", Cases: []Case{
		{Path: "/prefix/one/two", Backend: "infra-backend-v1", ReqPath: "/one/two"},
		{Path: "/strip-prefix/three", Backend: "infra-backend-v1", ReqPath: "/three"},
		{Path: "/strip-prefix", Backend: "infra-backend-v1", ReqPath: "/"},
		{Path: "/full/one/two", Backend: "infra-backend-v1", ReqPath: "/one"},
		{Path: "/full/rewrite-path-and-modify-headers/test", Header: withSet(modIn), Backend: "infra-backend-v1", ReqPath: "/test", ReqHeader: modOut, ReqAbsent: modAbsent},
		{Path: "/prefix/rewrite-path-and-modify-headers/one", Header: withSet(modIn), Backend: "infra-backend-v1", ReqPath: "/prefix/one", ReqHeader: modOut, ReqAbsent: modAbsent},
	}},
	{Name: "HTTPRouteRequestHeaderModifier", Manifest: "HTTPRouteRequestHeaderModifier.yaml", Cases: requestHeaderCases},
	{Name: "HTTPRouteBackendRequestHeaderModifier", Manifest: "HTTPRouteBackendRequestHeaderModifier.yaml", Cases: requestHeaderCases},
	{Name: "HTTPRouteBackendURLRewrite", Manifest: "HTTPRouteBackendURLRewrite.yaml", Cases: []Case{
		{Path: "/whole/original", Backend: "infra-backend-v1", ReqPath: "/replaced"},
		{Path: "/head/original", Backend: "infra-backend-v2", ReqPath: "/new-head/original"},
		{Path: "/head", Backend: "infra-backend-v2", ReqPath: "/new-head"},
		{Path: "/host/x", Backend: "infra-backend-v3", ReqPath: "/host/x", ReqHost: "backend.example.org"},
	}},
	{Name: "HTTPRouteResponseHeaderModifier", Manifest: "HTTPRouteResponseHeaderModifier.yaml", Cases: []Case{
		{Path: "/set", SetResponse: map[string]string{"Some-Other-Header": "val"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
		{Path: "/set", SetResponse: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "some-other-value"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
		{Path: "/add", SetResponse: map[string]string{"Some-Other-Header": "val"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"}},
		{Path: "/add", SetResponse: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"}},
		{Path: "/remove", SetResponse: map[string]string{"X-Header-Remove": "val"}, Backend: "infra-backend-v1", RespAbsent: []string{"X-Header-Remove"}},
		{Path: "/multiple", SetResponse: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val", "X-Header-Remove-1": "val"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
				"X-Header-Add-2": "add-val-2,header-add-2", "X-Header-Add-3": "header-add-3", "Another-Header": "another-header-val"},
			RespAbsent: []string{"X-Header-Remove-1", "X-Header-Remove-2"}},
		{Path: "/case-insensitivity", SetResponse: map[string]string{"x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"X-Header-Set": "header-set", "X-Header-Add": "original-val-add,header-add", "X-Lowercase-Add": "lowercase-add",
				"X-Mixedcase-Add-1": "mixedcase-add-1", "X-Mixedcase-Add-2": "mixedcase-add-2", "X-Uppercase-Add": "uppercase-add", "Another-Header": "another-header-val"},
			RespAbsent: []string{"X-Header-Remove"}},
		{Path: "/response-and-request-header-modifiers", Header: map[string]string{"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Echo": "echo"},
			SetResponse: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val", "X-Header-Remove-1": "remove-val-1", "X-Header-Echo": "echo"},
			Backend:     "infra-backend-v1",
			ReqHeader:   map[string]string{"X-Header-Add": "header-val-1", "X-Header-Set": "set-overwrites-values", "X-Header-Add-Append": "append-val-1,header-val-2", "X-Header-Echo": "echo"},
			ReqAbsent:   []string{"X-Header-Remove"},
			RespHeader: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
				"X-Header-Add-2": "add-val-2,header-add-2", "Another-Header": "another-header-val", "X-Header-Echo": "echo"},
			RespAbsent: []string{"X-Header-Remove-1", "X-Header-Remove-2"}},
	}},
	{Name: "HTTPRouteRequestMirror", Manifest: "HTTPRouteRequestMirror.yaml", Cases: []Case{
		{Path: "/mirror", Backend: "infra-backend-v1", ReqPath: "/mirror", MirroredTo: []string{"infra-backend-v2"}},
		{Path: "/mirror-and-modify-headers", Header: modIn, Backend: "infra-backend-v1", ReqHeader: modOut, ReqAbsent: modAbsent, MirroredTo: []string{"infra-backend-v2"}},
	}},
	{Name: "HTTPRouteRequestMultipleMirrors", Manifest: "HTTPRouteRequestMultipleMirrors.yaml", Cases: []Case{
		{Path: "/multi-mirror", Backend: "infra-backend-v1", MirroredTo: []string{"infra-backend-v2", "infra-backend-v3"}},
		{Path: "/multi-mirror-and-modify-request-headers", Header: modIn, Backend: "infra-backend-v1", ReqHeader: modOut, ReqAbsent: modAbsent, MirroredTo: []string{"infra-backend-v2", "infra-backend-v3"}},
	}},
	{Name: "HTTPRouteTimeoutRequest", Manifest: "HTTPRouteTimeoutRequest.yaml", Cases: []Case{
		{Path: "/request-timeout", Backend: "infra-backend-v1"},
		{Path: "/request-timeout?delay=1s", Status: 504},
		{Path: "/disable-request-timeout?delay=1s", Backend: "infra-backend-v1"},
	}},
	{Name: "HTTPRouteTimeoutBackendRequest", Manifest: "HTTPRouteTimeoutBackendRequest.yaml", Cases: []Case{
		{Path: "/backend-timeout", Backend: "infra-backend-v1"},
		{Path: "/backend-timeout?delay=1s", Status: 504},
		{Path: "/disable-backend-timeout?delay=1s", Backend: "infra-backend-v1"},
	}},
	{Name: "HTTPRouteCORS", Manifest: "HTTPRouteCORS.yaml", Cases: []Case{
		{Method: "OPTIONS", Path: "/cors-1", Header: preflight3("https://www.foo.com", "GET", "x-header-1, x-header-2"), RespHeader: cors1("https://www.foo.com")},
		{Method: "OPTIONS", Path: "/cors-1", Header: preflight3("https://www.bar.com", "GET", "x-header-1, x-header-2"), RespHeader: cors1("https://www.bar.com")},
		{Method: "OPTIONS", Path: "/cors-1", Header: preflight3("https://xpto.www.bar.com", "GET", "x-header-1, x-header-2"), RespHeader: cors1("https://xpto.www.bar.com")},
		{Method: "OPTIONS", Path: "/cors-1", Header: preflight3("https://foobar.com", "GET", ""), RespAbsent: []string{"Access-Control-Allow-Origin"}},
		{Path: "/cors-1", Header: preflight3("https://www.foo.com", "GET", "x-header-1, x-header-2"), Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "https://www.foo.com"}},
		{Path: "/cors-1", Header: preflight3("https://www.bar.com", "GET", "x-header-1, x-header-2"), Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "https://www.bar.com"}},
		{Path: "/cors-1", Header: preflight3("https://foobar.com", "GET", ""), Backend: "infra-backend-v1", RespAbsent: []string{"Access-Control-Allow-Origin"}},
		{Method: "OPTIONS", Path: "/cors-2", Header: preflight3("https://www.foo.com", "POST", ""),
			RespHeader: map[string]string{"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Origin": "https://www.foo.com"},
			RespAbsent: []string{"Access-Control-Allow-Credentials"}},
		{Method: "OPTIONS", Path: "/cors-wildcard-origin", Header: preflight3("https://foobar.com", "PUT", ""),
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT"},
			RespAbsent: []string{"Access-Control-Allow-Credentials"}},
		{Method: "OPTIONS", Path: "/cors-wildcard-origin", Header: preflight3("https://foobar.com:12345", "PUT", ""),
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT"},
			RespAbsent: []string{"Access-Control-Allow-Credentials"}},
		{Method: "PUT", Path: "/cors-wildcard-origin", Header: map[string]string{"Origin": "https://foobar.com:12345"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "*"}},
		{Method: "PUT", Path: "/cors-wildcard-origin", Header: map[string]string{"Origin": "https://foobar.com"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "*"}, RespAbsent: []string{"Access-Control-Allow-Credentials"}},
		{Method: "OPTIONS", Path: "/cors-wildcard-methods-headers", Header: preflight3("https://other.foo.com", "PUT", "x-header-1, x-header-2"),
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "https://other.foo.com", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Allow-Credentials": "true"}},
		{Method: "OPTIONS", Path: "/cors-wildcard-methods-headers-unauth", Header: preflight3("https://other.foo.com", "PUT", "x-header-1, x-header-2"),
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "x-header-1, x-header-2"},
			RespAbsent: []string{"Access-Control-Allow-Credentials"}},
		{Path: "/cors-wildcard-methods-headers", Header: map[string]string{"Origin": "https://other.foo.com"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "https://other.foo.com", "Access-Control-Allow-Credentials": "true"}},
		{Path: "/cors-wildcard-methods-headers-unauth", Header: map[string]string{"Origin": "https://other.foo.com"}, Backend: "infra-backend-v1",
			RespHeader: map[string]string{"Access-Control-Allow-Origin": "*"}, RespAbsent: []string{"Access-Control-Allow-Credentials"}},
	}},
	// Distributions and protocols: these check more than one answer.
	{Name: "HTTPRouteRequestHeaderModifierBackendWeights", Manifest: "HTTPRouteRequestHeaderModifierBackendWeights.yaml", Check: backendWeightFilters},
	{Name: "HTTPRouteRequestPercentageMirror", Manifest: "HTTPRouteRequestPercentageMirror.yaml", Check: percentageMirrors},
	{Name: "HTTPRouteBackendProtocolWebSocket", Manifest: "HTTPRouteBackendProtocolWebSocket.yaml", Check: webSocket},
}

var (
	modIn     = map[string]string{"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1"}
	modOut    = map[string]string{"X-Header-Add": "header-val-1", "X-Header-Add-Append": "append-val-1,header-val-2", "X-Header-Set": "set-overwrites-values"}
	modAbsent = []string{"X-Header-Remove"}
)

// requestHeaderCases serve HTTPRouteRequestHeaderModifier and, with the
// filters on the backendRef, HTTPRouteBackendRequestHeaderModifier.
var requestHeaderCases = []Case{
	{Path: "/set", Header: map[string]string{"Some-Other-Header": "val"}, Backend: "infra-backend-v1",
		ReqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
	{Path: "/set", Header: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "some-other-value"}, Backend: "infra-backend-v1",
		ReqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
	{Path: "/add", Header: map[string]string{"Some-Other-Header": "val"}, Backend: "infra-backend-v1",
		ReqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"}},
	{Path: "/add", Header: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value"}, Backend: "infra-backend-v1",
		ReqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"}},
	{Path: "/remove", Header: map[string]string{"X-Header-Remove": "val"}, Backend: "infra-backend-v1", ReqAbsent: []string{"X-Header-Remove"}},
	{Path: "/multiple", Header: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val"}, Backend: "infra-backend-v1",
		ReqHeader: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
			"X-Header-Add-2": "add-val-2,header-add-2", "X-Header-Add-3": "header-add-3", "Another-Header": "another-header-val"},
		ReqAbsent: []string{"X-Header-Remove-1", "X-Header-Remove-2"}},
	{Path: "/case-insensitivity", Header: map[string]string{"x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"}, Backend: "infra-backend-v1",
		ReqHeader: map[string]string{"X-Header-Set": "header-set", "X-Header-Add": "original-val-add,header-add", "Another-Header": "another-header-val"},
		ReqAbsent: []string{"X-Header-Remove"}},
}

// generationBump: a change to the route's spec bumps its generation, and
// its conditions follow; applying it unchanged does not.
func generationBump(t *testing.T, a Admin) {
	const key = "HTTPRoute/" + Infra + "/observed-generation-bump"
	gen := func() int64 {
		r, _ := a.Object(t, key).(*gwv1.HTTPRoute)
		if r == nil {
			t.Fatalf("%s is not applied", key)
		}
		for _, p := range r.Status.Parents {
			for _, c := range p.Conditions {
				if c.ObservedGeneration != r.Generation || c.Status != metav1.ConditionTrue {
					t.Errorf("generation %d: condition %s=%s observed generation %d", r.Generation, c.Type, c.Status, c.ObservedGeneration)
				}
			}
		}
		return r.Generation
	}
	manifest := func(backend string) map[string][]byte {
		return map[string][]byte{"tests/observed-generation-bump.yaml": fmt.Appendf(nil, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: observed-generation-bump, namespace: %s}
spec:
  parentRefs: [{name: same-namespace}]
  rules: [{backendRefs: [{name: %s, port: 8080}]}]
`, Infra, backend)}
	}
	before := gen()
	a.Apply(t, manifest("infra-backend-v1"))
	if g := gen(); g != before {
		t.Errorf("generation %d after applying the same spec, want %d", g, before)
	}
	a.Apply(t, manifest("infra-backend-v2"))
	if g := gen(); g != before+1 {
		t.Errorf("generation %d after changing the spec, want %d", g, before+1)
	}
}

// retryCase asks infra-backend-v3's echo to answer code to the first
// failures attempts of a fresh uuid, and expects want.
func retryCase(path string, code, failures int, more string, want int) Case {
	c := Case{Path: fmt.Sprintf("%s?responseCode=%d&succeedAfter=%d%s", path, code, failures, more), UUID: true, Status: want}
	if want == 200 {
		c.Backend = "infra-backend-v3"
	}
	return c
}

func withSet(h map[string]string) map[string]string {
	out := map[string]string{"X-Header-Set": "set-val"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

func preflight3(origin, method, headers string) map[string]string {
	h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	if headers != "" {
		h["Access-Control-Request-Headers"] = headers
	}
	return h
}

func cors1(origin string) map[string]string {
	return map[string]string{
		"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET, OPTIONS",
		"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Expose-Headers": "x-header-3, x-header-4",
		"Access-Control-Max-Age": "3600", "Access-Control-Allow-Credentials": "true",
	}
}
