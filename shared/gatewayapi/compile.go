package gatewayapi

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
)

// awsRegion matches AWS region names such as us-east-1 or us-gov-west-1.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// analysis is everything learned from one set of objects: problems, each
// Gateway's listeners, each route's attachment to its parents, and each
// backend ref's resolution. Check, Compile and SetStatus share it so they
// never disagree.
type analysis struct {
	idx      map[string]*Object
	problems []Problem
	routes   []*routeInfo
	others   []*otherRoute               // routes of kinds Sluice does not serve
	gateways map[string]*gatewayInfo     // by key, Gateway/ns/name
	sets     map[string]*listenerSetInfo // by key, ListenerSet/ns/name
	nsLabels map[string]labels.Set
	// offline: the objects are files judged alone (sluice validate), not
	// the whole applied set, so a missing object may exist where they are
	// applied; messages say so.
	offline bool
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
	// unsupported, when set, is why the route is not accepted on any
	// parent: a valid value Sluice does not serve (UnsupportedValue).
	unsupported string
}

type parentInfo struct {
	ref      gwv1.ParentReference
	accepted bool
	reason   string // Accepted, NotAllowedByListeners, NoMatchingListenerHostname, NoMatchingParent, UnsupportedValue
	message  string
	// ours is false when the parent belongs to another controller: Sluice
	// neither serves the route there nor writes that parent's status.
	ours      bool
	gateway   *gatewayInfo // the Gateway the route attaches to, directly or through a ListenerSet
	anyHost   bool         // some accepting listener and the route both leave the host open
	hostnames []string     // the intersections, when not anyHost
	origins   []string     // parallel to hostnames: the route hostname each came from ("" for none)
	listeners []*listenerInfo
}

type refInfo struct {
	backend *route.Backend // nil: invalid, or a pool
	pool    *route.Pool    // an InferencePool: Members index poolMembers
	members []route.Backend
}

// add records a problem: a refusal when reason is empty, else a condition
// with that reason.
func (a *analysis) add(o *Object, field, reason, format string, args ...any) {
	level := Refused
	if reason != "" {
		level = Condition
	}
	a.problems = append(a.problems, Problem{File: o.File, Line: lineOf(o, field), Kind: o.Kind, Ref: o.Ref(),
		Field: field, Message: fmt.Sprintf(format, args...), Reason: reason, Level: level})
}

// note records a notice.
func (a *analysis) note(o *Object, field, format string, args ...any) {
	a.problems = append(a.problems, Problem{File: o.File, Line: lineOf(o, field), Kind: o.Kind, Ref: o.Ref(),
		Field: field, Message: fmt.Sprintf(format, args...), Level: Notice})
}

// Check validates objects beyond their schema: values, and references
// between them. Every problem is returned, not just the first.
func Check(objs []*Object) []Problem {
	return analyze(objs, false).problems
}

