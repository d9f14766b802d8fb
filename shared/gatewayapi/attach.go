package gatewayapi

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// labelNamespaceName is the label Kubernetes sets on every namespace, so
// selectors can pick namespaces by name.
const labelNamespaceName = "kubernetes.io/metadata.name"

// gatewayInfo is what the analysis learns about one Gateway.
type gatewayInfo struct {
	obj *Object
	gw  *gwv1.Gateway
	// ours: its GatewayClass is Sluice's. Sluice serves and writes the
	// status of its own Gateways only.
	ours     bool
	accepted bool
	reason   string // of the Accepted condition when not accepted
	message  string
	// listeners are the Gateway's own, then those of the ListenerSets
	// attached to it, in the order conflicts are settled.
	listeners []*listenerInfo
	sets      []*listenerSetInfo // attached (accepted) ListenerSets
}

// listenerSetInfo is what the analysis learns about one ListenerSet.
type listenerSetInfo struct {
	obj       *Object
	ls        *gwv1.ListenerSet
	parent    *gatewayInfo // nil when its Gateway is not found or not Sluice's
	allowed   bool         // its Gateway takes it; accepted once a listener of it is valid
	accepted  bool
	reason    string
	message   string
	listeners []*listenerInfo
}

// listenerInfo is one listener of a Gateway or a ListenerSet.
type listenerInfo struct {
	l     gwv1.Listener
	set   *listenerSetInfo // nil for the Gateway's own listeners
	field string           // its path in its object, for problems
	// accepted: Sluice serves it. Otherwise reason says why not
	// (UnsupportedProtocol, HostnameConflict, ProtocolConflict).
	accepted   bool
	reason     string
	message    string
	conflicted bool
	// kinds are the route kinds it takes that Sluice serves; badKinds
	// says it names only kinds Sluice does not serve (InvalidRouteKinds).
	kinds    []gwv1.RouteGroupKind
	badKinds bool
	attached int32
}

// obj is the object the listener is declared in.
func (l *listenerInfo) obj(g *gatewayInfo) *Object {
	if l.set != nil {
		return l.set.obj
	}
	return g.obj
}

// namespaces records the labels of every declared Namespace, with the name
// label Kubernetes always sets.
func (a *analysis) namespaces(objs []*Object) {
	a.nsLabels = map[string]labels.Set{}
	for _, o := range objs {
		if ns, ok := o.Value.(*Namespace); ok {
			set := labels.Set{}
			for k, v := range ns.Labels {
				set[k] = v
			}
			set[labelNamespaceName] = o.Name
			a.nsLabels[o.Name] = set
		}
	}
}

// labelsOf returns a namespace's labels. A namespace that is only referred
// to (an object in it, a parentRef) exists implicitly, with only its name
// label: Sluice has no API server creating namespaces.
func (a *analysis) labelsOf(ns string) labels.Set {
	if l, ok := a.nsLabels[ns]; ok {
		return l
	}
	return labels.Set{labelNamespaceName: ns}
}

// selector compiles a label selector, refusing one Kubernetes would refuse.
func (a *analysis) selector(o *Object, field string, s *metav1.LabelSelector) labels.Selector {
	if s == nil {
		return labels.Everything()
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		a.add(o, field, "", "invalid label selector: %v", err)
		return labels.Nothing()
	}
	return sel
}

// missing says an object was not found: among the files given, when the
// analysis judges files alone (they may be applied next to others).
func (a *analysis) missing(kind, ns, name string) string {
	ref := ns + "/" + name
	if ns == "" {
		ref = name
	}
	if a.offline {
		return fmt.Sprintf("%s %s is not among the files given (where they are applied, it may exist)", kind, ref)
	}
	return fmt.Sprintf("%s %s not found", kind, ref)
}

