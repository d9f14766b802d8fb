package gatewayapi

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// SetStatus writes the status a Gateway API controller reports into the
// objects: per parent Accepted and ResolvedRefs on each HTTPRoute (keeping
// the parent entries of other controllers); Accepted
// and Programmed on each Gateway, with per-listener conditions and counts of
// attached routes; Accepted on each GatewayClass of Sluice's controller.
func SetStatus(objs []*Object, now time.Time) {
	a := analyze(objs)
	t := metav1.NewTime(now.UTC().Truncate(time.Second))
	setPolicyStatus(a, objs, t)
	attached := map[string]int32{} // Gateway/ns/name/listener → routes
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
		for _, p := range ri.parents {
			accepted := condition(string(gwv1.RouteConditionAccepted), p.accepted, p.reason, p.message, ri.route.Generation, t)
			resolved := condition(string(gwv1.RouteConditionResolvedRefs), ri.refsOK, string(gwv1.RouteReasonResolvedRefs), "all references resolved", ri.route.Generation, t)
			if !ri.refsOK {
				resolved.Reason, resolved.Message = ri.refReason, ri.refMsg
			}
			ri.route.Status.Parents = append(ri.route.Status.Parents, gwv1.RouteParentStatus{
				ParentRef: p.ref, ControllerName: ControllerName, Conditions: []metav1.Condition{accepted, resolved},
			})
			if p.accepted {
				ns := ri.obj.Namespace
				if p.ref.Namespace != nil {
					ns = string(*p.ref.Namespace)
				}
				for _, l := range p.listeners {
					attached["Gateway/"+ns+"/"+string(p.ref.Name)+"/"+l]++
				}
			}
		}
	}
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *gwv1.GatewayClass:
			ok := v.Spec.ControllerName == ControllerName
			v.Status.Conditions = []metav1.Condition{condition(string(gwv1.GatewayClassConditionStatusAccepted), ok,
				pick(ok, string(gwv1.GatewayClassReasonAccepted), string(gwv1.GatewayClassReasonUnsupported)), "", v.Generation, t)}
		case *gwv1.Gateway:
			ok := true
			for _, p := range a.problems {
				if p.Kind == "Gateway" && p.Ref == o.Ref() {
					ok = false
				}
			}
			reason := pick(ok, string(gwv1.GatewayReasonAccepted), string(gwv1.GatewayReasonInvalid))
			v.Status.Conditions = []metav1.Condition{
				condition(string(gwv1.GatewayConditionAccepted), ok, reason, "", v.Generation, t),
				condition(string(gwv1.GatewayConditionProgrammed), ok, pick(ok, string(gwv1.GatewayReasonProgrammed), string(gwv1.GatewayReasonInvalid)), "", v.Generation, t),
			}
			v.Status.Listeners = nil
			for _, l := range v.Spec.Listeners {
				v.Status.Listeners = append(v.Status.Listeners, gwv1.ListenerStatus{
					Name: l.Name, AttachedRoutes: attached["Gateway/"+o.Ref()+"/"+string(l.Name)],
					SupportedKinds: []gwv1.RouteGroupKind{{Group: ptr(gwv1.Group(GatewayGroup)), Kind: "HTTPRoute"}},
					Conditions: []metav1.Condition{
						condition(string(gwv1.ListenerConditionAccepted), true, string(gwv1.ListenerReasonAccepted), "", v.Generation, t),
						condition(string(gwv1.ListenerConditionProgrammed), true, string(gwv1.ListenerReasonProgrammed), "", v.Generation, t),
						condition(string(gwv1.ListenerConditionResolvedRefs), true, string(gwv1.ListenerReasonResolvedRefs), "", v.Generation, t),
						condition(string(gwv1.ListenerConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "", v.Generation, t),
					},
				})
			}
		}
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
