package gatewayapi

import (
	"fmt"
	"slices"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
)

// Compile translates checked objects into a prepared route table. created
// gives each route's creation time, which breaks precedence ties. Routes no
// parent accepts are left out; refs that did not resolve stay in the table
// as invalid (their share of traffic gets a 500).
func Compile(objs []*Object, version int64, now time.Time, created func(*Object) time.Time) (*route.Table, error) {
	a := analyze(objs, false)
	t := &route.Table{Version: version, Created: now.UTC()}
	c := compiler{t: t, backends: map[string]int{}}
	c.balance = balanceCompiler(a, c.backend)
	byTarget, compiled := a.inForce("TokenLimitPolicy", routeOrGateway), map[string]*ledger.Policy{}
	caches := a.inForce(cacheKindName, routeOrGateway)
	accessLogs := a.inForce(accessLogKindName, routeOrGateway)
	for _, ri := range a.routes {
		hosts, origins, anyHost, ok := ri.hostnames()
		if !ok {
			continue
		}
		if anyHost {
			hosts, origins = nil, nil
		}
		o, r := ri.obj, ri.route
		listeners := ri.listeners()
		for i, rule := range r.Spec.Rules {
			cr := route.Rule{Route: o.Ref(), Limits: ri.policyFor(byTarget, compiled), Listeners: listeners, Retry: retryOf(rule.Retry),
				Balance: c.balance("HTTPRoute/" + o.Ref())}
			cr.Cache = ri.cacheFor(caches, i)
			cr.AccessLog = ri.accessLogFor(accessLogs)
			c.addEmbeddingBackend(a, cr.Cache)
			for j, b := range rule.BackendRefs {
				weight := int32(1)
				if b.Weight != nil {
					weight = *b.Weight
				}
				ref := route.BackendRef{Backend: c.backend(ri.refs[i][j].backend), Weight: weight, Pool: c.pool(ri.refs[i][j])}
				ref.Filters = c.filters(a, o, b.Filters)
				cr.Backends = append(cr.Backends, ref)
			}
			cr.Filters = c.filters(a, o, rule.Filters)
			if rule.Timeouts != nil {
				cr.Timeout, _ = duration(rule.Timeouts.Request)
				cr.BackendTimeout, _ = duration(rule.Timeouts.BackendRequest)
			}
			t.Rules = append(t.Rules, cr)
			matches := rule.Matches
			if len(matches) == 0 {
				matches = []gwv1.HTTPRouteMatch{{}}
			}
			for j, m := range matches {
				t.Entries = append(t.Entries, route.Entry{
					Hostnames: hosts, Origins: origins, Match: matchOf(m), Rule: len(t.Rules) - 1,
					Created: created(o), RouteName: o.Ref(), RuleIndex: i, MatchIdx: j,
				})
			}
		}
	}
	if err := t.Prepare(); err != nil {
		return nil, fmt.Errorf("gatewayapi: compile: %w", err)
	}
	return t, nil
}

// hostnames merges what the accepting parents allow, with the route
// hostname each came from (the most specific one, when several give the
// same intersection); ok is false when no parent accepts the route.
func (ri *routeInfo) hostnames() (hosts, origins []string, anyHost, ok bool) {
	seen := map[string]int{}
	for _, p := range ri.parents {
		if !p.accepted {
			continue
		}
		ok = true
		anyHost = anyHost || p.anyHost
		for i, h := range p.hostnames {
			o := p.origins[i]
			if k, dup := seen[h]; dup {
				if origins[k] != "" && (o == "" || route.MoreSpecific(o, origins[k])) {
					origins[k] = o
				}
				continue
			}
			seen[h] = len(hosts)
			hosts, origins = append(hosts, h), append(origins, o)
		}
	}
	return hosts, origins, anyHost, ok
}