// checkGateway checks a Gateway and its listeners. Listener problems that
// a controller reports in status (a protocol Sluice does not serve, a
// conflict) are conditions; the Gateway's other listeners still serve.
func (a *analysis) checkGateway(o *Object, g *gwv1.Gateway) *gatewayInfo {
	gi := &gatewayInfo{obj: o, gw: g, accepted: true}
	class := string(g.Spec.GatewayClassName)
	switch gc := a.idx["GatewayClass/"+class]; {
	case gc == nil:
		a.note(o, "spec.gatewayClassName", "%s: the Gateway is kept and served once its GatewayClass is applied", a.missing("GatewayClass", "", class))
	case gc.Value.(*gwv1.GatewayClass).Spec.ControllerName != ControllerName:
		a.note(o, "spec.gatewayClassName", "GatewayClass %q belongs to controller %q: Sluice does not serve this Gateway", class, gc.Value.(*gwv1.GatewayClass).Spec.ControllerName)
	default:
		gi.ours = true
	}
	names := map[gwv1.SectionName]bool{}
	type listenerKey struct {
		port     gwv1.PortNumber
		protocol gwv1.ProtocolType
		host     string
	}
	seen := map[listenerKey]bool{}
	for i, l := range g.Spec.Listeners {
		field := fmt.Sprintf("spec.listeners[%d]", i)
		if names[l.Name] {
			a.add(o, field+".name", "", "listener name %q is used twice", l.Name)
		}
		names[l.Name] = true
		k := listenerKey{l.Port, l.Protocol, hostOf(l.Hostname)}
		if seen[k] {
			a.add(o, field, "", "another listener has the same port %d, protocol %s and hostname %q", l.Port, l.Protocol, k.host)
		}
		seen[k] = true
		gi.listeners = append(gi.listeners, a.listener(o, field, l, nil))
	}
	if len(g.Spec.Addresses) > 0 {
		gi.accepted, gi.reason = false, string(gwv1.GatewayReasonUnsupportedAddress)
		gi.message = "Sluice assigns no addresses: the front door (API Gateway, or the local port) is every Gateway's address; leave spec.addresses out"
		if gi.ours {
			a.add(o, "spec.addresses", gi.reason, "%s", gi.message)
		}
	}
	if al := g.Spec.AllowedListeners; al != nil && al.Namespaces != nil && al.Namespaces.From != nil && *al.Namespaces.From == gwv1.NamespacesFromSelector {
		a.selector(o, "spec.allowedListeners.namespaces.selector", al.Namespaces.Selector)
	}
	return gi
}

// listener checks one listener (of a Gateway, or of a ListenerSet when set
// is not nil).
func (a *analysis) listener(o *Object, field string, l gwv1.Listener, set *listenerSetInfo) *listenerInfo {
	li := &listenerInfo{l: l, set: set, field: field, accepted: true}
	if l.Protocol != gwv1.HTTPProtocolType && l.Protocol != gwv1.HTTPSProtocolType {
		li.accepted, li.reason = false, string(gwv1.ListenerReasonUnsupportedProtocol)
		li.message = fmt.Sprintf("Sluice serves HTTP and HTTPS listeners, not %s", l.Protocol)
	}
	if ar := l.AllowedRoutes; ar != nil {
		if ar.Namespaces != nil && ar.Namespaces.From != nil && *ar.Namespaces.From == gwv1.NamespacesFromSelector {
			if ar.Namespaces.Selector == nil {
				a.add(o, field+".allowedRoutes.namespaces.selector", "", "required when from is Selector")
			}
			a.selector(o, field+".allowedRoutes.namespaces.selector", ar.Namespaces.Selector)
		}
	}
	if li.accepted {
		li.kinds, li.badKinds = routeKinds(l.AllowedRoutes)
	} else {
		li.badKinds = !kindsFit(l.Protocol, l.AllowedRoutes)
	}
	return li
}

// routeKindsOf are the route kinds each protocol Sluice does not serve
// takes, for telling whether a listener names kinds that cannot work.
var routeKindsOf = map[gwv1.ProtocolType][]gwv1.Kind{
	gwv1.TLSProtocolType: {"TLSRoute"}, gwv1.TCPProtocolType: {"TCPRoute"}, gwv1.UDPProtocolType: {"UDPRoute"},
}

