package gatewayapi

import (
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestSetGenerations: a new object is generation 1; a change to anything
// but metadata and status bumps it; the same spec keeps it.
func TestSetGenerations(t *testing.T) {
	parse := func(backend, label string) *Object {
		objs, probs := Parse(map[string][]byte{"r.yaml": []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra, labels: {l: ` + label + `}}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: ` + backend + `, port: 8080}]}]
`)})
		if len(probs) > 0 || len(objs) != 1 {
			t.Fatalf("%v", probs)
		}
		return objs[0]
	}
	gen := func(o *Object) int64 { return o.Value.(*gwv1.HTTPRoute).Generation }
	first := parse("v1", "a")
	SetGenerations(nil, []*Object{first})
	relabelled := parse("v1", "b")
	SetGenerations([]*Object{first}, []*Object{relabelled})
	changed := parse("v2", "b")
	SetGenerations([]*Object{relabelled}, []*Object{changed})
	if gen(first) != 1 || gen(relabelled) != 1 || gen(changed) != 2 {
		t.Errorf("generations %d, %d, %d; want 1, 1, 2", gen(first), gen(relabelled), gen(changed))
	}
}