// listeners lists the ports and schemes of the listeners that accepted the
// route, without repeats, lowest port first.
func (ri *routeInfo) listeners() []route.Listener {
	var out []route.Listener
	for _, p := range ri.parents {
		if !p.accepted {
			continue
		}
		for _, li := range p.listeners {
			l := route.Listener{Port: int32(li.l.Port), Scheme: "http"}
			if li.l.Protocol == gwv1.HTTPSProtocolType {
				l.Scheme = "https"
			}
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.SortFunc(out, func(a, b route.Listener) int { return int(a.Port - b.Port) })
	return out
}

// retryOf compiles a rule's retry field. Attempts defaults to one retry,
// Backoff to 25 ms; codes are the statuses that are retried, besides
// connection errors.
func retryOf(r *gwv1.HTTPRouteRetry) *route.Retry {
	if r == nil {
		return nil
	}
	out := &route.Retry{Attempts: 1, Backoff: 25 * time.Millisecond}
	if r.Attempts != nil {
		out.Attempts = *r.Attempts
	}
	if r.Backoff != nil {
		out.Backoff, _ = duration(r.Backoff)
	}
	for _, c := range r.Codes {
		out.Codes = append(out.Codes, int(c))
	}
	return out
}

type compiler struct {
	t        *route.Table
	backends map[string]int
	balance  func(target string) *route.BackendPolicy
}

// backend returns the table index of a resolved backend, adding it once.
func (c *compiler) backend(b *route.Backend) int {
	if b == nil {
		return -1
	}
	if i, ok := c.backends[b.Name]; ok {
		return i
	}
	c.t.Backends = append(c.t.Backends, *b)
	if b.Kind == route.KindAIBackend && c.balance != nil {
		c.t.Backends[len(c.t.Backends)-1].Balance = c.balance("AIBackend/" + b.Name)
	}
	c.backends[b.Name] = len(c.t.Backends) - 1
	return len(c.t.Backends) - 1
}

// pool returns a pool ref's index in Table.Pools plus one, adding the pool
// and its members once; zero for refs that are not pools.
func (c *compiler) pool(ref refInfo) int {
	if ref.pool == nil {
		return 0
	}
	for i, p := range c.t.Pools {
		if p.Name == ref.pool.Name {
			return i + 1
		}
	}
	p := *ref.pool
	p.Balance = c.balance("InferencePool/" + p.Name)
	for i := range ref.members {
		p.Members = append(p.Members, c.backend(&ref.members[i]))
	}
	c.t.Pools = append(c.t.Pools, p)
	return len(c.t.Pools)
}

func (c *compiler) filters(a *analysis, o *Object, fs []gwv1.HTTPRouteFilter) route.Filters {
	var out route.Filters
	for _, f := range fs {
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			out.RequestHeaders = headerModifier(f.RequestHeaderModifier)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			out.ResponseHeaders = headerModifier(f.ResponseHeaderModifier)
		case gwv1.HTTPRouteFilterRequestRedirect:
			rr := f.RequestRedirect
			rd := &route.Redirect{Path: pathModifier(rr.Path), StatusCode: 302}
			if rr.Scheme != nil {
				rd.Scheme = *rr.Scheme
			}
			if rr.Hostname != nil {
				rd.Hostname = string(*rr.Hostname)
			}
			if rr.Port != nil {
				rd.Port = int(*rr.Port)
			}
			if rr.StatusCode != nil {
				rd.StatusCode = *rr.StatusCode
			}
			out.Redirect = rd
		case gwv1.HTTPRouteFilterURLRewrite:
			rw := &route.Rewrite{Path: pathModifier(f.URLRewrite.Path)}
			if f.URLRewrite.Hostname != nil {
				rw.Hostname = string(*f.URLRewrite.Hostname)
			}
			out.Rewrite = rw
		case gwv1.HTTPRouteFilterRequestMirror:
			m := f.RequestMirror
			res, _, _ := a.resolve(o, m.BackendRef)
			if res == nil {
				continue
			}
			pct := 100
			if m.Percent != nil {
				pct = int(*m.Percent)
			} else if m.Fraction != nil {
				den := int32(100)
				if m.Fraction.Denominator != nil {
					den = *m.Fraction.Denominator
				}
				pct = int(m.Fraction.Numerator * 100 / den)
			}
			out.Mirrors = append(out.Mirrors, route.Mirror{Backend: c.backend(res), Percent: pct})
		case gwv1.HTTPRouteFilterCORS:
			cf := f.CORS
			cors := &route.CORS{MaxAge: int(cf.MaxAge)}
			if cf.AllowCredentials != nil {
				cors.AllowCredentials = *cf.AllowCredentials
			}
			for _, v := range cf.AllowOrigins {
				cors.AllowOrigins = append(cors.AllowOrigins, string(v))
			}
			for _, v := range cf.AllowMethods {
				cors.AllowMethods = append(cors.AllowMethods, string(v))
			}
			for _, v := range cf.AllowHeaders {
				cors.AllowHeaders = append(cors.AllowHeaders, string(v))
			}
			for _, v := range cf.ExposeHeaders {
				cors.ExposeHeaders = append(cors.ExposeHeaders, string(v))
			}
			out.CORS = cors
		}
	}
	return out
}

func headerModifier(f *gwv1.HTTPHeaderFilter) *route.HeaderModifier {
	if f == nil {
		return nil
	}
	m := &route.HeaderModifier{Remove: f.Remove}
	for _, h := range f.Set {
		m.Set = append(m.Set, route.Header{Name: string(h.Name), Value: h.Value})
	}
	for _, h := range f.Add {
		m.Add = append(m.Add, route.Header{Name: string(h.Name), Value: h.Value})
	}
	return m
}

func pathModifier(p *gwv1.HTTPPathModifier) *route.PathModifier {
	if p == nil {
		return nil
	}
	pm := &route.PathModifier{Type: string(p.Type)}
	switch {
	case p.ReplaceFullPath != nil:
		pm.Value = *p.ReplaceFullPath
	case p.ReplacePrefixMatch != nil:
		pm.Value = *p.ReplacePrefixMatch
	}
	return pm
}

func matchOf(m gwv1.HTTPRouteMatch) route.Match {
	var out route.Match
	out.Path = route.PathMatch{Type: route.PathPrefix, Value: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.Path.Type = route.PathType(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.Path.Value = *m.Path.Value
		}
	}
	if m.Method != nil {
		out.Method = string(*m.Method)
	}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, route.ValueMatch{Name: string(h.Name), Value: h.Value,
			Regex: h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression})
	}
	for _, q := range m.QueryParams {
		out.Query = append(out.Query, route.ValueMatch{Name: string(q.Name), Value: q.Value,
			Regex: q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression})
	}
	return out
}
