package gatewayapi

import (
	"net/http/httptest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestAttachment checks listener selection, namespaces, hostname
// intersection, ReferenceGrants and Service resolution over a multi-team set.
func TestAttachment(t *testing.T) {
	objs, probs := load(t, "testdata/attach")
	var got []string
	for _, p := range probs {
		got = append(got, p.Reason+" "+p.Kind+"/"+p.Ref+" "+p.Field)
	}
	sort.Strings(got)
	want := []string{
		"NotAllowedByListeners HTTPRoute/team-a/sneaky spec.parentRefs[0]",
		"RefNotPermitted HTTPRoute/team-b/legacy spec.rules[1].backendRefs[0].namespace",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host, path, model string
		want                    string // backend name, "500" for an invalid ref, "" for no match
	}{
		{"ai listener", "ai.example.com", "/v1/chat/completions", "gpt-4o-mini", "team-a/openai"},
		{"ai route is only on its listener's hostname", "a.apps.example.com", "/v1/chat/completions", "gpt-4o-mini", "Service/team-b/search:8080"},
		{"route hostname inside the wildcard listener", "a.apps.example.com", "/anything", "", "Service/team-b/search:8080"},
		{"route hostname outside the listener is dropped", "other.example.org", "/", "", ""},
		{"wildcard route on wildcard listener", "b.apps.example.com", "/legacy/x", "", "Service/team-b/legacy:80"},
		{"most specific hostname wins, no fall-back", "a.apps.example.com", "/legacy", "", "Service/team-b/search:8080"},
		{"ungranted cross-namespace ref gets a 500", "b.apps.example.com", "/ai", "", "500"},
		{"rejected route serves nothing", "internal", "/", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.model != "" {
				r.Header.Set("X-Sluice-Model", tt.model)
			}
			rule, _ := tab.Match(r, tt.host)
			got := ""
			if rule != nil {
				got = "500"
				if b := rule.Backends[0].Backend; b >= 0 {
					got = tab.Backends[b].Name
				}
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, b := range tab.Backends {
		if b.Name == "Service/team-b/search:8080" && strings.Join(b.Endpoints, ",") != "http://127.0.0.1:18080" {
			t.Errorf("search endpoints %v: want only the ready address, on the slice's port", b.Endpoints)
		}
		if b.Name == "Service/team-b/legacy:80" && b.Endpoint != "http://legacy.internal.example:80" {
			t.Errorf("ExternalName endpoint %s", b.Endpoint)
		}
	}
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		listener string
		route    []string
		want     string
	}{
		{"", nil, "*any*"},
		{"", []string{"a.com"}, "a.com"},
		{"a.com", nil, "a.com"},
		{"*.example.com", []string{"foo.example.com", "*.bar.example.com", "example.com", "*.com"}, "foo.example.com,*.bar.example.com,*.example.com"},
		{"foo.example.com", []string{"*.example.com", "bar.example.com"}, "foo.example.com"},
	}
	for _, tt := range tests {
		var rh []gwv1.Hostname
		for _, h := range tt.route {
			rh = append(rh, gwv1.Hostname(h))
		}
		hosts, origins, anyHost := intersect(tt.listener, rh)
		got := strings.Join(hosts, ",")
		if len(origins) != len(hosts) {
			t.Errorf("intersect(%q, %v): %d origins for %d hostnames", tt.listener, tt.route, len(origins), len(hosts))
		}
		if anyHost {
			got = "*any*"
		}
		if got != tt.want {
			t.Errorf("intersect(%q, %v) = %s, want %s", tt.listener, tt.route, got, tt.want)
		}
	}
}

func TestStatus(t *testing.T) {
	objs, _ := load(t, "testdata/attach")
	SetStatus(objs, time.Unix(100, 0))
	idx := index(objs)
	route := func(key string) string {
		r := idx[key].Value.(*gwv1.HTTPRoute)
		var out []string
		for _, p := range r.Status.Parents {
			for _, c := range p.Conditions {
				out = append(out, c.Type+"="+string(c.Status)+"/"+c.Reason)
			}
		}
		return strings.Join(out, " ")
	}
	tests := []struct{ key, want string }{
		{"HTTPRoute/team-a/chat", "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"},
		{"HTTPRoute/team-a/sneaky", "Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs"},
		{"HTTPRoute/team-b/legacy", "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"},
	}
	for _, tt := range tests {
		if got := route(tt.key); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.key, got, tt.want)
		}
	}
	g := idx["Gateway/platform/shared"].Value.(*gwv1.Gateway)
	counts := map[string]int32{}
	for _, l := range g.Status.Listeners {
		counts[string(l.Name)] = l.AttachedRoutes
	}
	if counts["ai"] != 2 || counts["apps"] != 2 || counts["internal"] != 0 {
		t.Errorf("attached routes %v", counts)
	}
	if c := g.Status.Conditions[0]; c.Type != "Accepted" || c.Status != "True" {
		t.Errorf("gateway condition %+v", c)
	}
}

func TestInferencePool(t *testing.T) {
	objs, _ := load(t, "testdata/attach")
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header.Set("X-Sluice-Model", "llama-3")
	rule, _ := tab.Match(r, "ai.example.com")
	if rule == nil || rule.Backends[0].Pool == 0 {
		t.Fatalf("rule %+v: want a pool ref", rule)
	}
	pool := tab.Pools[rule.Backends[0].Pool-1]
	var members []string
	for _, m := range pool.Members {
		members = append(members, tab.Backends[m].Name)
	}
	if strings.Join(members, ",") != "team-c/vllm-1,team-c/vllm-2" {
		t.Errorf("members %v", members)
	}
	if pool.Objectives["chat"] != 10 || pool.Objectives["batch"] != -1 {
		t.Errorf("objectives %v", pool.Objectives)
	}
}
