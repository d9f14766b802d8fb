package route

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// FuzzMatch builds a random table and a random request from the fuzz input
// and compares Table.Match with refMatch, a slow reference that follows the
// specification's wording step by step: it looks at every match of every
// rule of every route, keeps those that match, sorts them by the full
// precedence order and takes the first.
func FuzzMatch(f *testing.F) {
	for _, seed := range []string{
		"",
		"\x00",
		"\x05\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
		"\x03\x00\x01\x00\x02\x02\x02\x01\x01\x03\x00\x02\x01\x01\x00\x01\x02\x03",
		"\x02\x01\x02\x01\x01\x01\x01\x03\x01\x02\x00\x02\x01\x00\x04\x02\x02\x00",
		"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef\xee\xed",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{b: data}
		routes := in.routes()
		tab := tableOf(t, routes)
		r, host := in.request()
		want, wantOK := refMatch(routes, r, host)
		rule, e := tab.Match(r, host)
		if (rule != nil) != wantOK {
			t.Fatalf("%s %s%s %v: Match found %v, reference found %v\nroutes: %s", r.Method, host, r.URL, r.Header, e != nil, wantOK, dump(routes))
		}
		if !wantOK {
			return
		}
		got := refPick{route: e.RouteName, rule: e.RuleIndex, match: e.MatchIdx}
		if got != want || rule.Route != e.RouteName {
			t.Fatalf("%s %s%s %v: Match picked %+v (rule of %s), reference picked %+v\nroutes: %s", r.Method, host, r.URL, r.Header, got, rule.Route, want, dump(routes))
		}
	})
}

// The fuzz model: routes as a manifest declares them, kept apart from the
// Table so that Prepare cannot change what the reference sees.
type fuzzRoute struct {
	name      string // namespace/name
	created   time.Time
	hostnames []string
	rules     [][]fuzzMatch // rules, each a list of matches; an empty list is the default match
}

type fuzzMatch struct {
	pathType  PathType // "" when the match has no path
	pathValue string
	method    string
	headers   []fuzzValue
	query     []fuzzValue
}

type fuzzValue struct {
	name, value string
	regex       bool
}

type refPick struct {
	route       string
	rule, match int
}

// fuzzInput draws choices from the fuzz bytes; when they run out, every
// choice is the first.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) n(k int) int {
	if len(in.b) == 0 {
		return 0
	}
	v := int(in.b[0]) % k
	in.b = in.b[1:]
	return v
}

func (in *fuzzInput) pick(xs ...string) string { return xs[in.n(len(xs))] }

// Few, overlapping values, so that random tables often have several
// matches for one request and precedence decides. Path values obey the
// CRD's rules (absolute, no "//"); hostnames are valid and lower-case.
var (
	fuzzPaths      = []string{"/", "/a", "/a/", "/ab", "/a/b", "/a/b/", "/b", "/v1", "/v1/chat"}
	fuzzPathRegexp = []string{"/a.*", "/a/[^/]+", ".*", "/[ab]+", "/v1/.*", "/A"}
	fuzzHostnames  = []string{"a.example.com", "example.com", "*.example.com", "*.b.example.com", "x.b.example.com", "*.com"}
	fuzzNames      = []string{"ns/a", "ns/b", "ns/c", "other/a", "other/b"}
)

func (in *fuzzInput) routes() []fuzzRoute {
	var routes []fuzzRoute
	seen := map[string]bool{}
	for range 1 + in.n(6) {
		rt := fuzzRoute{name: in.pick(fuzzNames...), created: time.Unix(int64(in.n(3)), 0)}
		for range in.n(3) {
			rt.hostnames = append(rt.hostnames, in.pick(fuzzHostnames...))
		}
		for range 1 + in.n(3) {
			var rule []fuzzMatch
			for range in.n(4) {
				rule = append(rule, in.match())
			}
			rt.rules = append(rt.rules, rule)
		}
		if seen[rt.name] { // namespace/name is unique
			continue
		}
		seen[rt.name] = true
		routes = append(routes, rt)
	}
	return routes
}

func (in *fuzzInput) match() fuzzMatch {
	var m fuzzMatch
	switch in.n(4) {
	case 1:
		m.pathType, m.pathValue = PathExact, in.pick(fuzzPaths...)
	case 2:
		m.pathType, m.pathValue = PathPrefix, in.pick(fuzzPaths...)
	case 3:
		m.pathType, m.pathValue = PathRegex, in.pick(fuzzPathRegexp...)
	}
	m.method = in.pick("", "", "GET", "POST")
	for range in.n(3) {
		v := fuzzValue{name: in.pick("x-a", "X-A", "x-b", ModelHeader, "x-sluice-model"), value: in.pick("1", "2", "gpt", "claude")}
		if in.n(4) == 0 {
			v.value, v.regex = in.pick("[12]", "g.*", ".*"), true
		}
		m.headers = append(m.headers, v)
	}
	for range in.n(3) {
		v := fuzzValue{name: in.pick("q", "Q", "r"), value: in.pick("1", "2", "")}
		if in.n(4) == 0 {
			v.value, v.regex = in.pick("[12]", ".*"), true
		}
		m.query = append(m.query, v)
	}
	return m
}

