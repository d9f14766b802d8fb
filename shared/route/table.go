// Package route holds the compiled route table and matches requests against
// it. It knows nothing of Kubernetes or storage: gatewayapi builds a Table,
// store persists it, and the gateway calls Match on the hot path.
package route

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
)

// PathType says how a PathMatch compares paths.
type PathType string

const (
	PathExact  PathType = "Exact"
	PathPrefix PathType = "PathPrefix"
	PathRegex  PathType = "RegularExpression"
)

// ModelHeader is set by the gateway from the request body before matching,
// so rules route by model with ordinary header matches.
const ModelHeader = "X-Sluice-Model"

// Table is a compiled, versioned route table. Call Prepare once after
// building or decoding it and before Match; after that it is read-only and
// safe for concurrent use.
type Table struct {
	Version  int64     `json:"version"`
	Created  time.Time `json:"created"`
	Entries  []Entry   `json:"entries"` // in precedence order after Prepare
	Rules    []Rule    `json:"rules"`
	Backends []Backend `json:"backends"`
	Pools    []Pool    `json:"pools,omitempty"`

	models   []string
	exact    map[string]*vhost // hostname → its entries
	wildcard []*vhost          // "*.suffix" hosts, longest suffix first
	any      *vhost            // entries with no hostname
}

// vhost holds the entries that serve one hostname, in precedence order. As
// the Gateway API asks, a request is matched only against the routes of the
// most specific hostname that matches it: exact, then the longest wildcard,
// then routes without hostnames.
type vhost struct {
	name    string
	suffix  string // for wildcards: ".example.com"
	entries []ventry
	// byModel holds the entries with an exact match on ModelHeader, by
	// that value; other holds the rest. Both keep precedence order, and
	// Match merges the two lists it needs, so a table of a thousand model
	// routes costs a map look-up, not a scan.
	byModel map[string][]ventry
	other   []ventry
}

// ventry is an entry in one vhost: origin is the route hostname that
// produced the vhost's name, pos the entry's place in the vhost's order.
type ventry struct {
	e      *Entry
	origin string
	pos    int
}

// index orders the entries and splits them by model. Entries arrive in the
// table's precedence order; as Gateway API v1.7 asks (the
// GatewayRouteHostnameIntersectionPrecedence feature), routes whose own
// hostname is more specific come first when several routes' hostnames
// intersect a listener's into the same name: a route for abc.example.com
// before one for *.example.com, even if older or with a longer path. A
// request the first does not match still falls through to the second.
func (v *vhost) index() {
	sort.SliceStable(v.entries, func(i, j int) bool {
		return MoreSpecific(v.entries[i].origin, v.entries[j].origin)
	})
	v.byModel = map[string][]ventry{}
	v.other = v.other[:0]
	for i := range v.entries {
		v.entries[i].pos = i
		ve := v.entries[i]
		if m, ok := ve.e.exactModel(); ok {
			v.byModel[m] = append(v.byModel[m], ve)
		} else {
			v.other = append(v.other, ve)
		}
	}
}

// MoreSpecific orders hostnames as the Gateway API ranks routes: more
// characters in a non-wildcard hostname, then more characters.
func MoreSpecific(a, b string) bool {
	exact := func(h string) int {
		if strings.HasPrefix(h, "*") {
			return 0
		}
		return len(h)
	}
	if exact(a) != exact(b) {
		return exact(a) > exact(b)
	}
	return len(a) > len(b)
}

// Entry is one match of one rule, with what decides its precedence.
type Entry struct {
	Hostnames []string `json:"hostnames,omitempty"` // empty: any host
	// Origins, when set, is parallel to Hostnames: the route's own
	// hostname that each one is the intersection of with a listener's
	// ("" when the route names none: the listener's hostname counts).
	// Within one hostname, routes rank by it first.
	Origins   []string  `json:"origins,omitempty"`
	Match     Match     `json:"match"`
	Rule      int       `json:"rule"`       // index into Table.Rules
	Created   time.Time `json:"created"`    // the route's creationTimestamp
	RouteName string    `json:"route"`      // namespace/name
	RuleIndex int       `json:"ruleIndex"`  // the rule's place in its route
	MatchIdx  int       `json:"matchIndex"` // the match's place in its rule
}

// exactModel returns the value of the entry's exact ModelHeader match.
func (e *Entry) exactModel() (string, bool) {
	for i := range e.Match.Headers {
		h := &e.Match.Headers[i]
		if !h.Regex && h.key == ModelHeader {
			return h.Value, true
		}
	}
	return "", false
}

