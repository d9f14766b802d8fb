package gatewayapi

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// SetStatus writes the status a Gateway API controller reports into the
// objects it owns: per parent Accepted and ResolvedRefs on each HTTPRoute
// (keeping the parent entries of other controllers), Accepted=False on
// routes of kinds Sluice does not serve; Accepted and Programmed on each
// of Sluice's Gateways and ListenerSets, with per-listener conditions and
// counts of attached routes; Accepted on each of Sluice's GatewayClasses.
// Objects of other controllers are left as they are.
func SetStatus(objs []*Object, now time.Time) {
	a := analyze(objs, false)
	t := metav1.NewTime(now.UTC().Truncate(time.Second))
	setAttachedStatus(a, objs, "TokenLimitPolicy", routeOrGateway, t)
	setAttachedStatus(a, objs, "BackendPolicy", backendPolicyTarget, t)
	setAttachedStatus(a, objs, cacheKindName, routeOrGateway, t)
	setAttachedStatus(a, objs, accessLogKindName, routeOrGateway, t)
	for _, ri := range a.routes {
		// Entries another controller wrote are left as they are (the
		// Gateway API forbids removing or changing them); Sluice's own
		// are written anew.
		var foreign []gwv1.RouteParentStatus
		for _, ps := range ri.route.Status.Parents {
			if ps.ControllerName != ControllerName {
				foreign = append(foreign, ps)
			}
		}
		ri.route.Status.Parents = foreign
		gen := ri.route.Generation
		for _, p := range ri.parents {
			if !p.ours {
				continue
			}
			accepted := condition(string(gwv1.RouteConditionAccepted), p.accepted, p.reason, p.message, gen, t)
			resolved := condition(string(gwv1.RouteConditionResolvedRefs), ri.refsOK, string(gwv1.RouteReasonResolvedRefs), "all references resolved", gen, t)
			if !ri.refsOK {
				resolved.Reason, resolved.Message = ri.refReason, ri.refMsg
			}
			ri.route.Status.Parents = append(ri.route.Status.Parents, gwv1.RouteParentStatus{
				ParentRef: p.ref, ControllerName: ControllerName, Conditions: []metav1.Condition{accepted, resolved},
			})
			if p.accepted {
				for _, l := range p.listeners {
					l.attached++
				}
			}
		}
	}
	for _, or := range a.others {
		setOtherStatus(or, t)
	}
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *gwv1.GatewayClass:
			if v.Spec.ControllerName == ControllerName {
				v.Status.Conditions = []metav1.Condition{condition(string(gwv1.GatewayClassConditionStatusAccepted), true,
					string(gwv1.GatewayClassReasonAccepted), "", v.Generation, t)}
			}
		case *gwv1.Gateway:
			if gi := a.gateways[o.Key()]; gi != nil && gi.ours {
				setGatewayStatus(gi, t)
			}
		case *gwv1.ListenerSet:
			if si := a.sets[o.Key()]; si != nil && si.parent != nil {
				setListenerSetStatus(si, t)
			}
		}
	}
}

func setGatewayStatus(gi *gatewayInfo, t metav1.Time) {
	g := gi.gw
	reason, msg := string(gwv1.GatewayReasonAccepted), ""
	var own []*listenerInfo
	for _, l := range gi.listeners {
		if l.set == nil {
			own = append(own, l)
			if !l.accepted && reason == string(gwv1.GatewayReasonAccepted) {
				reason, msg = string(gwv1.GatewayReasonListenersNotValid), "listener "+string(l.l.Name)+": "+l.message
			}
		}
	}
	if !gi.accepted {
		reason, msg = gi.reason, gi.message
	}
	programmed := pick(gi.accepted, string(gwv1.GatewayReasonProgrammed), string(gwv1.GatewayReasonInvalid))
	g.Status.Conditions = []metav1.Condition{
		condition(string(gwv1.GatewayConditionAccepted), gi.accepted, reason, msg, g.Generation, t),
		condition(string(gwv1.GatewayConditionProgrammed), gi.accepted, programmed, "", g.Generation, t),
	}
	g.Status.Listeners = nil
	for _, l := range own {
		g.Status.Listeners = append(g.Status.Listeners, listenerStatus(l, gi.accepted, g.Generation, t))
	}
	g.Status.AttachedListenerSets = ptr(int32(len(gi.sets)))
}

func setListenerSetStatus(si *listenerSetInfo, t metav1.Time) {
	ls := si.ls
	gen := ls.Generation
	reason := si.reason
	ok := si.accepted
	msg := si.message
	ls.Status.Conditions = []metav1.Condition{
		condition(string(gwv1.ListenerSetConditionAccepted), ok, reason, msg, gen, t),
		condition(string(gwv1.ListenerSetConditionProgrammed), ok, pick(ok, string(gwv1.ListenerSetReasonProgrammed), reason), "", gen, t),
	}
	ls.Status.Listeners = nil
	for _, l := range si.listeners {
		ls.Status.Listeners = append(ls.Status.Listeners, gwv1.ListenerEntryStatus(listenerStatus(l, ok, gen, t)))
	}
}

// listenerStatus reports one listener: Accepted (or why not), Programmed,
// ResolvedRefs (False when it names no route kind Sluice serves),
// Conflicted, its supported kinds and attached routes.
func listenerStatus(l *listenerInfo, parentOK bool, gen int64, t metav1.Time) gwv1.ListenerStatus {
	ok := l.accepted && parentOK
	accepted := condition(string(gwv1.ListenerConditionAccepted), l.accepted, string(gwv1.ListenerReasonAccepted), "", gen, t)
	if !l.accepted {
		accepted.Reason, accepted.Message = l.reason, l.message
	}
	notProgrammed := string(gwv1.ListenerReasonInvalid)
	if !l.accepted {
		notProgrammed = l.reason
	}
	programmed := condition(string(gwv1.ListenerConditionProgrammed), ok, pick(ok, string(gwv1.ListenerReasonProgrammed), notProgrammed), "", gen, t)
	resolved := condition(string(gwv1.ListenerConditionResolvedRefs), !l.badKinds, string(gwv1.ListenerReasonResolvedRefs), "", gen, t)
	if l.badKinds {
		resolved.Reason, resolved.Message = string(gwv1.ListenerReasonInvalidRouteKinds), "names no route kind Sluice serves (it serves HTTPRoute)"
	}
	conflicted := condition(string(gwv1.ListenerConditionConflicted), l.conflicted, string(gwv1.ListenerReasonNoConflicts), "", gen, t)
	if l.conflicted {
		conflicted.Reason, conflicted.Message = l.reason, l.message
	}
	kinds := l.kinds
	if kinds == nil {
		kinds = []gwv1.RouteGroupKind{}
	}
	return gwv1.ListenerStatus{
		Name: l.l.Name, AttachedRoutes: l.attached, SupportedKinds: kinds,
		Conditions: []metav1.Condition{accepted, programmed, resolved, conflicted},
	}
}

func ptr[T any](v T) *T { return &v }

func pick(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

func condition(typ string, ok bool, reason, msg string, gen int64, t metav1.Time) metav1.Condition {
	s := metav1.ConditionTrue
	if !ok {
		s = metav1.ConditionFalse
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen, LastTransitionTime: t}
}