func (in *fuzzInput) request() (*http.Request, string) {
	host := in.pick("a.example.com", "b.example.com", "x.b.example.com", "y.x.b.example.com", "example.com", "other.org", "c.com")
	path := in.pick("/", "/a", "/a/", "/ab", "/a/b", "/a/b/", "/a//b", "/b", "/v1", "/v1/chat", "/v1/chat/x", "/A", "/abc")
	var query []string
	for range in.n(4) {
		query = append(query, in.pick("q", "Q", "r")+"="+in.pick("1", "2", ""))
	}
	r, err := http.NewRequest(in.pick("GET", "POST", "PUT"), "http://"+host+path+"?"+strings.Join(query, "&"), nil)
	if err != nil {
		panic(err)
	}
	for range in.n(4) {
		r.Header.Add(in.pick("X-A", "x-b", ModelHeader), in.pick("1", "2", "gpt", "claude"))
	}
	return r, host
}

// tableOf compiles the model as gatewayapi does: one Rule per route rule,
// one Entry per match, the default match for a rule without matches.
func tableOf(t *testing.T, routes []fuzzRoute) *Table {
	tab := &Table{}
	for _, rt := range routes {
		for i, rule := range rt.rules {
			tab.Rules = append(tab.Rules, Rule{Route: rt.name})
			if len(rule) == 0 {
				rule = []fuzzMatch{{}}
			}
			for j, fm := range rule {
				m := Match{Path: PathMatch{Type: fm.pathType, Value: fm.pathValue}, Method: fm.method}
				for _, h := range fm.headers {
					m.Headers = append(m.Headers, ValueMatch{Name: h.name, Value: h.value, Regex: h.regex})
				}
				for _, q := range fm.query {
					m.Query = append(m.Query, ValueMatch{Name: q.name, Value: q.value, Regex: q.regex})
				}
				tab.Entries = append(tab.Entries, Entry{
					Hostnames: append([]string(nil), rt.hostnames...), Match: m, Rule: len(tab.Rules) - 1,
					Created: rt.created, RouteName: rt.name, RuleIndex: i, MatchIdx: j,
				})
			}
		}
	}
	if err := tab.Prepare(); err != nil {
		t.Fatal(err)
	}
	return tab
}

// refMatch is the slow reference.
//
// Hostnames: a route without hostnames matches any host; "*.example.com"
// matches hosts with at least one more label in front. The specification
// gives precedence to the route with the longest matching non-wildcard
// hostname, then the longest matching hostname (HTTPRouteSpec.Hostnames).
// Sluice reads that as virtual hosts do (and as its README documents): only
// the routes whose hostname is the most specific one that matches the host
// compete, and a request they don't match does not fall back to routes of
// a less specific hostname.
//
// Matches (HTTPRouteRule.Matches): across every rule of those routes, a
// match wins by Exact path, then the longest PathPrefix (a trailing slash
// is not significant), then having a method, then more header matches,
// then more query matches; RegularExpression precedence is implementation
// defined and Sluice ranks it after every prefix. Ties go to the oldest
// route, then namespace/name, then the first rule, then the first match.
func refMatch(routes []fuzzRoute, r *http.Request, host string) (refPick, bool) {
	best := -1
	level := make([]int, len(routes))
	for i, rt := range routes {
		level[i] = hostLevel(rt.hostnames, host)
		best = max(best, level[i])
	}
	type cand struct {
		rt    *fuzzRoute
		m     fuzzMatch
		i, j  int
		class int // 0 Exact, 1 PathPrefix, 2 RegularExpression
		plen  int
	}
	var cands []cand
	for k := range routes {
		rt := &routes[k]
		if level[k] < 0 || level[k] != best {
			continue
		}
		for i, rule := range rt.rules {
			if len(rule) == 0 {
				rule = []fuzzMatch{{pathType: PathPrefix, pathValue: "/"}}
			}
			for j, m := range rule {
				if m.pathType == "" {
					m.pathType, m.pathValue = PathPrefix, "/"
				}
				m.headers, m.query = firstByName(m.headers, strings.EqualFold), firstByName(m.query, func(a, b string) bool { return a == b })
				if !refMatches(m, r) {
					continue
				}
				c := cand{rt: rt, m: m, i: i, j: j}
				switch m.pathType {
				case PathExact:
					c.class = 0
				case PathPrefix:
					c.class, c.plen = 1, len(strings.TrimSuffix(m.pathValue, "/"))
				default:
					c.class = 2
				}
				cands = append(cands, c)
			}
		}
	}
	if len(cands) == 0 {
		return refPick{}, false
	}
	sort.Slice(cands, func(x, y int) bool {
		a, b := cands[x], cands[y]
		switch {
		case a.class != b.class:
			return a.class < b.class
		case a.class == 1 && a.plen != b.plen:
			return a.plen > b.plen
		case (a.m.method != "") != (b.m.method != ""):
			return a.m.method != ""
		case len(a.m.headers) != len(b.m.headers):
			return len(a.m.headers) > len(b.m.headers)
		case len(a.m.query) != len(b.m.query):
			return len(a.m.query) > len(b.m.query)
		case !a.rt.created.Equal(b.rt.created):
			return a.rt.created.Before(b.rt.created)
		case a.rt.name != b.rt.name:
			return a.rt.name < b.rt.name
		case a.i != b.i:
			return a.i < b.i
		}
		return a.j < b.j
	})
	c := cands[0]
	return refPick{route: c.rt.name, rule: c.i, match: c.j}, true
}

