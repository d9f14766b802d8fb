package gatewayapi

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
)

// awsRegion matches AWS region names such as us-east-1 or us-gov-west-1.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// analysis is everything learned from one set of objects: problems, each
// route's attachment to its parents, and each backend ref's resolution.
// Check and Compile share it so they never disagree.
type analysis struct {
	idx      map[string]*Object
	problems []Problem
	routes   []*routeInfo
}

type routeInfo struct {
	obj     *Object
	route   *gwv1.HTTPRoute
	parents []parentInfo
	// refs[i][j] resolves rule i's backendRef j.
	refs [][]refInfo
	// refsOK is false when any ref did not resolve; refReason says why.
	refsOK    bool
	refReason string
	refMsg    string
}

type parentInfo struct {
	ref       gwv1.ParentReference
	accepted  bool
	reason    string // Accepted, NotAllowedByListeners, NoMatchingListenerHostname, NoMatchingParent
	message   string
	anyHost   bool     // some accepting listener and the route both leave the host open
	hostnames []string // the intersections, when not anyHost
	origins   []string // parallel to hostnames: the route hostname each came from ("" for none)
	listeners []string // names of the listeners that accepted the route
}

type refInfo struct {
	backend *route.Backend // nil: invalid, or a pool
	pool    *route.Pool    // an InferencePool: Members index poolMembers
	members []route.Backend
}

func (a *analysis) add(o *Object, field, reason, format string, args ...any) {
	a.problems = append(a.problems, Problem{File: o.File, Line: lineOf(o, field), Kind: o.Kind, Ref: o.Ref(),
		Field: field, Message: fmt.Sprintf(format, args...), Reason: reason})
}

// Check validates objects beyond their schema: values, and references
// between them. Every problem is returned, not just the first.
func Check(objs []*Object) []Problem {
	return analyze(objs).problems
}

func analyze(objs []*Object) *analysis {
	a := &analysis{idx: index(objs)}
	seen := map[string]*Object{}
	for _, o := range objs {
		if prev, dup := seen[o.Key()]; dup {
			a.add(o, "metadata.name", "", "defined twice (also at %s:%d)", prev.File, prev.Line)
		}
		seen[o.Key()] = o
		switch v := o.Value.(type) {
		case *AIBackend:
			a.checkAIBackend(o, v)
		case *TokenLimitPolicy:
			a.checkTokenLimitPolicy(o, v)
		case *gwv1.GatewayClass:
			if v.Spec.ControllerName != ControllerName {
				a.add(o, "spec.controllerName", "", "Sluice serves controllerName %q, got %q", ControllerName, v.Spec.ControllerName)
			}
		case *gwv1.Gateway:
			a.checkGateway(o, v)
		case *corev1.Service:
			if v.Spec.Type != corev1.ServiceTypeExternalName && len(v.Spec.Selector) > 0 {
				a.add(o, "spec.selector", "", "a Service with a selector has no endpoints outside Kubernetes: use type ExternalName, or no selector and EndpointSlices")
			}
		}
	}
	for _, o := range objs {
		if r, ok := o.Value.(*gwv1.HTTPRoute); ok {
			a.routes = append(a.routes, a.checkRoute(o, r))
		}
	}
	return a
}