// kindsFit reports whether the kinds a listener of an unserved protocol
// names fit that protocol (an HTTPRoute on a TLS listener does not).
func kindsFit(p gwv1.ProtocolType, ar *gwv1.AllowedRoutes) bool {
	fit, known := routeKindsOf[p]
	if !known || ar == nil {
		return true
	}
	for _, k := range ar.Kinds {
		if !slices.Contains(fit, k.Kind) {
			return false
		}
	}
	return true
}

// routeKinds returns the route kinds a listener takes that Sluice serves;
// bad is true when it names kinds and none of them is served.
func routeKinds(ar *gwv1.AllowedRoutes) (kinds []gwv1.RouteGroupKind, bad bool) {
	http := gwv1.RouteGroupKind{Group: ptr(gwv1.Group(GatewayGroup)), Kind: "HTTPRoute"}
	if ar == nil || len(ar.Kinds) == 0 {
		return []gwv1.RouteGroupKind{http}, false
	}
	for _, k := range ar.Kinds {
		if k.Kind == "HTTPRoute" && (k.Group == nil || *k.Group == GatewayGroup) {
			return []gwv1.RouteGroupKind{http}, false
		}
	}
	return nil, true
}

// checkListenerSet attaches a ListenerSet's listeners to its parent
// Gateway, when the Gateway allows ListenerSets from its namespace.
func (a *analysis) checkListenerSet(o *Object, ls *gwv1.ListenerSet) *listenerSetInfo {
	si := &listenerSetInfo{obj: o, ls: ls}
	names := map[gwv1.SectionName]bool{}
	for i, e := range ls.Spec.Listeners {
		field := fmt.Sprintf("spec.listeners[%d]", i)
		if names[e.Name] {
			a.add(o, field+".name", "", "listener name %q is used twice", e.Name)
		}
		names[e.Name] = true
		si.listeners = append(si.listeners, a.listener(o, field, gwv1.Listener(e), si))
	}
	p := ls.Spec.ParentRef
	ns := o.Namespace
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	si.reason = string(gwv1.ListenerSetReasonParentNotAccepted)
	switch {
	case p.Group != nil && *p.Group != GatewayGroup || p.Kind != nil && *p.Kind != "Gateway":
		si.message = "parentRef must be a gateway.networking.k8s.io Gateway"
		a.add(o, "spec.parentRef", si.reason, "%s", si.message)
		return si
	case a.gateways["Gateway/"+ns+"/"+string(p.Name)] == nil:
		si.message = a.missing("Gateway", ns, string(p.Name))
		a.add(o, "spec.parentRef.name", si.reason, "%s", si.message)
		return si
	}
	gi := a.gateways["Gateway/"+ns+"/"+string(p.Name)]
	if !gi.ours {
		si.reason = ""
		a.note(o, "spec.parentRef", "Gateway %s is not served by Sluice", gi.obj.Ref())
		return si
	}
	si.parent = gi
	switch {
	case !gi.accepted:
		si.message = fmt.Sprintf("Gateway %s is not accepted (%s)", gi.obj.Ref(), gi.reason)
	case !a.allowsListenerSet(gi, o.Namespace):
		si.reason = string(gwv1.ListenerSetReasonNotAllowed)
		si.message = fmt.Sprintf("Gateway %s does not allow ListenerSets from namespace %q (spec.allowedListeners)", gi.obj.Ref(), o.Namespace)
	default:
		si.allowed = true
	}
	if !si.allowed {
		a.add(o, "spec.parentRef", si.reason, "%s", si.message)
	}
	return si
}