// hostLevel ranks how specifically a route's hostnames match host: -1 not
// at all, 0 no hostnames (any host), 1+len(suffix) for a wildcard, and
// above every wildcard for an exact hostname.
func hostLevel(hostnames []string, host string) int {
	if len(hostnames) == 0 {
		return 0
	}
	level := -1
	for _, h := range hostnames {
		h = strings.ToLower(h)
		if h == host {
			level = max(level, 1<<20)
		}
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			labels, suffixLabels := strings.Split(host, "."), strings.Split(suffix, ".")
			if len(labels) > len(suffixLabels) && strings.Join(labels[len(labels)-len(suffixLabels):], ".") == suffix {
				level = max(level, 1+len(suffix))
			}
		}
	}
	return level
}

// firstByName keeps the first of the entries with equivalent names: the
// specification says later ones MUST be ignored (HTTPHeaderMatch.Name,
// HTTPQueryParamMatch.Name).
func firstByName(vs []fuzzValue, same func(a, b string) bool) []fuzzValue {
	var out []fuzzValue
next:
	for _, v := range vs {
		for _, o := range out {
			if same(o.name, v.name) {
				continue next
			}
		}
		out = append(out, v)
	}
	return out
}

func refMatches(m fuzzMatch, r *http.Request) bool {
	if !refPath(m.pathType, m.pathValue, r.URL.Path) {
		return false
	}
	if m.method != "" && m.method != r.Method {
		return false
	}
	for _, h := range m.headers {
		// Header names compare case-insensitively. A repeated header is
		// implementation-specific; Sluice matches its first value.
		var values []string
		for k, v := range r.Header {
			if strings.EqualFold(k, h.name) {
				values = v
			}
		}
		if len(values) == 0 || !refValue(h, values[0]) {
			return false
		}
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	for _, p := range m.query {
		// Names compare exactly; a repeated parameter matches by its first
		// value, as the specification recommends.
		if len(q[p.name]) == 0 || !refValue(p, q[p.name][0]) {
			return false
		}
	}
	return true
}

func refValue(v fuzzValue, s string) bool {
	if v.regex {
		return regexp.MustCompile("^(?:" + v.value + ")$").MatchString(s)
	}
	return s == v.value
}

// refPath compares paths: Exact as strings; PathPrefix element by element
// ("/abc" matches "/abc", "/abc/" and "/abc/x", not "/abcd"), with a
// trailing slash in the prefix not significant; RegularExpression (RE2)
// against the whole path.
func refPath(typ PathType, value, path string) bool {
	switch typ {
	case PathExact:
		return path == value
	case PathRegex:
		return regexp.MustCompile("^(?:" + value + ")$").MatchString(path)
	}
	prefix := strings.Split(strings.TrimSuffix(value, "/"), "/")
	elems := strings.Split(path, "/")
	if len(elems) < len(prefix) {
		return false
	}
	for i := range prefix {
		if prefix[i] != elems[i] {
			return false
		}
	}
	return true
}

func dump(routes []fuzzRoute) string {
	var b strings.Builder
	for _, rt := range routes {
		fmt.Fprintf(&b, "\n  %s created=%d hosts=%v", rt.name, rt.created.Unix(), rt.hostnames)
		for i, rule := range rt.rules {
			fmt.Fprintf(&b, "\n    rule %d: %+v", i, rule)
		}
	}
	return b.String()
}
