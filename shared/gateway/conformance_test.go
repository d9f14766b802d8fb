package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/ledger"
)

// The filter and backend tests of the upstream conformance suite
// (kubernetes-sigs/gateway-api conformance/tests, release 1.7) retold for
// the gateway handler: each manifest in testdata/conformance, named for the
// upstream test it mirrors, is compiled with _base.yaml by gatewayapi and
// served by a Gateway; requests go over real HTTP to echo backends, which
// report what they saw. Matching, attachment and status cases are in
// shared/gatewayapi's conformance test.
//
// Sluice serves every listener from one front door, so the listener a
// request came to is stood for by what Sluice reads: the Host header's port
// and X-Forwarded-Proto (HTTPRouteRedirectPortAndScheme). The retry tests
// (HTTPRouteRetry, HTTPRouteRetryConnectionError, HTTPRouteRetryWith*Timeout)
// have no counterpart: Sluice refuses a rule's retry field.

// confEcho is an echo backend: it answers with what it saw as JSON, sets
// the response headers asked for in X-Echo-Set-Header ("Name:value,..."),
// waits for ?delay=, and counts requests per path (for mirrors).
type confEcho struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newConfEcho(t *testing.T, name string) *confEcho {
	e := &confEcho{name: name, hits: map[string]int{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits[r.URL.Path]++
		e.mu.Unlock()
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			echoUpgraded(w)
			return
		}
		if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		for _, kv := range strings.Split(r.Header.Get("X-Echo-Set-Header"), ",") {
			if k, v, ok := strings.Cut(kv, ":"); ok {
				w.Header().Add(k, v)
			}
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echo{name, r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header, string(b)})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// echoUpgraded switches protocols and sends back every byte it gets.
func echoUpgraded(w http.ResponseWriter) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	brw.Flush()
	buf := make([]byte, 512)
	for {
		n, err := brw.Read(buf)
		if n > 0 {
			conn.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (e *confEcho) count(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits[path]
}

func (e *confEcho) port() string { return e.srv.URL[strings.LastIndexByte(e.srv.URL, ':')+1:] }

// gwCase is one request and what must come of it. Zero fields are not
// checked.
type gwCase struct {
	method, host, path string
	header             map[string]string
	// setResponse asks the backend to add these headers to its answer.
	setResponse map[string]string

	status   int    // 0: 200
	backend  string // the echo that answered: v1, v2, v3
	location string // for redirects
	// What the backend saw: its path and Host, headers (values joined by
	// ","), and headers it must not see.
	reqPath, reqHost string
	reqHeader        map[string]string
	reqAbsent        []string
	// What the client saw.
	respHeader map[string]string
	respAbsent []string
	// Echoes that must get a copy of the request.
	mirroredTo []string
}

func (c gwCase) String() string {
	m := c.method
	if m == "" {
		m = "GET"
	}
	return m + " " + c.host + c.path
}

// mod is the request header modifier several upstream manifests share, and
// modIn/modOut the request it gets and what the backend should see.
var (
	modIn     = map[string]string{"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1"}
	modOut    = map[string]string{"X-Header-Add": "header-val-1", "X-Header-Add-Append": "append-val-1,header-val-2", "X-Header-Set": "set-overwrites-values"}
	modAbsent = []string{"X-Header-Remove"}
)

// requestHeaderCases serve HTTPRouteRequestHeaderModifier and, with the
// filters on the backendRef, HTTPRouteBackendRequestHeaderModifier.
var requestHeaderCases = []gwCase{
	{path: "/set", header: map[string]string{"Some-Other-Header": "val"}, backend: "v1",
		reqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
	{path: "/set", header: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "some-other-value"}, backend: "v1",
		reqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
	{path: "/add", header: map[string]string{"Some-Other-Header": "val"}, backend: "v1",
		reqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"}},
	{path: "/add", header: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value"}, backend: "v1",
		reqHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"}},
	{path: "/remove", header: map[string]string{"X-Header-Remove": "val"}, backend: "v1", reqAbsent: []string{"X-Header-Remove"}},
	{path: "/multiple", header: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val"}, backend: "v1",
		reqHeader: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
			"X-Header-Add-2": "add-val-2,header-add-2", "X-Header-Add-3": "header-add-3", "Another-Header": "another-header-val"},
		reqAbsent: []string{"X-Header-Remove-1", "X-Header-Remove-2"}},
	{path: "/case-insensitivity", header: map[string]string{"x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"}, backend: "v1",
		reqHeader: map[string]string{"X-Header-Set": "header-set", "X-Header-Add": "original-val-add,header-add", "Another-Header": "another-header-val"},
		reqAbsent: []string{"X-Header-Remove"}},
}

var gwConformance = map[string][]gwCase{
	"HTTPRouteRedirectPath": {
		{path: "/original-prefix/lemon", status: 302, location: "http://gateway.test/replacement-prefix/lemon"},
		{path: "/full/path/original", status: 302, location: "http://gateway.test/full-path-replacement"},
		{path: "/path-and-host", status: 302, location: "http://example.org/replacement-prefix"},
		{path: "/path-and-status", status: 301, location: "http://gateway.test/replacement-prefix"},
		{path: "/full-path-and-host", status: 302, location: "http://example.org/replacement-full"},
		{path: "/full-path-and-status", status: 301, location: "http://gateway.test/replacement-full"},
		{path: "/original-prefix/lemon?x=1", status: 302, location: "http://gateway.test/replacement-prefix/lemon?x=1"}, // the query stays
	},
	"HTTPRouteRedirectHostAndStatus": {
		{path: "/hostname-redirect", status: 302, location: "http://example.org/hostname-redirect"},
		{path: "/host-and-status", status: 301, location: "http://example.org/host-and-status"},
	},
	"HTTPRouteRedirectPort": {
		{path: "/port", status: 302, location: "http://gateway.test:8083/port"},
		{path: "/port-and-host", status: 302, location: "http://example.org:8083/port-and-host"},
		{path: "/port-and-status", status: 301, location: "http://gateway.test:8083/port-and-status"},
		{path: "/port-and-host-and-status", status: 302, location: "http://example.org:8083/port-and-host-and-status"},
	},
	"HTTPRouteRedirectScheme": {
		{path: "/scheme", status: 302, location: "https://gateway.test/scheme"},
		{path: "/scheme-and-host", status: 302, location: "https://example.org/scheme-and-host"},
		{path: "/scheme-and-status", status: 301, location: "https://gateway.test/scheme-and-status"},
		{path: "/scheme-and-host-and-status", status: 302, location: "https://example.org/scheme-and-host-and-status"},
	},
	"HTTPRouteRedirectPortAndScheme": {
		// HTTP listener on 80
		{path: "/scheme-nil-and-port-nil", status: 302, location: "http://example.org/scheme-nil-and-port-nil"},
		{path: "/scheme-nil-and-port-80", status: 302, location: "http://example.org/scheme-nil-and-port-80"},
		{path: "/scheme-nil-and-port-8080", status: 302, location: "http://example.org:8080/scheme-nil-and-port-8080"},
		{path: "/scheme-https-and-port-nil", status: 302, location: "https://example.org/scheme-https-and-port-nil"},
		{path: "/scheme-https-and-port-443", status: 302, location: "https://example.org/scheme-https-and-port-443"},
		{path: "/scheme-https-and-port-8443", status: 302, location: "https://example.org:8443/scheme-https-and-port-8443"},
		// HTTP listener on 8080: without a scheme, the listener's port
		{host: "gateway.test:8080", path: "/scheme-nil-and-port-nil", status: 302, location: "http://example.org:8080/scheme-nil-and-port-nil"},
		{host: "gateway.test:8080", path: "/scheme-nil-and-port-80", status: 302, location: "http://example.org/scheme-nil-and-port-80"},
		{host: "gateway.test:8080", path: "/scheme-https-and-port-nil", status: 302, location: "https://example.org/scheme-https-and-port-nil"},
		// With a scheme and no port, the scheme's well-known port, even
		// when the scheme is the request's own (the Port field's rules).
		{host: "gateway.test:8080", path: "/scheme-http-and-port-nil", status: 302, location: "http://example.org/scheme-http-and-port-nil"},
		// HTTPS listener on 443
		{host: "example.org", header: https, path: "/scheme-nil-and-port-nil", status: 302, location: "https://example.org/scheme-nil-and-port-nil"},
		{host: "example.org", header: https, path: "/scheme-nil-and-port-443", status: 302, location: "https://example.org/scheme-nil-and-port-443"},
		{host: "example.org", header: https, path: "/scheme-nil-and-port-8443", status: 302, location: "https://example.org:8443/scheme-nil-and-port-8443"},
		{host: "example.org", header: https, path: "/scheme-http-and-port-nil", status: 302, location: "http://example.org/scheme-http-and-port-nil"},
		{host: "example.org", header: https, path: "/scheme-http-and-port-80", status: 302, location: "http://example.org/scheme-http-and-port-80"},
		{host: "example.org", header: https, path: "/scheme-http-and-port-8080", status: 302, location: "http://example.org:8080/scheme-http-and-port-8080"},
	},
	"HTTPRoute303Redirect": {{method: "POST", path: "/see-other", status: 303, location: "http://gateway.test/see-other"}},
	"HTTPRoute307Redirect": {{method: "POST", path: "/temporary", status: 307, location: "http://gateway.test/temporary"}},
	"HTTPRoute308Redirect": {{method: "POST", path: "/permanent", status: 308, location: "http://gateway.test/permanent"}},
	"HTTPRouteRewriteHost": {
		{host: "rewrite.example", path: "/one", backend: "v1", reqPath: "/one", reqHost: "one.example.org"},
		{host: "rewrite.example", path: "/two", backend: "v2", reqPath: "/two", reqHost: "example.org"},
		{host: "rewrite.example:8080", path: "/two", backend: "v2", reqHost: "example.org"}, // the port is not part of the hostname
		{host: "other.example", path: "/two", status: 404},
		{host: "rewrite.example", path: "/rewrite-host-and-modify-headers", header: modIn, backend: "v2",
			reqPath: "/rewrite-host-and-modify-headers", reqHost: "test.example.org", reqHeader: modOut, reqAbsent: modAbsent},
	},
	"HTTPRouteRewritePath": {
		{path: "/prefix/one/two", backend: "v1", reqPath: "/one/two"},
		{path: "/strip-prefix/three", backend: "v1", reqPath: "/three"},
		{path: "/strip-prefix", backend: "v1", reqPath: "/"},
		{path: "/full/one/two", backend: "v1", reqPath: "/one"},
		{path: "/full/rewrite-path-and-modify-headers/test", header: withSet(modIn), backend: "v1", reqPath: "/test", reqHeader: modOut, reqAbsent: modAbsent},
		{path: "/prefix/rewrite-path-and-modify-headers/one", header: withSet(modIn), backend: "v1", reqPath: "/prefix/one", reqHeader: modOut, reqAbsent: modAbsent},
	},
	"HTTPRouteRequestHeaderModifier":        requestHeaderCases,
	"HTTPRouteBackendRequestHeaderModifier": requestHeaderCases,
	"HTTPRouteBackendURLRewrite": {
		{path: "/whole/original", backend: "v1", reqPath: "/replaced"},
		{path: "/head/original", backend: "v2", reqPath: "/new-head/original"},
		{path: "/head", backend: "v2", reqPath: "/new-head"},
		{path: "/host/x", backend: "v3", reqPath: "/host/x", reqHost: "backend.example.org"},
	},
	"HTTPRouteResponseHeaderModifier": {
		{path: "/set", setResponse: map[string]string{"Some-Other-Header": "val"}, backend: "v1",
			respHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
		{path: "/set", setResponse: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "some-other-value"}, backend: "v1",
			respHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"}},
		{path: "/add", setResponse: map[string]string{"Some-Other-Header": "val"}, backend: "v1",
			respHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"}},
		{path: "/add", setResponse: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value"}, backend: "v1",
			respHeader: map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"}},
		{path: "/remove", setResponse: map[string]string{"X-Header-Remove": "val"}, backend: "v1", respAbsent: []string{"X-Header-Remove"}},
		{path: "/multiple", setResponse: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val", "X-Header-Remove-1": "val"}, backend: "v1",
			respHeader: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
				"X-Header-Add-2": "add-val-2,header-add-2", "X-Header-Add-3": "header-add-3", "Another-Header": "another-header-val"},
			respAbsent: []string{"X-Header-Remove-1", "X-Header-Remove-2"}},
		{path: "/case-insensitivity", setResponse: map[string]string{"x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"}, backend: "v1",
			respHeader: map[string]string{"X-Header-Set": "header-set", "X-Header-Add": "original-val-add,header-add", "X-Lowercase-Add": "lowercase-add",
				"X-Mixedcase-Add-1": "mixedcase-add-1", "X-Mixedcase-Add-2": "mixedcase-add-2", "X-Uppercase-Add": "uppercase-add", "Another-Header": "another-header-val"},
			respAbsent: []string{"X-Header-Remove"}},
		{path: "/response-and-request-header-modifiers", header: map[string]string{"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Echo": "echo"},
			setResponse: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val", "X-Header-Remove-1": "remove-val-1", "X-Header-Echo": "echo"},
			backend:     "v1",
			reqHeader:   map[string]string{"X-Header-Add": "header-val-1", "X-Header-Set": "set-overwrites-values", "X-Header-Add-Append": "append-val-1,header-val-2", "X-Header-Echo": "echo"},
			reqAbsent:   []string{"X-Header-Remove"},
			respHeader: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
				"X-Header-Add-2": "add-val-2,header-add-2", "Another-Header": "another-header-val", "X-Header-Echo": "echo"},
			respAbsent: []string{"X-Header-Remove-1", "X-Header-Remove-2"}},
	},
	"HTTPRouteRequestMirror": {
		{path: "/mirror", backend: "v1", reqPath: "/mirror", mirroredTo: []string{"v2"}},
		{path: "/mirror-and-modify-headers", header: modIn, backend: "v1", reqHeader: modOut, reqAbsent: modAbsent, mirroredTo: []string{"v2"}},
	},
	"HTTPRouteRequestMultipleMirrors": {
		{path: "/multi-mirror", backend: "v1", mirroredTo: []string{"v2", "v3"}},
		{path: "/multi-mirror-and-modify-request-headers", header: modIn, backend: "v1", reqHeader: modOut, reqAbsent: modAbsent, mirroredTo: []string{"v2", "v3"}},
	},
	"HTTPRouteTimeoutRequest": {
		{path: "/request-timeout", backend: "v1"},
		{path: "/request-timeout?delay=1s", status: 504},
		{path: "/disable-request-timeout?delay=1s", backend: "v1"},
	},
	"HTTPRouteTimeoutBackendRequest": {
		{path: "/backend-timeout", backend: "v1"},
		{path: "/backend-timeout?delay=1s", status: 504},
		{path: "/disable-backend-timeout?delay=1s", backend: "v1"},
	},
	"HTTPRouteCORS": {
		{method: "OPTIONS", path: "/cors-1", header: preflight3("https://www.foo.com", "GET", "x-header-1, x-header-2"), respHeader: cors1("https://www.foo.com")},
		{method: "OPTIONS", path: "/cors-1", header: preflight3("https://www.bar.com", "GET", "x-header-1, x-header-2"), respHeader: cors1("https://www.bar.com")},
		{method: "OPTIONS", path: "/cors-1", header: preflight3("https://xpto.www.bar.com", "GET", "x-header-1, x-header-2"), respHeader: cors1("https://xpto.www.bar.com")},
		{method: "OPTIONS", path: "/cors-1", header: preflight3("https://foobar.com", "GET", ""), respAbsent: []string{"Access-Control-Allow-Origin"}},
		{path: "/cors-1", header: preflight3("https://www.foo.com", "GET", "x-header-1, x-header-2"), backend: "v1",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "https://www.foo.com"}},
		{path: "/cors-1", header: preflight3("https://www.bar.com", "GET", "x-header-1, x-header-2"), backend: "v1",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "https://www.bar.com"}},
		{path: "/cors-1", header: preflight3("https://foobar.com", "GET", ""), backend: "v1", respAbsent: []string{"Access-Control-Allow-Origin"}},
		{method: "OPTIONS", path: "/cors-2", header: preflight3("https://www.foo.com", "POST", ""),
			respHeader: map[string]string{"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Origin": "https://www.foo.com"},
			respAbsent: []string{"Access-Control-Allow-Credentials"}},
		{method: "OPTIONS", path: "/cors-wildcard-origin", header: preflight3("https://foobar.com", "PUT", ""),
			respHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT"},
			respAbsent: []string{"Access-Control-Allow-Credentials"}},
		{method: "OPTIONS", path: "/cors-wildcard-origin", header: preflight3("https://foobar.com:12345", "PUT", ""),
			respHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT"},
			respAbsent: []string{"Access-Control-Allow-Credentials"}},
		{method: "PUT", path: "/cors-wildcard-origin", header: map[string]string{"Origin": "https://foobar.com:12345"}, backend: "v1",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "*"}},
		{method: "PUT", path: "/cors-wildcard-origin", header: map[string]string{"Origin": "https://foobar.com"}, backend: "v1",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "*"}, respAbsent: []string{"Access-Control-Allow-Credentials"}},
		{method: "OPTIONS", path: "/cors-wildcard-methods-headers", header: preflight3("https://other.foo.com", "PUT", "x-header-1, x-header-2"),
			respHeader: map[string]string{"Access-Control-Allow-Origin": "https://other.foo.com", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Allow-Credentials": "true"}},
		{method: "OPTIONS", path: "/cors-wildcard-methods-headers-unauth", header: preflight3("https://other.foo.com", "PUT", "x-header-1, x-header-2"),
			respHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "x-header-1, x-header-2"},
			respAbsent: []string{"Access-Control-Allow-Credentials"}},
		{path: "/cors-wildcard-methods-headers", header: map[string]string{"Origin": "https://other.foo.com"}, backend: "v1",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "https://other.foo.com", "Access-Control-Allow-Credentials": "true"}},
		{path: "/cors-wildcard-methods-headers-unauth", header: map[string]string{"Origin": "https://other.foo.com"}, backend: "v1",
			respHeader: map[string]string{"Access-Control-Allow-Origin": "*"}, respAbsent: []string{"Access-Control-Allow-Credentials"}},
	},
	// Distributions: these send many requests and check shares.
	"HTTPRouteWeight": nil,
	"HTTPRouteRequestHeaderModifierBackendWeights": nil,
	"HTTPRouteRequestPercentageMirror":             nil,
	"HTTPRouteBackendProtocolWebSocket":            nil,
}

var https = map[string]string{"X-Forwarded-Proto": "https"}

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

// confGateway serves one manifest, compiled with the base, in front of the
// echoes.
type confGateway struct {
	url    string
	echoes map[string]*confEcho
	client *http.Client
}

func TestConformance(t *testing.T) {
	files, _ := filepath.Glob("testdata/conformance/HTTPRoute*.yaml")
	if len(files) != len(gwConformance) {
		t.Errorf("%d manifests in testdata/conformance, %d tests here", len(files), len(gwConformance))
	}
	echoes := map[string]*confEcho{}
	for _, name := range []string{"v1", "v2", "v3"} {
		echoes[name] = newConfEcho(t, name)
	}
	base, err := os.ReadFile("testdata/conformance/_base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, cases := range gwConformance {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := serveManifest(t, base, "testdata/conformance/"+name+".yaml", echoes)
			switch name {
			case "HTTPRouteWeight":
				g.weights(t)
			case "HTTPRouteRequestHeaderModifierBackendWeights":
				g.backendWeightFilters(t)
			case "HTTPRouteRequestPercentageMirror":
				g.percentageMirrors(t)
			case "HTTPRouteBackendProtocolWebSocket":
				g.webSocket(t)
			}
			for _, c := range cases {
				t.Run(c.String(), func(t *testing.T) { g.check(t, c) })
			}
		})
	}
}

func serveManifest(t *testing.T, base []byte, file string, echoes map[string]*confEcho) *confGateway {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ports := strings.NewReplacer("{{v1}}", echoes["v1"].port(), "{{v2}}", echoes["v2"].port(), "{{v3}}", echoes["v3"].port())
	objs, probs := gatewayapi.Validate(map[string][]byte{"_base.yaml": []byte(ports.Replace(string(base))), file: []byte(ports.Replace(string(b)))})
	for _, p := range probs {
		t.Errorf("problem: %s", p)
	}
	tab, err := gatewayapi.Compile(objs, 1, time.Unix(0, 0), func(*gatewayapi.Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	_, k := ledger.NewKey("k", "", time.Now())
	g, err := New(Config{Providers: testProviders, Rand: new(cycle).IntN}, staticTables{tab}, ledger.NewAuthenticator(keyMap{k.ID: k}, 0, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &confGateway{url: srv.URL, echoes: echoes, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request with the given Host (default gateway.test, standing
// for a listener on port 80) and decodes the echo's answer if there is one.
func (g *confGateway) do(t *testing.T, method, host, path string, header, setResponse map[string]string) (*http.Response, echo) {
	t.Helper()
	if method == "" {
		method = "GET"
	}
	if host == "" {
		host = "gateway.test"
	}
	req, err := http.NewRequest(method, g.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = []string{v} // as sent, not canonicalised
	}
	var set []string
	for k, v := range setResponse {
		set = append(set, k+":"+v)
	}
	if len(set) > 0 {
		req.Header.Set("X-Echo-Set-Header", strings.Join(set, ","))
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	if resp.Header.Get("Content-Type") == "application/json" {
		json.NewDecoder(resp.Body).Decode(&e)
	}
	return resp, e
}

func (g *confGateway) check(t *testing.T, c gwCase) {
	mirrored := map[string]int{}
	path, _, _ := strings.Cut(c.path, "?")
	for _, m := range c.mirroredTo {
		mirrored[m] = g.echoes[m].count(path)
	}
	resp, e := g.do(t, c.method, c.host, c.path, c.header, c.setResponse)
	want := c.status
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
	if c.location != "" && resp.Header.Get("Location") != c.location {
		t.Errorf("Location %q, want %q", resp.Header.Get("Location"), c.location)
	}
	if c.backend != "" && e.Backend != c.backend {
		t.Errorf("answered by %q, want %q", e.Backend, c.backend)
	}
	if c.reqPath != "" && e.Path != c.reqPath {
		t.Errorf("backend saw path %q, want %q", e.Path, c.reqPath)
	}
	if c.reqHost != "" && e.Host != c.reqHost {
		t.Errorf("backend saw Host %q, want %q", e.Host, c.reqHost)
	}
	for k, v := range c.reqHeader {
		if got := strings.Join(e.Header.Values(k), ","); got != v {
			t.Errorf("backend saw %s: %q, want %q", k, got, v)
		}
	}
	for _, k := range c.reqAbsent {
		if v := e.Header.Values(k); len(v) > 0 {
			t.Errorf("backend saw %s: %q, want none", k, v)
		}
	}
	for k, v := range c.respHeader {
		if got := strings.Join(resp.Header.Values(k), ","); got != v {
			t.Errorf("response %s: %q, want %q", k, got, v)
		}
	}
	for _, k := range c.respAbsent {
		if v := resp.Header.Values(k); len(v) > 0 {
			t.Errorf("response %s: %q, want none", k, v)
		}
	}
	for m, before := range mirrored {
		deadline := time.Now().Add(5 * time.Second)
		for g.echoes[m].count(path) == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if g.echoes[m].count(path) == before {
			t.Errorf("mirror %s got no copy of %s", m, path)
		}
	}
}

// cycle is the gateways' Config.Rand here: for each n it draws 0, 1, ...,
// n-1 and over again, so n requests through a choice out of n see every
// draw once and the shares come out exact.
type cycle struct {
	mu   sync.Mutex
	next map[int]int
}

func (c *cycle) IntN(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[int]int{}
	}
	x := c.next[n]
	c.next[n] = (x + 1) % n
	return x
}

// weights: 70/30/0 between v1, v2 and v3; weight 0 gets nothing.
func (g *confGateway) weights(t *testing.T) {
	const total = 100 // the sum of the weights: one full cycle of draws
	got := map[string]int{}
	for range total {
		resp, e := g.do(t, "GET", "", "/", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		got[e.Backend]++
	}
	if got["v1"] != 70 || got["v2"] != 30 || got["v3"] != 0 {
		t.Errorf("distribution %v over %d requests, want 70%% v1, 30%% v2, none to v3", got, total)
	}
}

// backendWeightFilters: each ref's own header modifier applies only when
// that ref is chosen.
func (g *confGateway) backendWeightFilters(t *testing.T) {
	seen := map[string]int{}
	for range 20 { // the sum of the weights (10 and 10)
		_, e := g.do(t, "GET", "", "/", nil, nil)
		if got := e.Header.Values("Backend"); len(got) != 1 || got[0] != "infra-backend-"+e.Backend {
			t.Fatalf("backend %s saw Backend: %v", e.Backend, got)
		}
		seen[e.Backend]++
	}
	if seen["v1"] != 10 || seen["v2"] != 10 {
		t.Errorf("distribution %v: want 10 to each backend", seen)
	}
}

// percentageMirrors: a percent or a fraction of the requests is copied to
// v2; every request is answered by v1.
func (g *confGateway) percentageMirrors(t *testing.T) {
	const total = 100 // one full cycle of the percent draws
	for path, want := range map[string]int{"/percent-mirror": 20, "/percent-mirror-fraction": 50, "/percent-mirror-and-modify-headers": 35} {
		before := g.echoes["v2"].count(path)
		for range total {
			resp, e := g.do(t, "GET", "", path, nil, nil)
			if resp.StatusCode != http.StatusOK || e.Backend != "v1" {
				t.Fatalf("%s: status %d from %q", path, resp.StatusCode, e.Backend)
			}
		}
		// Mirrors are sent in the background: wait for them.
		deadline := time.Now().Add(10 * time.Second)
		for g.echoes["v2"].count(path)-before < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := g.echoes["v2"].count(path) - before; n != want {
			t.Errorf("%s: %d of %d mirrored, want %d", path, n, total, want)
		}
	}
}

// webSocket upgrades a connection through the gateway and sends a text and
// a binary message (as raw frames: the proxy passes bytes through) and
// reads each back.
func (g *confGateway) webSocket(t *testing.T) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: gateway.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	for _, msg := range [][]byte{
		{0x81, 18, 'W', 'e', 'b', 's', 'o', 'c', 'k', 'e', 't', ' ', 'S', 'u', 'p', 'p', 'o', 'r', 't', '!'}, // text frame
		{0x82, 7, 1, 2, 3, 4, 5, 6, 7}, // binary frame
	} {
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %q %v, want %q", got, err, msg)
		}
	}
}