func (a *analysis) checkAIBackend(o *Object, v *AIBackend) {
	p, known := preset.Lookup(v.Spec.Provider)
	if !known {
		a.add(o, "spec.provider", "", "unknown provider %q (known: %s)", v.Spec.Provider, preset.Names())
	}
	if v.Spec.Provider == preset.Bedrock {
		// With neither region nor endpoint, the gateway's own region serves:
		// known where it runs, not where manifests are checked.
		if r := v.Spec.Region; r != "" && !awsRegion.MatchString(r) {
			a.add(o, "spec.region", "", "must be an AWS region such as us-east-1, got %q", r)
		}
	} else if v.Spec.Region != "" {
		a.add(o, "spec.region", "", "only provider bedrock takes a region")
	}
	switch {
	case v.Spec.Endpoint == "" && v.Spec.Provider == preset.Bedrock:
		// defaults to the region's Bedrock Runtime endpoint
	case v.Spec.Endpoint == "" && known && p.Endpoint == "":
		a.add(o, "spec.endpoint", "", "required: provider %q has no default base URL", v.Spec.Provider)
	case v.Spec.Endpoint == "":
	default:
		if u, err := url.Parse(v.Spec.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			a.add(o, "spec.endpoint", "", "must be an http or https URL, got %q", v.Spec.Endpoint)
		}
	}
	if v.Spec.APIVersion != "" && p.Protocol != preset.AzureOpenAI {
		a.add(o, "spec.apiVersion", "", "only azure-openai backends take an api-version")
	}
	if c := v.Spec.CredentialRef; c != nil {
		if c.Name == "" {
			a.add(o, "spec.credentialRef.name", "", "required")
		}
		switch {
		case c.Type == "apiKey" && p.Protocol == preset.VertexAI:
			a.add(o, "spec.credentialRef.type", "", "vertex-ai takes an OAuth access token: leave type out or set bearer")
		case c.Type == "" || c.Type == "apiKey":
		case c.Type == "bearer":
		default:
			a.add(o, "spec.credentialRef.type", "", "must be apiKey or bearer, got %q", c.Type)
		}
	}
}

func (a *analysis) checkGateway(o *Object, g *gwv1.Gateway) {
	if a.idx["GatewayClass/"+string(g.Spec.GatewayClassName)] == nil {
		a.add(o, "spec.gatewayClassName", "", "GatewayClass %q not found", g.Spec.GatewayClassName)
	}
	names := map[gwv1.SectionName]bool{}
	type portHost struct {
		port gwv1.PortNumber
		host string
	}
	taken := map[portHost]gwv1.ProtocolType{}
	for i, l := range g.Spec.Listeners {
		field := fmt.Sprintf("spec.listeners[%d]", i)
		if names[l.Name] {
			a.add(o, field+".name", "", "listener name %q is used twice", l.Name)
		}
		names[l.Name] = true
		if l.Protocol != gwv1.HTTPProtocolType && l.Protocol != gwv1.HTTPSProtocolType {
			a.add(o, field+".protocol", "", "unsupported protocol %q (supported: HTTP, HTTPS)", l.Protocol)
		}
		ph := portHost{l.Port, hostOf(l.Hostname)}
		if p, ok := taken[ph]; ok {
			a.add(o, field+".hostname", "", "conflicts with another listener on port %d for hostname %q (%s)", l.Port, ph.host, p)
		}
		taken[ph] = l.Protocol
		if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil && l.AllowedRoutes.Namespaces.From != nil &&
			*l.AllowedRoutes.Namespaces.From == gwv1.NamespacesFromSelector {
			a.add(o, field+".allowedRoutes.namespaces.from", "", "Selector is not supported: Sluice has no Namespace objects to select; use Same or All")
		}
	}
	if len(g.Spec.Addresses) > 0 {
		a.add(o, "spec.addresses", "", "not supported: Sluice assigns no addresses (the front door, API Gateway or the local port, is every Gateway's address); leave it out")
	}
}

func hostOf(h *gwv1.Hostname) string {
	if h == nil {
		return ""
	}
	return strings.ToLower(string(*h))
}