// allowsListenerSet applies a Gateway's allowedListeners (default: none).
func (a *analysis) allowsListenerSet(gi *gatewayInfo, ns string) bool {
	al := gi.gw.Spec.AllowedListeners
	if al == nil || al.Namespaces == nil || al.Namespaces.From == nil {
		return false
	}
	switch *al.Namespaces.From {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return ns == gi.obj.Namespace
	case gwv1.NamespacesFromSelector:
		sel, err := metav1.LabelSelectorAsSelector(al.Namespaces.Selector)
		return err == nil && al.Namespaces.Selector != nil && sel.Matches(a.labelsOf(ns))
	}
	return false
}

// settleListeners gives each Gateway the listeners of the ListenerSets it
// takes, and settles conflicts in order of precedence: the Gateway's own
// listeners, then the ListenerSets' from the oldest. On a port, the first
// listener's protocol holds it: a later one of another protocol has a
// ProtocolConflict; of the same protocol and hostname, a HostnameConflict.
// A ListenerSet is accepted when one of its listeners is valid.
func (a *analysis) settleListeners(sets []*listenerSetInfo) {
	sort.SliceStable(sets, func(i, j int) bool { return older(sets[i].obj, sets[j].obj) })
	for _, si := range sets {
		if si.allowed {
			si.parent.listeners = append(si.parent.listeners, si.listeners...)
		}
	}
	for _, gi := range a.gateways {
		type listenerKey struct {
			port     gwv1.PortNumber
			protocol gwv1.ProtocolType
			host     string
		}
		protocols := map[gwv1.PortNumber]*listenerInfo{}
		hosts := map[listenerKey]*listenerInfo{}
		for _, li := range gi.listeners {
			k := listenerKey{li.l.Port, li.l.Protocol, hostOf(li.l.Hostname)}
			prev := protocols[li.l.Port]
			switch {
			case prev != nil && prev.l.Protocol != li.l.Protocol:
				li.conflict(gwv1.ListenerReasonProtocolConflict, "port %d is %s for listener %q", li.l.Port, prev.l.Protocol, prev.l.Name)
			case hosts[k] != nil && hosts[k].set == nil && li.set == nil:
				// refused already: the same port, protocol and hostname
			case hosts[k] != nil:
				li.conflict(gwv1.ListenerReasonHostnameConflict, "listener %q has port %d and hostname %q", hosts[k].l.Name, li.l.Port, k.host)
			default:
				if prev == nil {
					protocols[li.l.Port] = li
				}
				hosts[k] = li
			}
		}
		for _, li := range gi.listeners {
			if !gi.ours {
				break
			}
			if !li.accepted {
				a.add(li.obj(gi), li.field, li.reason, "%s", li.message)
			}
			if li.badKinds {
				a.add(li.obj(gi), li.field+".allowedRoutes.kinds", string(gwv1.ListenerReasonInvalidRouteKinds), "names no route kind the listener can take (Sluice serves HTTPRoute on HTTP and HTTPS listeners)")
			}
		}
	}
	for _, si := range sets {
		if !si.allowed {
			continue
		}
		si.reason, si.message = string(gwv1.ListenerSetReasonListenersNotValid), "no listener of it is valid"
		for _, li := range si.listeners {
			if li.accepted {
				si.accepted, si.reason, si.message = true, string(gwv1.ListenerSetReasonAccepted), "accepted"
				break
			}
		}
		if si.accepted {
			si.parent.sets = append(si.parent.sets, si)
		} else {
			a.add(si.obj, "spec.listeners", si.reason, "%s", si.message)
		}
	}
}

// conflict marks a listener as conflicting with an earlier one.
func (li *listenerInfo) conflict(reason gwv1.ListenerConditionReason, format string, args ...any) {
	li.accepted, li.conflicted = false, true
	li.reason, li.message = string(reason), "conflicts: "+fmt.Sprintf(format, args...)
	li.kinds = nil
}

func hostOf(h *gwv1.Hostname) string {
	if h == nil {
		return ""
	}
	return strings.ToLower(string(*h))
}

