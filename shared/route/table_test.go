package route

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func entry(route string, m Match) Entry {
	return Entry{RouteName: route, Match: m, Created: time.Unix(0, 0)}
}

// build makes a table with one rule per entry, named by its route.
func build(t testing.TB, entries ...Entry) *Table {
	t.Helper()
	tab := &Table{}
	for i := range entries {
		tab.Rules = append(tab.Rules, Rule{Route: entries[i].RouteName})
		entries[i].Rule = i
	}
	tab.Entries = entries
	if err := tab.Prepare(); err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestMatchPrecedence(t *testing.T) {
	tab := build(t,
		entry("prefix-root", Match{Path: PathMatch{Type: PathPrefix, Value: "/"}}),
		entry("prefix-v1", Match{Path: PathMatch{Type: PathPrefix, Value: "/v1/"}}),
		entry("prefix-v1-chat", Match{Path: PathMatch{Type: PathPrefix, Value: "/v1/chat"}}),
		entry("exact-models", Match{Path: PathMatch{Type: PathExact, Value: "/v1/models"}}),
		entry("regex", Match{Path: PathMatch{Type: PathRegex, Value: "/v[0-9]+/chat/.*"}}),
		entry("v1-post", Match{Path: PathMatch{Type: PathPrefix, Value: "/v1"}, Method: "POST"}),
		entry("v1-model", Match{Path: PathMatch{Type: PathPrefix, Value: "/v1"}, Method: "POST",
			Headers: []ValueMatch{{Name: "x-sluice-model", Value: "gpt-4o"}}}),
		entry("v1-model-re", Match{Path: PathMatch{Type: PathPrefix, Value: "/v1"},
			Headers: []ValueMatch{{Name: "X-Sluice-Model", Value: "claude-.*", Regex: true}}}),
		entry("v1-query", Match{Path: PathMatch{Type: PathPrefix, Value: "/v1"}, Query: []ValueMatch{{Name: "debug", Value: "1"}}}),
	)
	tests := []struct {
		name, method, target string
		header               map[string]string
		want                 string
	}{
		{"exact beats longer prefix", "GET", "/v1/models", nil, "exact-models"},
		{"longest prefix", "GET", "/v1/chat/completions", nil, "prefix-v1-chat"},
		{"prefix is segment-wise", "GET", "/v1/chatty", nil, "prefix-v1"},
		{"trailing slash not significant", "GET", "/v1", nil, "prefix-v1"},
		{"prefix before regex", "GET", "/v2/chat/x", nil, "prefix-root"},
		{"method beats no method at same prefix", "POST", "/v1/embeddings", nil, "v1-post"},
		{"headers count after method", "POST", "/v1/embeddings", map[string]string{"X-Sluice-Model": "gpt-4o"}, "v1-model"},
		{"header names are case-insensitive, regex value", "GET", "/v1/x", map[string]string{"x-sluice-model": "claude-3"}, "v1-model-re"},
		{"regex is anchored", "GET", "/v1/x", map[string]string{"x-sluice-model": "my-claude-3"}, "prefix-v1"},
		{"query param", "GET", "/v1/x?debug=1", nil, "v1-query"},
		{"query value must match", "GET", "/v1/x?debug=2", nil, "prefix-v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			got, _ := tab.Match(r, "example.com")
			if got == nil || got.Route != tt.want {
				t.Fatalf("matched %v, want %s", got, tt.want)
			}
		})
	}
}

func TestTieBreaks(t *testing.T) {
	m := Match{Path: PathMatch{Type: PathPrefix, Value: "/v1"}}
	older := entry("ns/b-older", m)
	older.Created = time.Unix(0, 0)
	newer := entry("ns/a-newer", m)
	newer.Created = time.Unix(10, 0)
	if got, _ := build(t, newer, older).Match(httptest.NewRequest("GET", "/v1", nil), ""); got.Route != "ns/b-older" {
		t.Fatalf("older route should win, got %s", got.Route)
	}
	a, b := entry("ns/a", m), entry("ns/b", m)
	if got, _ := build(t, b, a).Match(httptest.NewRequest("GET", "/v1", nil), ""); got.Route != "ns/a" {
		t.Fatalf("alphabetical should win, got %s", got.Route)
	}
}