// Match is an AND of its parts; a zero Match matches every request.
type Match struct {
	Path    PathMatch    `json:"path"`
	Method  string       `json:"method,omitempty"`
	Headers []ValueMatch `json:"headers,omitempty"`
	Query   []ValueMatch `json:"query,omitempty"`
}

// PathMatch compares the request path.
type PathMatch struct {
	Type  PathType `json:"type"`
	Value string   `json:"value"`

	re *regexp.Regexp
}

// ValueMatch compares one header or query parameter.
type ValueMatch struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Regex bool   `json:"regex,omitempty"`

	key string // canonical header key
	re  *regexp.Regexp
}

// Rule is what a matched request gets: its backends, filters and timeouts,
// and the route it came from.
type Rule struct {
	Route    string       `json:"route"` // namespace/name
	Backends []BackendRef `json:"backends"`
	Filters  Filters      `json:"filters,omitempty"`
	// Timeout bounds the whole exchange, BackendTimeout each attempt; zero:
	// none. Expiry is a 504.
	Timeout        time.Duration `json:"timeout,omitempty"`
	BackendTimeout time.Duration `json:"backendTimeout,omitempty"`
	// Limits is the TokenLimitPolicy attached to the route (or to its
	// Gateway); nil when none is.
	Limits *ledger.Policy `json:"limits,omitempty"`
	// Cache is the CachePolicy in force on the rule; nil when none is.
	Cache *Cache `json:"cache,omitempty"`
	// AccessLog is the AccessLogPolicy in force on the rule; nil when
	// none is (prompts and answers are then never logged).
	AccessLog *AccessLog `json:"accessLog,omitempty"`
	// Retry is the rule's retry policy for plain HTTP backends; nil: none.
	Retry *Retry `json:"retry,omitempty"`
	// Balance is the BackendPolicy attached to the route; nil: defaults.
	Balance *BackendPolicy `json:"balance,omitempty"`
	// Listeners are the listeners the route is attached to, for redirects
	// that take the listener's port and scheme.
	Listeners []Listener `json:"listeners,omitempty"`
}

// Retry retries a plain HTTP request (Gateway API rule retry, GEP-1731):
// after a connection error, or an answer whose status is in Codes, up to
// Attempts more times, waiting Backoff between tries.
type Retry struct {
	Codes    []int         `json:"codes,omitempty"`
	Attempts int           `json:"attempts"`
	Backoff  time.Duration `json:"backoff,omitempty"`
}

// Retries reports whether an answer with this status is retried.
func (r *Retry) Retries(status int) bool {
	return slices.Contains(r.Codes, status)
}

// Listener is a listener a route is attached to, as redirects need it.
type Listener struct {
	Port   int32  `json:"port"`
	Scheme string `json:"scheme"` // http or https (an HTTPS listener)
}

// BackendRef points a rule at a backend with a weight. Backend -1 is a ref
// that did not resolve: its share of traffic gets a 500.
type BackendRef struct {
	Backend int     `json:"backend"`
	Weight  int32   `json:"weight"`
	Filters Filters `json:"filters,omitempty"` // apply only when this ref is chosen
	// Pool is the index in Table.Pools plus one when the ref is an
	// InferencePool (Backend is then -1 unless the pool is invalid); zero
	// otherwise.
	Pool int `json:"pool,omitempty"`
}