func analyze(objs []*Object, offline bool) *analysis {
	a := &analysis{idx: index(objs), offline: offline, gateways: map[string]*gatewayInfo{}, sets: map[string]*listenerSetInfo{}}
	a.namespaces(objs)
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *AIBackend:
			a.checkAIBackend(o, v)
		case *TokenLimitPolicy:
			a.checkTokenLimitPolicy(o, v)
		case *BackendPolicy:
			a.checkBackendPolicy(o, v)
		case *CachePolicy:
			a.checkCachePolicy(o, v)
		case *AccessLogPolicy:
			a.checkAccessLogPolicy(o, v)
		case *gwv1.GatewayClass:
			if v.Spec.ControllerName != ControllerName {
				a.note(o, "spec.controllerName", "controller %q is not Sluice's (%q): Sluice does not serve this class's Gateways", v.Spec.ControllerName, ControllerName)
			}
		case *gwv1.Gateway:
			a.gateways[o.Key()] = a.checkGateway(o, v)
		default:
			if !o.Served() {
				a.notServed(o)
			}
		}
	}
	var sets []*listenerSetInfo
	for _, o := range objs {
		if ls, ok := o.Value.(*gwv1.ListenerSet); ok {
			si := a.checkListenerSet(o, ls)
			a.sets[o.Key()] = si
			sets = append(sets, si)
		}
	}
	a.settleListeners(sets)
	for _, o := range objs {
		if r, ok := o.Value.(*gwv1.HTTPRoute); ok {
			a.routes = append(a.routes, a.checkRoute(o, r))
		} else if or := a.otherRoute(o); or != nil {
			a.others = append(a.others, or)
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

func (a *analysis) checkRoute(o *Object, r *gwv1.HTTPRoute) *routeInfo {
	ri := &routeInfo{obj: o, route: r, refsOK: true}
	unsupported := func(field, format string, args ...any) {
		if ri.unsupported == "" {
			ri.unsupported = field + ": " + fmt.Sprintf(format, args...)
		}
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
			if _, err := duration(rule.Retry.Backoff); err != nil {
				a.add(o, rf+".retry.backoff", "", "%v", err)
			}
			if rule.Retry.Attempts != nil && *rule.Retry.Attempts < 0 {
				a.add(o, rf+".retry.attempts", "", "must not be negative, got %d", *rule.Retry.Attempts)
			}
			for k, c := range rule.Retry.Codes {
				if c < 400 || c > 599 {
					a.add(o, fmt.Sprintf("%s.retry.codes[%d]", rf, k), "", "must be a 4xx or 5xx status, got %d", c)
				}
			}
		}
		if rule.SessionPersistence != nil {
			unsupported(rf+".sessionPersistence", "Sluice does not keep sessions on one backend (and the field is deprecated in Gateway API v1.7)")
		}
		prefixOnly := true
		for j, m := range rule.Matches {
			field := fmt.Sprintf("%s.matches[%d]", rf, j)
			if m.Path != nil && m.Path.Type != nil && *m.Path.Type != gwv1.PathMatchPathPrefix {
				prefixOnly = false
			}
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
		if why := a.checkFilters(o, rf+".filters", rule.Filters, prefixOnly); why != "" {
			unsupported(rf+".filters", "%s", why)
		}
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
			if why := a.checkFilters(o, field+".filters", b.Filters, prefixOnly); why != "" {
				unsupported(field+".filters", "%s", why)
			}
		}
		ri.refs = append(ri.refs, refs)
	}
	for i, p := range r.Spec.ParentRefs {
		pi := a.attach(o, r.Spec.Hostnames, p)
		field := fmt.Sprintf("spec.parentRefs[%d]", i)
		switch {
		case !pi.ours:
			a.note(o, field, "the parent is another controller's: Sluice does not serve the route there")
		case pi.accepted && ri.unsupported != "":
			pi.accepted, pi.reason, pi.message = false, string(gwv1.RouteReasonUnsupportedValue), ri.unsupported
			a.add(o, field, pi.reason, "%s", pi.message)
		case !pi.accepted:
			if pi.reason == string(gwv1.RouteReasonNoMatchingParent) {
				field += ".name"
			}
			a.add(o, field, pi.reason, "%s", pi.message)
		}
		ri.parents = append(ri.parents, pi)
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

// checkFilters checks a rule's or a backend ref's filters and returns why
// Sluice cannot serve them, or "". prefixOnly says every match of the rule
// is a path prefix, which ReplacePrefixMatch needs.
func (a *analysis) checkFilters(o *Object, field string, filters []gwv1.HTTPRouteFilter, prefixOnly bool) string {
	var redirect, rewrite bool
	why := ""
	for i, f := range filters {
		ff := fmt.Sprintf("%s[%d]", field, i)
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestRedirect:
			redirect = true
			if rr := f.RequestRedirect; rr != nil && rr.Path != nil && rr.Path.Type == gwv1.PrefixMatchHTTPPathModifier && !prefixOnly && why == "" {
				why = ff + ": ReplacePrefixMatch needs every match of the rule to be a PathPrefix"
			}
		case gwv1.HTTPRouteFilterURLRewrite:
			rewrite = true
			if rw := f.URLRewrite; rw != nil && rw.Path != nil && rw.Path.Type == gwv1.PrefixMatchHTTPPathModifier && !prefixOnly && why == "" {
				why = ff + ": ReplacePrefixMatch needs every match of the rule to be a PathPrefix"
			}
		case gwv1.HTTPRouteFilterRequestMirror:
			if f.RequestMirror != nil {
				if res, reason, msg := a.resolve(o, f.RequestMirror.BackendRef); res == nil {
					a.add(o, ff+".requestMirror.backendRef"+refField[reason], reason, "%s", msg)
				}
			}
		case gwv1.HTTPRouteFilterRequestHeaderModifier, gwv1.HTTPRouteFilterResponseHeaderModifier, gwv1.HTTPRouteFilterCORS:
		default:
			if why == "" {
				why = fmt.Sprintf("%s.type: filter type %q is not one Sluice serves", ff, f.Type)
			}
		}
	}
	if redirect && rewrite {
		a.add(o, field, "", "RequestRedirect and URLRewrite cannot be used in the same rule")
	}
	return why
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
		return refInfo{}, string(gwv1.RouteReasonBackendNotFound), a.missing("InferencePool", ns, string(b.Name))
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
		return nil, string(gwv1.RouteReasonBackendNotFound), a.missing(kind, ns, string(b.Name))
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

// service resolves a Service port as kube-proxy does: an ExternalName's
// DNS name, or the ready addresses of the EndpointSlices that name the
// Service (label kubernetes.io/service-name), whether it has a selector, a
// cluster IP or neither. Sluice runs no pods, so a Service that selects
// pods has endpoints only if EndpointSlices for it are applied too.
func (a *analysis) service(o *Object, port int32) (*route.Backend, string, string) {
	svc := o.Value.(*Service)
	var sp *ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	b := &route.Backend{Name: "Service/" + o.Ref() + ":" + strconv.Itoa(int(port)), Kind: route.KindService}
	if sp != nil && sp.AppProtocol != nil && *sp.AppProtocol == "kubernetes.io/h2c" {
		b.Protocol = route.ProtocolH2C
	}
	if svc.Spec.Type == ServiceTypeExternalName {
		b.Endpoints = []string{"http://" + joinHostPort(svc.Spec.ExternalName, port)}
		b.Endpoint = b.Endpoints[0]
		return b, "", ""
	}
	if sp == nil {
		return nil, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("Service %s has no port %d", o.Ref(), port)
	}
	for _, eo := range a.sorted("EndpointSlice") {
		es := eo.Value.(*EndpointSlice)
		if eo.Namespace != o.Namespace || es.Labels[LabelServiceName] != o.Name {
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
		why := "no EndpointSlice"
		if a.offline {
			why = "no EndpointSlice among the files given"
		}
		msg := fmt.Sprintf("Service %s port %d has no ready endpoints: %s labelled %s=%s lists one", o.Ref(), port, why, LabelServiceName, o.Name)
		if sp.Name != "" {
			msg += fmt.Sprintf(" for port %q", sp.Name)
		}
		if len(svc.Spec.Selector) > 0 {
			msg += " (Sluice runs no pods: the Service's selector picks nothing; apply EndpointSlices for it)"
		}
		return nil, string(gwv1.RouteReasonBackendNotFound), msg
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
