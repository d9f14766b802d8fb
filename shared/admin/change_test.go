package admin

import (
	"context"
	"net/http"
	"testing"
)

// TestOnChange: each call that stores a route table or changes a key's
// record tells OnChange what it stored, before it answers; reads, dry runs,
// refusals and new keys (nothing cached yet) do not.
func TestOnChange(t *testing.T) {
	st := newMemStore()
	var got []Change
	h := New(Config{Token: token, Now: newClock().Now, OnChange: func(_ context.Context, c Change) { got = append(got, c) }}, st)
	var k CreateKeyResponse
	callJSON(t, h, "POST", "/admin/v1/keys", `{"name": "app"}`, http.StatusCreated, &k)
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         []Change
	}{
		{"apply", "POST", "/admin/v1/apply", applyBody(t, false, "platform.yaml", platform), 200, []Change{{TableVersion: 1}}},
		{"dry run", "POST", "/admin/v1/apply", applyBody(t, true, "dangling.yaml", dangling), 200, nil},
		{"refused apply", "POST", "/admin/v1/apply", applyBody(t, false, "invalid.yaml", invalid), 400, nil},
		{"second apply", "POST", "/admin/v1/apply", applyBody(t, false, "dangling.yaml", dangling), 200, []Change{{TableVersion: 2}}},
		{"delete", "DELETE", "/admin/v1/objects?kind=HTTPRoute&namespace=default&name=dangling", "", 200, []Change{{TableVersion: 3}}},
		{"rollback", "POST", "/admin/v1/rollback", "", 200, []Change{{TableVersion: 4}}},
		{"read", "GET", "/admin/v1/objects", "", 200, nil},
		{"new limits", "PATCH", "/admin/v1/keys/" + k.ID, `{"limits": {"requestsPerMinute": 5}}`, 200, []Change{{KeyID: k.ID}}},
		{"rotate", "POST", "/admin/v1/keys/" + k.ID + "/rotate", "", 200, []Change{{KeyID: k.ID}}},
		{"revoke", "POST", "/admin/v1/keys/" + k.ID + "/revoke", "", 200, []Change{{KeyID: k.ID}}},
		{"unknown key", "POST", "/admin/v1/keys/nosuchkey/revoke", "", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			callJSON(t, h, tt.method, tt.path, tt.body, tt.status, nil)
			if len(got) != len(tt.want) || len(got) > 0 && got[0] != tt.want[0] {
				t.Fatalf("OnChange got %+v, want %+v", got, tt.want)
			}
		})
	}
}
