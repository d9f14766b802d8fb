package gatewayapi

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// attachedPolicy is a Sluice policy kind attached to its targets with
// targetRefs (Gateway API policy attachment, GEP-713).
type attachedPolicy interface {
	policyTargets() []PolicyTargetRef
	policyStatus() *PolicyStatus
	GetGeneration() int64
}

func (p *TokenLimitPolicy) policyTargets() []PolicyTargetRef { return p.Spec.TargetRefs }
func (p *TokenLimitPolicy) policyStatus() *PolicyStatus      { return &p.Status }
func (p *CachePolicy) policyTargets() []PolicyTargetRef      { return p.Spec.TargetRefs }
func (p *CachePolicy) policyStatus() *PolicyStatus           { return &p.Status }
func (p *AccessLogPolicy) policyTargets() []PolicyTargetRef  { return p.Spec.TargetRefs }
func (p *AccessLogPolicy) policyStatus() *PolicyStatus       { return &p.Status }
func (p *BackendPolicy) policyTargets() []PolicyTargetRef    { return p.Spec.TargetRefs }
func (p *BackendPolicy) policyStatus() *PolicyStatus         { return &p.Status }

// routeOrGateway keys a target among HTTPRoutes and Gateways
// ("HTTPRoute/ns/name"); "" for any other kind.
func routeOrGateway(ns string, t PolicyTargetRef) string {
	if t.Group != GatewayGroup || (t.Kind != "HTTPRoute" && t.Kind != "Gateway") {
		return ""
	}
	return t.Kind + "/" + ns + "/" + t.Name
}

// inForce finds the policy of a kind in force on each target, keyed by
// target: of two on one target the older wins, as GEP-713 says.
func (a *analysis) inForce(kind string, target func(ns string, t PolicyTargetRef) string) map[string]*Object {
	byTarget := map[string]*Object{}
	for _, o := range a.sorted(kind) {
		for _, t := range o.Value.(attachedPolicy).policyTargets() {
			k := target(o.Namespace, t)
			if k == "" {
				continue
			}
			if cur, ok := byTarget[k]; !ok || older(o, cur) {
				byTarget[k] = o
			}
		}
	}
	return byTarget
}

// setAttachedStatus writes the per-target Accepted condition of each
// policy of a kind: in force, its target missing, or another, older
// policy in force there.
func setAttachedStatus(a *analysis, objs []*Object, kind string, target func(ns string, t PolicyTargetRef) string, t metav1.Time) {
	byTarget := a.inForce(kind, target)
	for _, o := range objs {
		if o.Kind != kind {
			continue
		}
		p := o.Value.(attachedPolicy)
		gen := p.GetGeneration()
		st := p.policyStatus()
		st.Ancestors = nil
		for _, ref := range p.policyTargets() {
			k := target(o.Namespace, ref)
			var c metav1.Condition
			switch {
			case k == "" || a.idx[k] == nil:
				c = condition("Accepted", false, PolicyReasonTargetNotFound, ref.Kind+"/"+o.Namespace+"/"+ref.Name+" not found", gen, t)
			case byTarget[k] != o:
				c = condition("Accepted", false, PolicyReasonConflicted, "an older policy, "+byTarget[k].Key()+", targets "+k, gen, t)
			default:
				c = condition("Accepted", true, PolicyReasonAccepted, "in force on "+k, gen, t)
			}
			st.Ancestors = append(st.Ancestors, PolicyAncestorStatus{AncestorRef: ref, ControllerName: ControllerName, Conditions: []metav1.Condition{c}})
		}
	}
}
