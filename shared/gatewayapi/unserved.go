package gatewayapi

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// otherRoute is a route of a Gateway API kind Sluice does not serve
// (GRPCRoute, TLSRoute, TCPRoute, UDPRoute). It is kept, and on each of
// Sluice's parents its status says no listener takes it, as a Gateway API
// implementation without that kind reports it.
type otherRoute struct {
	obj     *Object
	status  *gwv1.RouteStatus
	gen     int64
	parents []parentInfo
}

func (a *analysis) otherRoute(o *Object) *otherRoute {
	var spec *gwv1.CommonRouteSpec
	var or otherRoute
	switch v := o.Value.(type) {
	case *gwv1.GRPCRoute:
		spec, or.status, or.gen = &v.Spec.CommonRouteSpec, &v.Status.RouteStatus, v.Generation
	case *gwv1.TLSRoute:
		spec, or.status, or.gen = &v.Spec.CommonRouteSpec, &v.Status.RouteStatus, v.Generation
	case *gwv1.TCPRoute:
		spec, or.status, or.gen = &v.Spec.CommonRouteSpec, &v.Status.RouteStatus, v.Generation
	case *gwv1.UDPRoute:
		spec, or.status, or.gen = &v.Spec.CommonRouteSpec, &v.Status.RouteStatus, v.Generation
	default:
		return nil
	}
	or.obj = o
	for i, p := range spec.ParentRefs {
		pi := a.attach(o, nil, p)
		field := fmt.Sprintf("spec.parentRefs[%d]", i)
		if !pi.ours {
			continue
		}
		if pi.gateway != nil {
			pi.accepted, pi.reason = false, string(gwv1.RouteReasonNotAllowedByListeners)
			pi.message = fmt.Sprintf("Sluice serves HTTPRoutes only: no listener takes a %s", o.Kind)
			pi.listeners = nil
		} else if pi.reason == string(gwv1.RouteReasonNoMatchingParent) {
			field += ".name"
		}
		a.add(o, field, pi.reason, "%s", pi.message)
		or.parents = append(or.parents, pi)
	}
	if len(spec.ParentRefs) == 0 {
		a.note(o, "", "kept as written; Sluice serves HTTPRoutes only")
	}
	return &or
}

// notServed notes an object of a kind Sluice keeps but does not act on.
func (a *analysis) notServed(o *Object) {
	switch o.Kind {
	case "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute":
		return // their parents' status says it
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob":
		a.note(o, "", "kept as written, not served: Sluice runs no workloads; a Service that selects these pods needs EndpointSlices that list their addresses")
	case "BackendTLSPolicy":
		a.note(o, "", "kept as written, not served: Sluice reaches Service backends over plain HTTP or h2c")
	default:
		a.note(o, "", "kept as written, not served: %s is not a kind Sluice acts on", o.Kind)
	}
}

// setOtherStatus writes the parent status of a route Sluice does not serve,
// keeping the entries of other controllers.
func setOtherStatus(or *otherRoute, t metav1.Time) {
	keep := or.status.Parents[:0]
	for _, ps := range or.status.Parents {
		if ps.ControllerName != ControllerName {
			keep = append(keep, ps)
		}
	}
	or.status.Parents = keep
	for _, p := range or.parents {
		or.status.Parents = append(or.status.Parents, gwv1.RouteParentStatus{
			ParentRef: p.ref, ControllerName: ControllerName,
			Conditions: []metav1.Condition{condition(string(gwv1.RouteConditionAccepted), false, p.reason, p.message, or.gen, t)},
		})
	}
}