func (a *analysis) checkRoute(o *Object, r *gwv1.HTTPRoute) *routeInfo {
	ri := &routeInfo{obj: o, route: r, refsOK: true}
	for i, p := range r.Spec.ParentRefs {
		pi := a.attach(o, r, p)
		if !pi.accepted {
			field := fmt.Sprintf("spec.parentRefs[%d]", i)
			if pi.reason == string(gwv1.RouteReasonNoMatchingParent) {
				field += ".name"
			}
			a.add(o, field, pi.reason, "%s", pi.message)
		}
		ri.parents = append(ri.parents, pi)
	}
	ruleNames := map[gwv1.SectionName]int{}
	for i, rule := range r.Spec.Rules {
		rf := fmt.Sprintf("spec.rules[%d]", i)
		if rule.Name != nil {
			if first, dup := ruleNames[*rule.Name]; dup {
				a.add(o, rf+".name", "", "rule name %q is used twice (also spec.rules[%d]): rule names must be unique within the route", *rule.Name, first)
			} else {
				ruleNames[*rule.Name] = i
			}
		}
		if rule.Retry != nil {
			a.add(o, rf+".retry", "", "not supported: Sluice does not retry a rule's requests as asked here; AI routes fail over to another of the rule's backends on their own (connection errors, 429 and 5xx before the first byte reaches the client), plain HTTP routes are never retried; remove the field")
		}
		if rule.SessionPersistence != nil {
			a.add(o, rf+".sessionPersistence", "", "not supported (and deprecated in Gateway API v1.7); remove the field")
		}
		for j, m := range rule.Matches {
			field := fmt.Sprintf("%s.matches[%d]", rf, j)
			if m.Path != nil && m.Path.Type != nil && *m.Path.Type == gwv1.PathMatchRegularExpression && m.Path.Value != nil {
				if _, err := regexp.Compile(*m.Path.Value); err != nil {
					a.add(o, field+".path.value", "", "invalid regular expression: %v", err)
				}
			}
			for k, h := range m.Headers {
				if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
					if _, err := regexp.Compile(h.Value); err != nil {
						a.add(o, fmt.Sprintf("%s.headers[%d].value", field, k), "", "invalid regular expression: %v", err)
					}
				}
			}
			for k, q := range m.QueryParams {
				if q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression {
					if _, err := regexp.Compile(q.Value); err != nil {
						a.add(o, fmt.Sprintf("%s.queryParams[%d].value", field, k), "", "invalid regular expression: %v", err)
					}
				}
			}
		}
		a.checkFilters(o, rf+".filters", rule.Filters)
		if rule.Timeouts != nil {
			for name, d := range map[string]*gwv1.Duration{"request": rule.Timeouts.Request, "backendRequest": rule.Timeouts.BackendRequest} {
				if _, err := duration(d); err != nil {
					a.add(o, rf+".timeouts."+name, "", "%v", err)
				}
			}
		}
		var refs []refInfo
		for j, b := range rule.BackendRefs {
			field := fmt.Sprintf("%s.backendRefs[%d]", rf, j)
			ref, reason, msg := a.resolveRef(o, b.BackendObjectReference)
			if reason != "" {
				a.add(o, field+refField[reason], reason, "%s", msg)
				if ri.refsOK {
					ri.refsOK, ri.refReason, ri.refMsg = false, reason, msg
				}
			}
			refs = append(refs, ref)
			a.checkFilters(o, field+".filters", b.Filters)
		}
		ri.refs = append(ri.refs, refs)
	}
	return ri
}

// refField names the field of a backend ref that a ResolvedRefs reason is about.
var refField = map[string]string{
	string(gwv1.RouteReasonBackendNotFound):  ".name",
	string(gwv1.RouteReasonRefNotPermitted):  ".namespace",
	string(gwv1.RouteReasonInvalidKind):      ".kind",
	string(gwv1.RouteReasonUnsupportedValue): ".port",
}

func (a *analysis) checkFilters(o *Object, field string, filters []gwv1.HTTPRouteFilter) {
	var redirect, rewrite bool
	for i, f := range filters {
		ff := fmt.Sprintf("%s[%d]", field, i)
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestRedirect:
			redirect = true
		case gwv1.HTTPRouteFilterURLRewrite:
			rewrite = true
		case gwv1.HTTPRouteFilterRequestMirror:
			if f.RequestMirror != nil {
				if res, reason, msg := a.resolve(o, f.RequestMirror.BackendRef); res == nil {
					a.add(o, ff+".requestMirror.backendRef"+refField[reason], reason, "%s", msg)
				}
			}
		case gwv1.HTTPRouteFilterRequestHeaderModifier, gwv1.HTTPRouteFilterResponseHeaderModifier, gwv1.HTTPRouteFilterCORS:
		default:
			a.add(o, ff+".type", "", "filter type %q is not supported", f.Type)
		}
	}
	if redirect && rewrite {
		a.add(o, field, "", "RequestRedirect and URLRewrite cannot be used in the same rule")
	}
}

