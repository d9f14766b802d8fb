package gatewaytest

import (
	"net/http"
	"testing"

	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
)

func TestCycle(t *testing.T) {
	var c Cycle
	for _, n := range []int{1, 3, 100} {
		seen := map[int]int{}
		for range 2 * n {
			seen[c.IntN(n)]++
		}
		for x := range n {
			if seen[x] != 2 {
				t.Fatalf("n=%d: draws %v, want each of [0, n) twice", n, seen)
			}
		}
	}
}

func TestTableNamesBackends(t *testing.T) {
	tab := Table(t, Routes{"one": OpenAIAt("http://a"), "two": OpenAIAt("http://b", "http://c"),
		"named": {{Name: "ns/mine", Provider: "anthropic"}}})
	var names []string
	for _, b := range tab.Backends {
		names = append(names, b.Name)
	}
	if got := names; len(got) != 4 || got[0] != "ns/mine" || got[1] != "default/one" || got[2] != "default/two-0" || got[3] != "default/two-1" {
		t.Fatalf("backends %v", got)
	}
}

// TestNew serves a chat completion to the harness's key, and refuses
// another.
func TestNew(t *testing.T) {
	var seen Recorder
	up := Upstream(t, seen.Wrap(&mock.OpenAI{}))
	g := New(t, Table(t, Routes{"m": []route.Backend{{Provider: "openai", Endpoint: up + "/v1", Credential: "c"}}}),
		WithCredentials(map[string]string{"c": "sk-upstream"}))
	resp, body := g.Post(t, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != http.StatusOK || seen.Count() != 1 || seen.Last(t).Header.Get("Authorization") != "Bearer sk-upstream" {
		t.Fatalf("status %d, %d upstream requests: %s", resp.StatusCode, seen.Count(), body)
	}
	if rec := g.Serve(http.MethodGet, "/v1/models", ""); rec.Code != http.StatusOK {
		t.Fatalf("models: %d %s", rec.Code, rec.Body)
	}
	if resp, _ := g.Do(t, http.MethodGet, "/v1/models", "", "Authorization", "Bearer sk-sluice-x-y"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("another key: %d", resp.StatusCode)
	}
}
