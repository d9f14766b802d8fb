package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/route"
)

// echo is what an echo backend saw.
type echo struct {
	Backend string
	Method  string
	Path    string
	Query   string
	Host    string
	Header  http.Header
	Body    string
}

func echoServer(t *testing.T, name string, hits *atomic.Int32) string {
	t.Helper()
	return gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		if strings.HasSuffix(r.URL.Path, "/slow") {
			io.Copy(io.Discard, r.Body) // so the server notices the client leave
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend-Header", "keep")
		w.Header().Set("X-Drop-Me", "x")
		json.NewEncoder(w).Encode(echo{name, r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header, string(b)})
	}))
}

func serviceRoute(path route.PathMatch, filters route.Filters, refs ...route.BackendRef) (route.Entry, route.Rule) {
	return route.Entry{Match: route.Match{Path: path}, RouteName: "ns/r"}, route.Rule{Route: "ns/r", Backends: refs, Filters: filters}
}

func TestHTTPRoutes(t *testing.T) {
	var mirrorHits atomic.Int32
	a, b := echoServer(t, "a", nil), echoServer(t, "b", nil)
	mirror := echoServer(t, "mirror", &mirrorHits)
	tab := &route.Table{Version: 1, Backends: []route.Backend{
		{Name: "Service/ns/a:80", Kind: route.KindService, Endpoint: a, Endpoints: []string{a}},
		{Name: "Service/ns/b:80", Kind: route.KindService, Endpoint: b, Endpoints: []string{b}},
		{Name: "Service/ns/mirror:80", Kind: route.KindService, Endpoint: mirror, Endpoints: []string{mirror}},
	}}
	add := func(path route.PathMatch, f route.Filters, refs ...route.BackendRef) *route.Rule {
		e, r := serviceRoute(path, f, refs...)
		tab.Rules = append(tab.Rules, r)
		e.Rule = len(tab.Rules) - 1
		e.RuleIndex = e.Rule
		tab.Entries = append(tab.Entries, e)
		return &tab.Rules[len(tab.Rules)-1]
	}
	prefix := func(p string) route.PathMatch { return route.PathMatch{Type: route.PathPrefix, Value: p} }
	toA := route.BackendRef{Backend: 0, Weight: 1}
	add(prefix("/plain"), route.Filters{}, toA)
	add(prefix("/headers"), route.Filters{
		RequestHeaders:  &route.HeaderModifier{Set: []route.Header{{Name: "x-set", Value: "s"}}, Add: []route.Header{{Name: "x-add", Value: "2"}}, Remove: []string{"x-remove"}},
		ResponseHeaders: &route.HeaderModifier{Add: []route.Header{{Name: "x-resp", Value: "r"}}, Remove: []string{"x-drop-me"}},
	}, toA)
	add(prefix("/prefix"), route.Filters{Rewrite: &route.Rewrite{Path: &route.PathModifier{Type: "ReplacePrefixMatch", Value: "/new"}, Hostname: "rewritten.example"}}, toA)
	add(prefix("/strip"), route.Filters{Rewrite: &route.Rewrite{Path: &route.PathModifier{Type: "ReplacePrefixMatch", Value: "/"}}}, toA)
	add(prefix("/full"), route.Filters{Rewrite: &route.Rewrite{Path: &route.PathModifier{Type: "ReplaceFullPath", Value: "/replaced"}}}, toA)
	add(prefix("/redirect"), route.Filters{Redirect: &route.Redirect{Scheme: "https", Hostname: "new.example", StatusCode: 301,
		Path: &route.PathModifier{Type: "ReplacePrefixMatch", Value: "/moved"}}})
	add(prefix("/redirect-port"), route.Filters{Redirect: &route.Redirect{Port: 8443}})
	add(prefix("/weights"), route.Filters{}, route.BackendRef{Backend: 0, Weight: 0}, route.BackendRef{Backend: 1, Weight: 1})
	add(prefix("/zero"), route.Filters{}, route.BackendRef{Backend: 0, Weight: 0})
	add(prefix("/invalid"), route.Filters{}, route.BackendRef{Backend: -1, Weight: 1})
	add(prefix("/mirror"), route.Filters{Mirrors: []route.Mirror{{Backend: 2, Percent: 100}}}, toA)
	add(prefix("/per-ref"), route.Filters{}, route.BackendRef{Backend: 1, Weight: 1, Filters: route.Filters{
		RequestHeaders: &route.HeaderModifier{Set: []route.Header{{Name: "x-ref", Value: "b"}}}}})
	add(prefix("/cors"), route.Filters{CORS: &route.CORS{AllowOrigins: []string{"https://*.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"content-type"}, ExposeHeaders: []string{"x-backend-header"}, MaxAge: 600, AllowCredentials: true}}, toA)
	add(prefix("/timeout"), route.Filters{}, toA)
	tab.Rules[len(tab.Rules)-1].Timeout = 100 * time.Millisecond
	gw := gatewaytest.New(t, gatewaytest.Prepared(t, tab))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
		check  func(t *testing.T, e echo, resp *http.Response)
	}{
		{name: "no route is 404", path: "/nowhere", status: 404},
		{name: "plain proxy keeps method, path, query, host, body", method: "POST", path: "/plain/x?q=1", status: 200, check: func(t *testing.T, e echo, resp *http.Response) {
			if e.Backend != "a" || e.Method != "POST" || e.Path != "/plain/x" || e.Query != "q=1" || !strings.HasPrefix(e.Host, "127.0.0.1") || e.Body != "body" {
				t.Errorf("echo %+v", e)
			}
			if e.Header.Get("X-Forwarded-For") == "" {
				t.Error("no X-Forwarded-For")
			}
		}},
		{name: "header modifiers", path: "/headers", header: map[string]string{"X-Set": "old", "X-Add": "1", "X-Remove": "bye"}, status: 200, check: func(t *testing.T, e echo, resp *http.Response) {
			if e.Header.Get("X-Set") != "s" || strings.Join(e.Header.Values("X-Add"), ",") != "1,2" || e.Header.Get("X-Remove") != "" {
				t.Errorf("request headers %v", e.Header)
			}
			if resp.Header.Get("X-Resp") != "r" || resp.Header.Get("X-Drop-Me") != "" || resp.Header.Get("X-Backend-Header") != "keep" {
				t.Errorf("response headers %v", resp.Header)
			}
		}},
		{name: "prefix rewrite and hostname", path: "/prefix/x/y", status: 200, check: func(t *testing.T, e echo, _ *http.Response) {
			if e.Path != "/new/x/y" || e.Host != "rewritten.example" {
				t.Errorf("echo %+v", e)
			}
		}},
		{name: "prefix rewrite of the prefix itself", path: "/prefix", status: 200, check: func(t *testing.T, e echo, _ *http.Response) {
			if e.Path != "/new" {
				t.Errorf("path %s", e.Path)
			}
		}},
		{name: "prefix rewrite to / never gives //", path: "/strip/x", status: 200, check: func(t *testing.T, e echo, _ *http.Response) {
			if e.Path != "/x" {
				t.Errorf("path %s", e.Path)
			}
		}},
		{name: "full path rewrite", path: "/full/anything", status: 200, check: func(t *testing.T, e echo, _ *http.Response) {
			if e.Path != "/replaced" {
				t.Errorf("path %s", e.Path)
			}
		}},
		{name: "redirect with scheme change drops the port", path: "/redirect/a?x=1", status: 301, check: func(t *testing.T, _ echo, resp *http.Response) {
			if loc := resp.Header.Get("Location"); loc != "https://new.example/moved/a?x=1" {
				t.Errorf("Location %s", loc)
			}
		}},
		{name: "redirect to a port", path: "/redirect-port", status: 302, check: func(t *testing.T, _ echo, resp *http.Response) {
			if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, ":8443/redirect-port") || !strings.HasPrefix(loc, "http://127.0.0.1:") {
				t.Errorf("Location %s", loc)
			}
		}},
		{name: "weight 0 gets no traffic", path: "/weights", status: 200, check: func(t *testing.T, e echo, _ *http.Response) {
			if e.Backend != "b" {
				t.Errorf("backend %s", e.Backend)
			}
		}},
		{name: "all weights 0 is a 500", path: "/zero", status: 500},
		{name: "invalid ref is a 500", path: "/invalid", status: 500},
		{name: "per-ref filter", path: "/per-ref", status: 200, check: func(t *testing.T, e echo, _ *http.Response) {
			if e.Header.Get("X-Ref") != "b" {
				t.Errorf("headers %v", e.Header)
			}
		}},
		{name: "cors on a request", path: "/cors", header: map[string]string{"Origin": "https://app.example.com"}, status: 200, check: func(t *testing.T, _ echo, resp *http.Response) {
			if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" || resp.Header.Get("Access-Control-Expose-Headers") != "x-backend-header" {
				t.Errorf("headers %v", resp.Header)
			}
		}},
		{name: "cors preflight", method: "OPTIONS", path: "/cors", header: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}, status: 200, check: func(t *testing.T, _ echo, resp *http.Response) {
			if resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST" || resp.Header.Get("Access-Control-Max-Age") != "600" || resp.Header.Get("Access-Control-Allow-Headers") != "content-type" {
				t.Errorf("headers %v", resp.Header)
			}
		}},
		{name: "cors origin not allowed", path: "/cors", header: map[string]string{"Origin": "https://evil.test"}, status: 200, check: func(t *testing.T, _ echo, resp *http.Response) {
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("headers %v", resp.Header)
			}
		}},
		{name: "timeout is a 504", path: "/timeout/slow", status: 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequest(method, gw.URL+tt.path, strings.NewReader("body"))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			var e echo
			if resp.Header.Get("Content-Type") == "application/json" {
				json.NewDecoder(resp.Body).Decode(&e)
			}
			if tt.check != nil {
				tt.check(t, e, resp)
			}
		})
	}
	t.Run("mirror gets a copy", func(t *testing.T) {
		resp, err := client.Get(gw.URL + "/mirror")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
		deadline := time.Now().Add(5 * time.Second)
		for mirrorHits.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if mirrorHits.Load() != 1 {
			t.Fatalf("mirror saw %d requests", mirrorHits.Load())
		}
	})
}
