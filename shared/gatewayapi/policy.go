package gatewayapi

import (
	"fmt"
	"math"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicegw/sluice/shared/ledger"
)

// TokenLimitPolicy (sluice.dev/v1alpha1) limits what keys and consumers
// spend through the HTTPRoutes or Gateways it targets (Gateway API policy
// attachment). A policy on a route wins over one on the route's Gateway;
// between two on the same target, the older one wins (creationTimestamp,
// then namespace/name), as the Gateway API's conflict rules say.
type TokenLimitPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              TokenLimitPolicySpec `json:"spec"`
	Status            PolicyStatus         `json:"status,omitempty"`
}

// TokenLimitPolicySpec is the desired state of a TokenLimitPolicy.
type TokenLimitPolicySpec struct {
	// TargetRefs are HTTPRoutes or Gateways in the policy's namespace.
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// PerKey limits each API key; PerConsumer limits all keys of a
	// consumer together.
	PerKey      ledger.Limits `json:"perKey,omitzero"`
	PerConsumer ledger.Limits `json:"perConsumer,omitzero"`
	// Prices override the default price table per model, in USD per
	// million tokens.
	Prices map[string]ledger.Price `json:"prices,omitempty"`
	// DefaultMaxTokens is reserved for requests that set no max tokens.
	DefaultMaxTokens int64 `json:"defaultMaxTokens,omitempty"`
}

// PolicyTargetRef is the Gateway API's LocalPolicyTargetReference.
type PolicyTargetRef struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
}

// PolicyStatus reports, per target, whether the policy is in force.
type PolicyStatus struct {
	Ancestors []PolicyAncestorStatus `json:"ancestors,omitempty"`
}

// PolicyAncestorStatus is the status of the policy on one target.
type PolicyAncestorStatus struct {
	AncestorRef    PolicyTargetRef    `json:"ancestorRef"`
	ControllerName string             `json:"controllerName"`
	Conditions     []metav1.Condition `json:"conditions,omitempty"`
}

// Policy condition reasons (Gateway API policy attachment, GEP-713).
const (
	PolicyReasonAccepted       = "Accepted"
	PolicyReasonTargetNotFound = "TargetNotFound"
	PolicyReasonConflicted     = "Conflicted"
)

func (a *analysis) checkTokenLimitPolicy(o *Object, p *TokenLimitPolicy) {
	if len(p.Spec.TargetRefs) == 0 {
		a.add(o, "spec.targetRefs", "", "at least one target is required")
	}
	for i, t := range p.Spec.TargetRefs {
		field := fmt.Sprintf("spec.targetRefs[%d]", i)
		switch {
		case t.Group != GatewayGroup:
			a.add(o, field+".group", "", "must be %q, got %q", GatewayGroup, t.Group)
		case t.Kind != "HTTPRoute" && t.Kind != "Gateway":
			a.add(o, field+".kind", "", "must be HTTPRoute or Gateway, got %q", t.Kind)
		case t.Name == "":
			a.add(o, field+".name", "", "required")
		case a.idx[t.Kind+"/"+o.Namespace+"/"+t.Name] == nil:
			a.add(o, field+".name", PolicyReasonTargetNotFound, "%s", a.missing(t.Kind, o.Namespace, t.Name))
		}
	}
	for name, lim := range map[string]ledger.Limits{"spec.perKey": p.Spec.PerKey, "spec.perConsumer": p.Spec.PerConsumer} {
		if err := lim.Validate(); err != nil {
			field, msg, _ := strings.Cut(err.Error(), ": ")
			a.add(o, name+"."+field, "", "%s", msg)
		}
	}
	for _, m := range sortedKeys(p.Spec.Prices) {
		pr := p.Spec.Prices[m]
		for f, v := range map[string]float64{"input": pr.Input, "output": pr.Output, "cached": pr.Cached} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				a.add(o, "spec.prices."+m+"."+f, "", "must be a non-negative number of USD per million tokens, got %v", v)
			}
		}
	}
	if p.Spec.DefaultMaxTokens < 0 {
		a.add(o, "spec.defaultMaxTokens", "", "must not be negative, got %d", p.Spec.DefaultMaxTokens)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func older(a, b *Object) bool {
	ta, tb := creationOf(a).Time, creationOf(b).Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Key() < b.Key()
}

func creationOf(o *Object) metav1.Time {
	if m, ok := o.Value.(interface{ GetCreationTimestamp() metav1.Time }); ok {
		return m.GetCreationTimestamp()
	}
	return metav1.Time{}
}

// policyFor returns the compiled policy of a route: its own, else that of
// the first accepting parent Gateway that has one.
func (ri *routeInfo) policyFor(byTarget map[string]*Object, compiled map[string]*ledger.Policy) *ledger.Policy {
	o := byTarget["HTTPRoute/"+ri.obj.Ref()]
	if o == nil {
		for _, p := range ri.parents {
			if !p.accepted {
				continue
			}
			if o = byTarget[p.gateway.obj.Key()]; o != nil {
				break
			}
		}
	}
	if o == nil {
		return nil
	}
	if c, ok := compiled[o.Key()]; ok {
		return c
	}
	p := o.Value.(*TokenLimitPolicy)
	c := &ledger.Policy{Name: o.Ref(), Key: p.Spec.PerKey, Consumer: p.Spec.PerConsumer,
		Prices: p.Spec.Prices, DefaultMaxTokens: p.Spec.DefaultMaxTokens}
	compiled[o.Key()] = c
	return c
}
