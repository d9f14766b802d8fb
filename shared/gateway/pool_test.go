package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

// TestPoolShedsLowPriorityWhenSaturated holds one request in flight on a
// pool of capacity 2 and checks that a batch request is shed with 429 while
// a critical one still goes through.
func TestPoolShedsLowPriorityWhenSaturated(t *testing.T) {
	release := make(chan struct{})
	slow := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("hold")) { // the body is what reaches the upstream
			<-release
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	tab := gatewaytest.Prepared(t, &route.Table{
		Backends: []route.Backend{
			{Name: "ns/a", Provider: "openai", Endpoint: slow + "/v1", MaxConcurrency: 1},
			{Name: "ns/b", Provider: "openai", Endpoint: slow + "/v1", MaxConcurrency: 1},
		},
		Pools: []route.Pool{{Name: "ns/pool", Members: []int{0, 1}, Objectives: map[string]int{"critical": 10, "batch": -1}}},
		Rules: []route.Rule{{
			Route:    "ns/r",
			Backends: []route.BackendRef{{Backend: -1, Weight: 1, Pool: 1}},
			Filters:  route.Filters{},
		}},
		Entries: []route.Entry{{Rule: 0, RouteName: "ns/r", Match: route.Match{Path: route.PathMatch{Type: route.PathPrefix, Value: "/v1"}}}},
	})
	g := gatewaytest.New(t, tab)
	t.Cleanup(func() { close(release) }) // before the servers close: they wait for the held request
	send := func(objective string, hold bool) *http.Response {
		content := "x"
		if hold {
			content = "hold"
		}
		req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"`+content+`"}]}`))
		req.Header.Set("Authorization", "Bearer "+g.Key)
		if objective != "" {
			req.Header.Set(route.ObjectiveHeader, objective)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		resp.Body.Close()
		return resp
	}
	go send("critical", true) // holds one member
	deadline := time.Now().Add(5 * time.Second)
	for g.Balancer().InFlight("ns/a")+g.Balancer().InFlight("ns/b") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the held request never got in flight")
		}
		time.Sleep(time.Millisecond)
	}
	if resp := send("batch", false); resp == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("batch while saturated: %v", resp)
	}
	if resp := send("critical", false); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("critical while half busy: %v", resp)
	}
}