// attach decides whether a parent Gateway accepts the route, and for which
// hostnames.
func (a *analysis) attach(o *Object, r *gwv1.HTTPRoute, p gwv1.ParentReference) parentInfo {
	pi := parentInfo{ref: p, reason: string(gwv1.RouteReasonNoMatchingParent)}
	ns := o.Namespace
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	if p.Kind != nil && *p.Kind != "Gateway" || p.Group != nil && *p.Group != GatewayGroup {
		pi.message = "parent must be a gateway.networking.k8s.io Gateway"
		return pi
	}
	gobj := a.idx["Gateway/"+ns+"/"+string(p.Name)]
	if gobj == nil {
		pi.message = fmt.Sprintf("Gateway %s/%s not found", ns, p.Name)
		return pi
	}
	g := gobj.Value.(*gwv1.Gateway)
	matchedListener, allowed := false, false
	for _, l := range g.Spec.Listeners {
		if p.SectionName != nil && *p.SectionName != l.Name || p.Port != nil && *p.Port != l.Port {
			continue
		}
		matchedListener = true
		if !allows(l, gobj.Namespace, o.Namespace) {
			continue
		}
		allowed = true
		hosts, origins, anyHost := intersect(hostOf(l.Hostname), r.Spec.Hostnames)
		if anyHost {
			pi.anyHost = true
		}
		if anyHost || len(hosts) > 0 {
			pi.listeners = append(pi.listeners, string(l.Name))
		}
		pi.hostnames = append(pi.hostnames, hosts...)
		pi.origins = append(pi.origins, origins...)
	}
	switch {
	case !matchedListener:
		pi.message = fmt.Sprintf("Gateway %s/%s has no listener matching the sectionName and port", ns, p.Name)
	case !allowed:
		pi.reason = string(gwv1.RouteReasonNotAllowedByListeners)
		pi.message = fmt.Sprintf("no listener of Gateway %s/%s allows HTTPRoutes from namespace %q", ns, p.Name, o.Namespace)
	case !pi.anyHost && len(pi.hostnames) == 0:
		pi.reason = string(gwv1.RouteReasonNoMatchingListenerHostname)
		pi.message = fmt.Sprintf("no hostname of the route intersects a listener hostname of Gateway %s/%s", ns, p.Name)
	default:
		pi.accepted, pi.reason, pi.message = true, string(gwv1.RouteReasonAccepted), "accepted"
	}
	return pi
}

