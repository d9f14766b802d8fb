package gatewaytest

import (
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
)

// Routes maps a model, as clients name it, to the backends its requests
// go to.
type Routes map[string][]route.Backend

// Table builds the route table of routes: one rule per model, matched on
// the /v1 paths by the x-sluice-model header, sending to each of the
// model's backends with weight 1. A backend without a name is named
// default/<model>, or default/<model>-<i> when the model has several.
func Table(t testing.TB, routes Routes) *route.Table {
	t.Helper()
	models := make([]string, 0, len(routes))
	for m := range routes {
		models = append(models, m)
	}
	sort.Strings(models)
	tab := &route.Table{Version: 1}
	for _, model := range models {
		rule := route.Rule{Route: "default/" + model}
		for i, b := range routes[model] {
			if b.Name == "" {
				b.Name = "default/" + model
				if len(routes[model]) > 1 {
					b.Name += "-" + strconv.Itoa(i)
				}
			}
			tab.Backends = append(tab.Backends, b)
			rule.Backends = append(rule.Backends, route.BackendRef{Backend: len(tab.Backends) - 1, Weight: 1})
		}
		tab.Rules = append(tab.Rules, rule)
		tab.Entries = append(tab.Entries, route.Entry{
			Rule: len(tab.Rules) - 1, RouteName: rule.Route,
			Match: route.Match{
				Path:    route.PathMatch{Type: route.PathPrefix, Value: "/v1"},
				Headers: []route.ValueMatch{{Name: "x-sluice-model", Value: model}},
			},
		})
	}
	return Prepared(t, tab)
}

// OpenAIAt is an OpenAI-protocol backend at each endpoint.
func OpenAIAt(endpoints ...string) []route.Backend {
	bs := make([]route.Backend, len(endpoints))
	for i, ep := range endpoints {
		bs[i] = route.Backend{Provider: "openai", Endpoint: ep}
	}
	return bs
}

// Prepared prepares a table written as a literal, as the gateway needs it.
func Prepared(t testing.TB, tab *route.Table) *route.Table {
	t.Helper()
	if err := tab.Prepare(); err != nil {
		t.Fatal(err)
	}
	return tab
}

// Manifests compiles Gateway API manifests (file name to YAML) into a
// route table, as the admin API does on apply, at the fixed clock's time.
// A problem that refuses the manifests fails the test; conditions and
// notices are how valid manifests report what is not served, and pass.
func Manifests(t testing.TB, files map[string][]byte) *route.Table {
	t.Helper()
	objs, probs := gatewayapi.Validate(files)
	for _, p := range probs {
		if p.Level == gatewayapi.Refused {
			t.Errorf("refused: %s", p)
		}
	}
	now := providertest.Now()
	tab, err := gatewayapi.Compile(objs, 1, now, func(*gatewayapi.Object) time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return tab
}