// Filters are a rule's (or a backend ref's) Gateway API filters, in the
// order the specification applies them.
type Filters struct {
	RequestHeaders  *HeaderModifier `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderModifier `json:"responseHeaders,omitempty"`
	Redirect        *Redirect       `json:"redirect,omitempty"`
	Rewrite         *Rewrite        `json:"rewrite,omitempty"`
	Mirrors         []Mirror        `json:"mirrors,omitempty"`
	CORS            *CORS           `json:"cors,omitempty"`
}

// IsZero reports whether no filter is set.
func (f *Filters) IsZero() bool {
	return f.RequestHeaders == nil && f.ResponseHeaders == nil && f.Redirect == nil &&
		f.Rewrite == nil && len(f.Mirrors) == 0 && f.CORS == nil
}

// HeaderModifier sets, adds and removes headers.
type HeaderModifier struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// Header is one header name and value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Apply modifies h: set replaces, add appends, remove deletes.
func (m *HeaderModifier) Apply(h map[string][]string) {
	for _, x := range m.Set {
		h[textproto.CanonicalMIMEHeaderKey(x.Name)] = []string{x.Value}
	}
	for _, x := range m.Add {
		k := textproto.CanonicalMIMEHeaderKey(x.Name)
		h[k] = append(h[k], x.Value)
	}
	for _, name := range m.Remove {
		delete(h, textproto.CanonicalMIMEHeaderKey(name))
	}
}

// PathModifier replaces the full path or the matched prefix.
type PathModifier struct {
	Type  string `json:"type"` // ReplaceFullPath or ReplacePrefixMatch
	Value string `json:"value"`
}

// Redirect answers with a redirect instead of proxying.
type Redirect struct {
	Scheme     string        `json:"scheme,omitempty"`
	Hostname   string        `json:"hostname,omitempty"`
	Path       *PathModifier `json:"path,omitempty"`
	Port       int           `json:"port,omitempty"`
	StatusCode int           `json:"statusCode,omitempty"` // default 302
}

// Rewrite changes the host and path sent to the backend.
type Rewrite struct {
	Hostname string        `json:"hostname,omitempty"`
	Path     *PathModifier `json:"path,omitempty"`
}

// Mirror copies requests to another backend and ignores its answers.
type Mirror struct {
	Backend int `json:"backend"`
	Percent int `json:"percent"` // 0-100; 100 when unset in the manifest
}

// CORS answers preflight requests and adds CORS headers to responses.
type CORS struct {
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	MaxAge           int      `json:"maxAge,omitempty"`
}

// Backend kinds.
const (
	KindAIBackend = "AIBackend"
	KindService   = "Service"
)

// Backend is where requests go: an AI provider endpoint or a plain HTTP service.
type Backend struct {
	Name       string            `json:"name"`           // Kind/namespace/name for Services, namespace/name for AIBackends
	Kind       string            `json:"kind,omitempty"` // AIBackend (default) or Service
	Provider   string            `json:"provider,omitempty"`
	Endpoint   string            `json:"endpoint"`             // base URL; for Services the first of Endpoints
	Endpoints  []string          `json:"endpoints,omitempty"`  // Services: every ready address, as base URLs
	Credential string            `json:"credential,omitempty"` // credential name, never its value
	Region     string            `json:"region,omitempty"`     // cloud region (Bedrock signs for it)
	Models     []string          `json:"models,omitempty"`
	ModelMap   map[string]string `json:"modelMap,omitempty"` // client model → provider model
	// MaxConcurrency bounds requests in flight from one gateway; 0: none.
	MaxConcurrency int `json:"maxConcurrency,omitempty"`
	// Balance is the BackendPolicy attached to the AIBackend itself (its
	// timeouts and breaker win over the route's); nil: none.
	Balance *BackendPolicy `json:"balance,omitempty"`
	// CredentialType is how the credential is sent: "" or "apiKey" (the
	// provider's key header), "bearer" (Authorization: Bearer).
	CredentialType string `json:"credentialType,omitempty"`
	// APIVersion is Azure OpenAI's api-version ("" for the default).
	APIVersion string `json:"apiVersion,omitempty"`
	// Protocol is how a Service backend is spoken to: "" for HTTP/1.1,
	// ProtocolH2C for HTTP/2 without TLS (Service port appProtocol
	// kubernetes.io/h2c).
	Protocol string `json:"protocol,omitempty"`
}

// ProtocolH2C is Backend.Protocol for HTTP/2 over cleartext with prior
// knowledge.
const ProtocolH2C = "h2c"

// UpstreamModel is the model name the provider should see for a client's model.
func (b *Backend) UpstreamModel(model string) string {
	if m, ok := b.ModelMap[model]; ok {
		return m
	}
	return model
}

// Prepare compiles regular expressions, canonicalises header names, orders
// entries by Gateway API precedence, groups them by hostname and derives the
// model list.
func (t *Table) Prepare() error {
	for i := range t.Rules {
		if a := t.Rules[i].AccessLog; a != nil {
			if err := a.Prepare(); err != nil {
				return fmt.Errorf("route: rule %d (%s): %w", i, t.Rules[i].Route, err)
			}
		}
	}
	for i := range t.Entries {
		m := &t.Entries[i].Match
		if m.Path.Type == "" {
			m.Path = PathMatch{Type: PathPrefix, Value: "/"}
		}
		if m.Path.Type == PathRegex {
			re, err := regexp.Compile("^(?:" + m.Path.Value + ")$")
			if err != nil {
				return fmt.Errorf("route: entry %d (%s): path regex: %w", i, t.Entries[i].RouteName, err)
			}
			m.Path.re = re
		}
		if m.Path.Type == PathPrefix {
			m.Path.Value = trimPrefix(m.Path.Value)
		}
		m.Headers = firstOfEach(m.Headers, strings.EqualFold)
		m.Query = firstOfEach(m.Query, func(a, b string) bool { return a == b })
		for j := range m.Headers {
			h := &m.Headers[j]
			h.key = textproto.CanonicalMIMEHeaderKey(h.Name)
			if err := h.compile(); err != nil {
				return fmt.Errorf("route: entry %d (%s): header %s: %w", i, t.Entries[i].RouteName, h.Name, err)
			}
		}
		for j := range m.Query {
			if err := m.Query[j].compile(); err != nil {
				return fmt.Errorf("route: entry %d (%s): query %s: %w", i, t.Entries[i].RouteName, m.Query[j].Name, err)
			}
		}
		if e := t.Entries[i]; e.Rule < 0 || e.Rule >= len(t.Rules) {
			return fmt.Errorf("route: entry %d (%s): rule %d out of range", i, e.RouteName, e.Rule)
		}
	}
	for i := range t.Rules {
		r := &t.Rules[i]
		for _, b := range r.Backends {
			if b.Backend >= len(t.Backends) || b.Pool > len(t.Pools) {
				return fmt.Errorf("route: rule %d (%s): backend %d / pool %d out of range", i, r.Route, b.Backend, b.Pool)
			}
		}
	}
	for i := range t.Pools {
		for _, m := range t.Pools[i].Members {
			if m < 0 || m >= len(t.Backends) {
				return fmt.Errorf("route: pool %s: member %d out of range", t.Pools[i].Name, m)
			}
		}
		t.Pools[i].prepare()
	}
	sort.SliceStable(t.Entries, func(i, j int) bool { return before(&t.Entries[i], &t.Entries[j]) })
	t.exact, t.wildcard, t.any = map[string]*vhost{}, nil, &vhost{name: "*"}
	wild := map[string]*vhost{}
	for i := range t.Entries {
		e := &t.Entries[i]
		if len(e.Hostnames) == 0 {
			t.any.entries = append(t.any.entries, ventry{e: e})
			continue
		}
		for k, h := range e.Hostnames {
			h = strings.ToLower(h)
			ve := ventry{e: e, origin: h}
			if k < len(e.Origins) && e.Origins[k] != "" {
				ve.origin = strings.ToLower(e.Origins[k])
			}
			if suffix, ok := strings.CutPrefix(h, "*"); ok {
				v := wild[suffix]
				if v == nil {
					v = &vhost{name: h, suffix: suffix}
					wild[suffix] = v
					t.wildcard = append(t.wildcard, v)
				}
				v.entries = append(v.entries, ve)
				continue
			}
			v := t.exact[h]
			if v == nil {
				v = &vhost{name: h}
				t.exact[h] = v
			}
			v.entries = append(v.entries, ve)
		}
	}
	sort.SliceStable(t.wildcard, func(i, j int) bool { return len(t.wildcard[i].suffix) > len(t.wildcard[j].suffix) })
	for _, v := range t.exact {
		v.index()
	}
	for _, v := range t.wildcard {
		v.index()
	}
	t.any.index()
	t.models = t.deriveModels()
	return nil
}

// firstOfEach drops the matches whose name repeats an earlier one's: the
// Gateway API says only the first entry with an equivalent name is
// considered, and later ones MUST be ignored (header names are
// case-insensitive, query names exact). The ignored ones don't count
// towards precedence either.
func firstOfEach(vs []ValueMatch, same func(a, b string) bool) []ValueMatch {
	var out []ValueMatch
	for i, v := range vs {
		if !slices.ContainsFunc(vs[:i], func(o ValueMatch) bool { return same(o.Name, v.Name) }) {
			out = append(out, v)
		}
	}
	return out
}

func (v *ValueMatch) compile() error {
	if !v.Regex {
		return nil
	}
	re, err := regexp.Compile("^(?:" + v.Value + ")$")
	v.re = re
	return err
}

// trimPrefix drops a trailing slash from a path prefix: the Gateway API
// says it is not significant.
func trimPrefix(p string) string {
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		return strings.TrimRight(p, "/")
	}
	return p
}

// before orders entries by the Gateway API's precedence rules.
func before(a, b *Entry) bool {
	am, bm := &a.Match, &b.Match
	if (am.Path.Type == PathExact) != (bm.Path.Type == PathExact) {
		return am.Path.Type == PathExact
	}
	if (am.Path.Type == PathPrefix) != (bm.Path.Type == PathPrefix) {
		// Sluice ranks regular expressions after every prefix match.
		return am.Path.Type == PathPrefix
	}
	if len(am.Path.Value) != len(bm.Path.Value) && am.Path.Type != PathRegex {
		return len(am.Path.Value) > len(bm.Path.Value)
	}
	if (am.Method != "") != (bm.Method != "") {
		return am.Method != ""
	}
	if len(am.Headers) != len(bm.Headers) {
		return len(am.Headers) > len(bm.Headers)
	}
	if len(am.Query) != len(bm.Query) {
		return len(am.Query) > len(bm.Query)
	}
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	if a.RouteName != b.RouteName {
		return a.RouteName < b.RouteName
	}
	if a.RuleIndex != b.RuleIndex {
		return a.RuleIndex < b.RuleIndex
	}
	return a.MatchIdx < b.MatchIdx
}

// Match returns the rule and the entry that matched r, or nils when no
// route matches. host is the request's host, lower-case, without a port;
// the caller has already set ModelHeader.
func (t *Table) Match(r *http.Request, host string) (*Rule, *Entry) {
	v := t.vhostFor(host)
	if v == nil {
		return nil, nil
	}
	var query url.Values
	var models []ventry
	if m, ok := r.Header[ModelHeader]; ok && len(m) > 0 {
		models = v.byModel[m[0]]
	}
	other := v.other
	// Merge the two lists in precedence order; the first match wins.
	for len(models) > 0 || len(other) > 0 {
		var e *Entry
		if len(other) == 0 || len(models) > 0 && models[0].pos < other[0].pos {
			e, models = models[0].e, models[1:]
		} else {
			e, other = other[0].e, other[1:]
		}
		if e.matches(r, &query) {
			return &t.Rules[e.Rule], e
		}
	}
	return nil, nil
}

func (t *Table) vhostFor(host string) *vhost {
	if v, ok := t.exact[host]; ok {
		return v
	}
	for _, v := range t.wildcard {
		if len(host) > len(v.suffix) && strings.HasSuffix(host, v.suffix) {
			return v
		}
	}
	if len(t.any.entries) > 0 {
		return t.any
	}
	return nil
}

func (e *Entry) matches(r *http.Request, query *url.Values) bool {
	m := &e.Match
	if !m.Path.matches(r.URL.Path) {
		return false
	}
	if m.Method != "" && m.Method != r.Method {
		return false
	}
	for i := range m.Headers {
		h := &m.Headers[i]
		v, ok := r.Header[h.key]
		if !ok || !h.matches(v[0]) {
			return false
		}
	}
	if len(m.Query) > 0 {
		if *query == nil {
			*query = r.URL.Query()
		}
		q := *query
		for i := range m.Query {
			v, ok := q[m.Query[i].Name]
			if !ok || !m.Query[i].matches(v[0]) {
				return false
			}
		}
	}
	return true
}

func (v *ValueMatch) matches(s string) bool {
	if v.re != nil {
		return v.re.MatchString(s)
	}
	return s == v.Value
}

func (p *PathMatch) matches(path string) bool {
	switch p.Type {
	case PathExact:
		return path == p.Value
	case PathRegex:
		return p.re.MatchString(path)
	default:
		if p.Value == "/" {
			return true
		}
		if !strings.HasPrefix(path, p.Value) {
			return false
		}
		return len(path) == len(p.Value) || path[len(p.Value)] == '/'
	}
}

// Models lists the model names the table routes, sorted: exact matches on
// ModelHeader and the models backends declare.
func (t *Table) Models() []string { return t.models }

func (t *Table) deriveModels() []string {
	seen := map[string]bool{}
	for _, e := range t.Entries {
		for _, h := range e.Match.Headers {
			if !h.Regex && strings.EqualFold(h.Name, ModelHeader) {
				seen[h.Value] = true
			}
		}
	}
	for _, b := range t.Backends {
		for _, m := range b.Models {
			seen[m] = true
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