// attach decides whether a parent (a Gateway, or a ListenerSet) accepts
// the route, and for which hostnames.
func (a *analysis) attach(o *Object, hostnames []gwv1.Hostname, p gwv1.ParentReference) parentInfo {
	pi := parentInfo{ref: p, reason: string(gwv1.RouteReasonNoMatchingParent), ours: true}
	ns := o.Namespace
	if p.Namespace != nil {
		ns = string(*p.Namespace)
	}
	kind := "Gateway"
	if p.Kind != nil {
		kind = string(*p.Kind)
	}
	if p.Group != nil && *p.Group != GatewayGroup || kind != "Gateway" && kind != "ListenerSet" {
		pi.message = "parent must be a gateway.networking.k8s.io Gateway or ListenerSet"
		return pi
	}
	var gi *gatewayInfo
	var listeners []*listenerInfo
	if kind == "ListenerSet" {
		si := a.sets["ListenerSet/"+ns+"/"+string(p.Name)]
		switch {
		case si == nil:
			pi.message = a.missing("ListenerSet", ns, string(p.Name))
			return pi
		case si.parent == nil && si.reason == "":
			pi.ours = false // its Gateway is another controller's
			return pi
		case !si.accepted:
			pi.message = fmt.Sprintf("ListenerSet %s/%s is not accepted (%s)", ns, p.Name, si.reason)
			return pi
		}
		gi, listeners = si.parent, si.listeners
	} else {
		gi = a.gateways["Gateway/"+ns+"/"+string(p.Name)]
		if gi == nil {
			pi.message = a.missing("Gateway", ns, string(p.Name))
			return pi
		}
		if !gi.ours {
			pi.ours = false
			return pi
		}
		if !gi.accepted {
			pi.message = fmt.Sprintf("Gateway %s/%s is not accepted (%s)", ns, p.Name, gi.reason)
			return pi
		}
		for _, li := range gi.listeners {
			if li.set == nil {
				listeners = append(listeners, li)
			}
		}
	}
	pi.gateway = gi
	matchedListener, allowed := false, false
	for _, li := range listeners {
		l := li.l
		if p.SectionName != nil && *p.SectionName != l.Name || p.Port != nil && *p.Port != l.Port {
			continue
		}
		matchedListener = true
		if !li.accepted || len(li.kinds) == 0 || !a.allows(li, gi.obj.Namespace, o.Namespace) {
			continue
		}
		allowed = true
		hosts, origins, anyHost := intersect(hostOf(l.Hostname), hostnames)
		if anyHost {
			pi.anyHost = true
		}
		if anyHost || len(hosts) > 0 {
			pi.listeners = append(pi.listeners, li)
		}
		pi.hostnames = append(pi.hostnames, hosts...)
		pi.origins = append(pi.origins, origins...)
	}
	switch {
	case !matchedListener:
		pi.message = fmt.Sprintf("%s %s/%s has no listener matching the sectionName and port", kind, ns, p.Name)
	case !allowed:
		pi.reason = string(gwv1.RouteReasonNotAllowedByListeners)
		pi.message = fmt.Sprintf("no listener of %s %s/%s takes HTTPRoutes from namespace %q", kind, ns, p.Name, o.Namespace)
	case !pi.anyHost && len(pi.hostnames) == 0:
		pi.reason = string(gwv1.RouteReasonNoMatchingListenerHostname)
		pi.message = fmt.Sprintf("no hostname of the route intersects a listener hostname of %s %s/%s", kind, ns, p.Name)
	default:
		pi.accepted, pi.reason, pi.message = true, string(gwv1.RouteReasonAccepted), "accepted"
	}
	return pi
}

// allows reports whether a listener takes routes from routeNS: Same (the
// default), All, or the namespaces whose labels its selector matches. A
// ListenerSet's listener counts its own namespace as Same.
func (a *analysis) allows(li *listenerInfo, gatewayNS, routeNS string) bool {
	from := gwv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := li.l.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	own := gatewayNS
	if li.set != nil {
		own = li.set.obj.Namespace
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return own == routeNS
	case gwv1.NamespacesFromSelector:
		if sel == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && s.Matches(a.labelsOf(routeNS))
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