func TestHostnamesWithCatchAll(t *testing.T) {
	e1 := entry("wild", Match{})
	e1.Hostnames = []string{"*.example.com"}
	tab := build(t, e1, entry("any", Match{}))
	for host, want := range map[string]string{"a.example.com": "wild", "example.com": "any", "other.org": "any"} {
		if got, _ := tab.Match(httptest.NewRequest("GET", "/", nil), host); got == nil || got.Route != want {
			t.Errorf("%s: got %v, want %s", host, got, want)
		}
	}
}

func TestHostnames(t *testing.T) {
	e1 := entry("wild", Match{})
	e1.Hostnames = []string{"*.example.com"}
	e2 := entry("exact", Match{})
	e2.Hostnames = []string{"api.example.org"}
	e3 := entry("longer-wild", Match{Path: PathMatch{Type: PathExact, Value: "/only"}})
	e3.Hostnames = []string{"*.b.example.com"}
	tab := build(t, e1, e2, e3)
	tests := []struct{ host, want string }{
		{"a.example.com", "wild"},
		{"x.a.example.com", "wild"},
		{"example.com", ""},
		{"api.example.org", "exact"},
		{"other.org", ""},
		// The most specific hostname's routes alone are matched: its
		// routes don't match "/", and nothing falls back to "*.example.com".
		{"c.b.example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, _ := tab.Match(httptest.NewRequest("GET", "/", nil), tt.host)
			name := ""
			if got != nil {
				name = got.Route
			}
			if name != tt.want {
				t.Fatalf("got %q, want %q", name, tt.want)
			}
		})
	}
}

// BenchmarkMatch1000 matches against 1,000 model routes, the worst case
// being the last model in precedence order.
func BenchmarkMatch1000(b *testing.B) {
	var entries []Entry
	for i := 0; i < 1000; i++ {
		entries = append(entries, entry(fmt.Sprintf("ns/r%04d", i), Match{
			Path:    PathMatch{Type: PathPrefix, Value: "/v1"},
			Headers: []ValueMatch{{Name: ModelHeader, Value: fmt.Sprintf("model-%d", i)}},
		}))
	}
	tab := build(b, entries...)
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header.Set(ModelHeader, "model-999")
	b.ReportAllocs()
	for b.Loop() {
		if rule, _ := tab.Match(r, "example.com"); rule == nil {
			b.Fatal("no match")
		}
	}
}

// TestEquivalentNames: of header matches with equivalent names (compared
// case-insensitively) and query matches with the same name, only the first
// counts, for matching and for precedence (HTTPHeaderMatch.Name,
// HTTPQueryParamMatch.Name).
func TestEquivalentNames(t *testing.T) {
	tab := build(t,
		entry("ns/header-twice", Match{Headers: []ValueMatch{{Name: "x-a", Value: "1"}, {Name: "X-A", Value: "2"}}}),
		entry("ns/query-twice", Match{Query: []ValueMatch{{Name: "q", Value: "1"}, {Name: "q", Value: "2"}}}),
		entry("ns/two-headers", Match{Headers: []ValueMatch{{Name: "x-b", Value: "1"}, {Name: "x-c", Value: "1"}}}),
	)
	tests := []struct {
		name, target string
		header       map[string]string
		want         string
	}{
		{"the later header match is ignored", "/", map[string]string{"X-A": "1"}, "ns/header-twice"},
		{"the ignored value does not match", "/", map[string]string{"X-A": "2"}, ""},
		{"the later query match is ignored", "/?q=1", nil, "ns/query-twice"},
		{"query names are case-sensitive", "/?Q=1", nil, ""},
		// header-twice counts one header match, two-headers two.
		{"ignored matches don't count for precedence", "/", map[string]string{"X-A": "1", "X-B": "1", "X-C": "1"}, "ns/two-headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			got := ""
			if rule, _ := tab.Match(r, "example.com"); rule != nil {
				got = rule.Route
			}
			if got != tt.want {
				t.Fatalf("matched %q, want %q", got, tt.want)
			}
		})
	}
}