// allows reports whether a listener takes HTTPRoutes from routeNS.
func allows(l gwv1.Listener, gatewayNS, routeNS string) bool {
	from := gwv1.NamespacesFromSame
	if l.AllowedRoutes != nil {
		if l.AllowedRoutes.Namespaces != nil && l.AllowedRoutes.Namespaces.From != nil {
			from = *l.AllowedRoutes.Namespaces.From
		}
		if len(l.AllowedRoutes.Kinds) > 0 {
			ok := false
			for _, k := range l.AllowedRoutes.Kinds {
				if k.Kind == "HTTPRoute" && (k.Group == nil || *k.Group == GatewayGroup) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return gatewayNS == routeNS
	}
	return false
}

// intersect returns the hostnames a route serves on a listener and, for
// each, the route hostname it came from ("" when the route names none).
// anyHost means neither restricts the host.
func intersect(listener string, routeHosts []gwv1.Hostname) (hosts, origins []string, anyHost bool) {
	if len(routeHosts) == 0 {
		if listener == "" {
			return nil, nil, true
		}
		return []string{listener}, []string{""}, false
	}
	for _, rh := range routeHosts {
		h := strings.ToLower(string(rh))
		switch {
		case listener == "", hostCovers(listener, h):
			hosts, origins = append(hosts, h), append(origins, h)
		case hostCovers(h, listener):
			hosts, origins = append(hosts, listener), append(origins, h)
		}
	}
	return hosts, origins, false
}

// hostCovers reports whether pattern matches every name that name matches.
func hostCovers(pattern, name string) bool {
	if pattern == name {
		return true
	}
	suffix, ok := strings.CutPrefix(pattern, "*")
	if !ok {
		return false
	}
	n := strings.TrimPrefix(name, "*")
	return len(n) > len(suffix) && strings.HasSuffix(n, suffix)
}

// resolveRef resolves a rule's backend ref, which may also name an
// InferencePool; reason is empty when it resolved.
func (a *analysis) resolveRef(o *Object, b gwv1.BackendObjectReference) (refInfo, string, string) {
	if groupOf(b.Group) != InferenceGroup || kindOf(b.Kind) != "InferencePool" {
		res, reason, msg := a.resolve(o, b)
		return refInfo{backend: res}, reason, msg
	}
	ns := o.Namespace
	if b.Namespace != nil {
		ns = string(*b.Namespace)
	}
	if ns != o.Namespace && !a.granted(o, ns, InferenceGroup, "InferencePool", string(b.Name)) {
		return refInfo{}, string(gwv1.RouteReasonRefNotPermitted), fmt.Sprintf("InferencePool %s/%s is in another namespace and no ReferenceGrant there allows it", ns, b.Name)
	}
	po := a.idx["InferencePool/"+ns+"/"+string(b.Name)]
	if po == nil {
		return refInfo{}, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("InferencePool %s/%s not found", ns, b.Name)
	}
	pool := po.Value.(*InferencePool)
	ri := refInfo{pool: &route.Pool{Name: po.Ref()}}
	for _, m := range a.sorted("AIBackend") {
		if m.Namespace == ns && selects(pool.Spec.Selector.MatchLabels, m.Value.(*AIBackend).Labels) {
			ri.members = append(ri.members, aiBackend(m))
		}
	}
	if len(ri.members) == 0 {
		return refInfo{}, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("InferencePool %s selects no AIBackend (labels %v)", po.Ref(), pool.Spec.Selector.MatchLabels)
	}
	for _, obj := range a.sorted("InferenceObjective") {
		io := obj.Value.(*InferenceObjective)
		if obj.Namespace == ns && io.Spec.PoolRef.Name == po.Name {
			if ri.pool.Objectives == nil {
				ri.pool.Objectives = map[string]int{}
			}
			pr := 0
			if io.Spec.Priority != nil {
				pr = *io.Spec.Priority
			}
			ri.pool.Objectives[obj.Name] = pr
		}
	}
	return ri, "", ""
}

// selects reports whether every selector label is on the object; an empty
// selector selects nothing, so a typo cannot enlist every backend.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// sorted returns the objects of one kind in key order.
func (a *analysis) sorted(kind string) []*Object {
	var out []*Object
	for k, o := range a.idx {
		if strings.HasPrefix(k, kind+"/") {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// resolve turns a backend reference into a backend, or says why it cannot,
// with the Gateway API's ResolvedRefs reason.
func (a *analysis) resolve(o *Object, b gwv1.BackendObjectReference) (*route.Backend, string, string) {
	group, kind := groupOf(b.Group), kindOf(b.Kind)
	ns := o.Namespace
	if b.Namespace != nil {
		ns = string(*b.Namespace)
	}
	supported := group == "core" && kind == "Service" || group == SluiceGroup && kind == "AIBackend"
	if !supported {
		return nil, string(gwv1.RouteReasonInvalidKind), fmt.Sprintf("unsupported backend %s/%s (supported: Service, sluice.dev AIBackend, %s InferencePool)", group, kind, InferenceGroup)
	}
	if ns != o.Namespace && !a.granted(o, ns, group, kind, string(b.Name)) {
		return nil, string(gwv1.RouteReasonRefNotPermitted), fmt.Sprintf("%s %s/%s is in another namespace and no ReferenceGrant there allows it", kind, ns, b.Name)
	}
	target := a.idx[kind+"/"+ns+"/"+string(b.Name)]
	if target == nil {
		return nil, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("%s %s/%s not found", kind, ns, b.Name)
	}
	if kind == "AIBackend" {
		be := aiBackend(target)
		return &be, "", ""
	}
	if b.Port == nil {
		return nil, string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf("Service %s/%s: port is required", ns, b.Name)
	}
	return a.service(target, int32(*b.Port))
}

// granted reports whether a ReferenceGrant in ns lets o refer to the target.
func (a *analysis) granted(o *Object, ns, group, kind, name string) bool {
	if group == "core" {
		group = ""
	}
	for _, g := range a.idx {
		rg, ok := g.Value.(*gwv1.ReferenceGrant)
		if !ok || g.Namespace != ns {
			continue
		}
		from, to := false, false
		for _, f := range rg.Spec.From {
			if string(f.Group) == GatewayGroup && f.Kind == "HTTPRoute" && string(f.Namespace) == o.Namespace {
				from = true
			}
		}
		for _, t := range rg.Spec.To {
			if string(t.Group) == group && string(t.Kind) == kind && (t.Name == nil || string(*t.Name) == name) {
				to = true
			}
		}
		if from && to {
			return true
		}
	}
	return false
}

// service resolves a Service port as Kubernetes does: an ExternalName's DNS
// name, or the ready addresses of its EndpointSlices.
func (a *analysis) service(o *Object, port int32) (*route.Backend, string, string) {
	svc := o.Value.(*corev1.Service)
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	b := &route.Backend{Name: "Service/" + o.Ref() + ":" + strconv.Itoa(int(port)), Kind: route.KindService}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		b.Endpoints = []string{"http://" + joinHostPort(svc.Spec.ExternalName, port)}
		b.Endpoint = b.Endpoints[0]
		return b, "", ""
	}
	if sp == nil {
		return nil, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("Service %s has no port %d", o.Ref(), port)
	}
	for _, eo := range a.idx {
		es, ok := eo.Value.(*discoveryv1.EndpointSlice)
		if !ok || eo.Namespace != o.Namespace || es.Labels[discoveryv1.LabelServiceName] != o.Name {
			continue
		}
		target := int32(0)
		for _, p := range es.Ports {
			if p.Port != nil && (p.Name == nil && sp.Name == "" || p.Name != nil && *p.Name == sp.Name) {
				target = *p.Port
			}
		}
		if target == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, addr := range ep.Addresses {
				b.Endpoints = append(b.Endpoints, "http://"+joinHostPort(addr, target))
			}
		}
	}
	if len(b.Endpoints) == 0 {
		return nil, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("Service %s port %d has no ready endpoints (EndpointSlices labelled %s=%s)", o.Ref(), port, discoveryv1.LabelServiceName, o.Name)
	}
	sort.Strings(b.Endpoints)
	b.Endpoint = b.Endpoints[0]
	return b, "", ""
}

func joinHostPort(host string, port int32) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(port))
}

func groupOf(g *gwv1.Group) string {
	if g == nil || *g == "" {
		return "core"
	}
	return string(*g)
}

func kindOf(k *gwv1.Kind) string {
	if k == nil {
		return "Service"
	}
	return string(*k)
}

func index(objs []*Object) map[string]*Object {
	m := make(map[string]*Object, len(objs))
	for _, o := range objs {
		m[o.Key()] = o
	}
	return m
}

func lineOf(o *Object, field string) int {
	if n := lookup(o.node, field); n != nil {
		return n.Line
	}
	return o.Line
}

func duration(d *gwv1.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	v, err := time.ParseDuration(string(*d))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid duration %q", *d)
	}
	return v, nil
}

func aiBackend(o *Object) route.Backend {
	ab := o.Value.(*AIBackend)
	b := route.Backend{
		Name: o.Ref(), Kind: route.KindAIBackend, Provider: ab.Spec.Provider, Endpoint: strings.TrimRight(ab.Spec.Endpoint, "/"),
		Models: append([]string(nil), ab.Spec.Models...), ModelMap: ab.Spec.ModelMap, MaxConcurrency: ab.Spec.MaxConcurrency,
	}
	sort.Strings(b.Models)
	if ab.Spec.CredentialRef != nil {
		b.Credential = ab.Spec.CredentialRef.Name
		b.CredentialType = ab.Spec.CredentialRef.Type
	}
	if b.Endpoint == "" {
		p, _ := preset.Lookup(ab.Spec.Provider)
		b.Endpoint = p.Endpoint
	}
	b.APIVersion = ab.Spec.APIVersion
	if ab.Spec.Provider == preset.Bedrock {
		// Without an endpoint the gateway addresses Bedrock Runtime in the
		// backend's region, else its own (provider/bedrock).
		b.Region = ab.Spec.Region
	}
	return b
}
