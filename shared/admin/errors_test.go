package admin

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/store"
)

// endpoints is every route the admin API serves, with a body it accepts.
var endpoints = [][3]string{
	{"POST", "/admin/v1/apply", `{"files": {}}`},
	{"GET", "/admin/v1/objects", ""},
	{"DELETE", "/admin/v1/objects?kind=GatewayClass&name=sluice", ""},
	{"POST", "/admin/v1/rollback", ""},
	{"POST", "/admin/v1/keys", `{"name": "k"}`},
	{"GET", "/admin/v1/keys", ""},
	{"GET", "/admin/v1/keys/ID", ""},
	{"POST", "/admin/v1/keys/ID/revoke", ""},
	{"POST", "/admin/v1/keys/ID/rotate", ""},
	{"PATCH", "/admin/v1/keys/ID", `{"limits": {}}`},
	{"GET", "/admin/v1/usage", ""},
}

// seeded returns a store holding two table versions (platform, then
// dangling) and one key, with the key's id.
func seeded(t *testing.T) (*memStore, string) {
	t.Helper()
	st := newMemStore()
	h := newHandler(st, newClock())
	callJSON(t, h, "POST", "/admin/v1/apply", applyBody(t, false, "platform.yaml", platform), http.StatusOK, nil)
	callJSON(t, h, "POST", "/admin/v1/apply", applyBody(t, false, "dangling.yaml", dangling), http.StatusOK, nil)
	var k CreateKeyResponse
	callJSON(t, h, "POST", "/admin/v1/keys", `{"name": "app"}`, http.StatusCreated, &k)
	return st, k.ID
}

func TestAuth(t *testing.T) {
	st, id := seeded(t)
	h := newHandler(st, newClock())
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Bearer " + token + "x", "Bearer  " + token, token, "Basic " + token} {
		for _, e := range endpoints {
			r := httptest.NewRequest(e[0], strings.ReplaceAll(e[1], "ID", id), strings.NewReader(e[2]))
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "missing or wrong admin token") {
				t.Errorf("Authorization %q, %s %s: %d %s", auth, e[0], e[1], w.Code, w.Body)
			}
		}
	}
	if keys := storedKeys(t, st); len(keys) != len(platformKeys)+1 {
		t.Errorf("a refused request changed the store: %v", keys)
	}

	// The scheme is case-insensitive (RFC 9110).
	r := httptest.NewRequest("GET", "/admin/v1/keys/"+id, nil)
	r.Header.Set("Authorization", "bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("bearer in lower case: %d %s", w.Code, w.Body)
	}

	// Without a token configured (IAM authorises in front), none is asked.
	open := New(Config{}, st)
	r = httptest.NewRequest("GET", "/admin/v1/keys/"+id, nil)
	w = httptest.NewRecorder()
	open.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("no token configured: %d %s", w.Code, w.Body)
	}
}

func TestUnknownEndpoint(t *testing.T) {
	h := newHandler(newMemStore(), newClock())
	for _, r := range [][2]string{{"GET", "/admin/v1/nothing"}, {"PUT", "/admin/v1/apply"}, {"GET", "/admin/v1/apply"}, {"DELETE", "/admin/v1/keys"}} {
		status, b := call(t, h, r[0], r[1], "")
		if status != http.StatusNotFound || !strings.Contains(string(b), "no such admin endpoint: "+r[0]+" "+r[1]) {
			t.Errorf("%s %s: %d %s", r[0], r[1], status, b)
		}
	}
}

// TestBadRequests: what a caller gets wrong is a 400 saying what, and
// changes nothing.
func TestBadRequests(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		want                     string
	}{
		{"apply: not JSON", "POST", "/admin/v1/apply", "files:", `body must be JSON {\"files\": {\"name.yaml\": \"...\"}}: invalid character`},
		{"apply: too large", "POST", "/admin/v1/apply", `{"files": {"a.yaml": "` + strings.Repeat("x", maxApplyBytes) + `"}}`, "request body too large"},
		{"delete: no kind", "DELETE", "/admin/v1/objects?name=chat", "", "kind and name are required query parameters"},
		{"delete: no name", "DELETE", "/admin/v1/objects?kind=HTTPRoute", "", "kind and name are required query parameters"},
		{"rollback: not JSON", "POST", "/admin/v1/rollback", "{version: 1}", `body must be JSON {\"version\": N}`},
		{"rollback: a version as a string", "POST", "/admin/v1/rollback", `{"version": "1"}`, `body must be JSON {\"version\": N}`},
		{"create key: not JSON", "POST", "/admin/v1/keys", "name=app", `body must be JSON {\"name\": \"...\"`},
		{"create key: no name", "POST", "/admin/v1/keys", `{"consumer": "team-a"}`, "with a name"},
		{"create key: a negative limit", "POST", "/admin/v1/keys", `{"name": "a", "limits": {"requestsPerMinute": -1}}`, "limits.requestsPerMinute: must not be negative, got -1"},
		{"create key: nested model limits", "POST", "/admin/v1/keys", `{"name": "a", "limits": {"models": {"m": {"models": {"n": {}}}}}}`, "limits.models.m.models: per-model limits do not nest"},
		{"rotate: not JSON", "POST", "/admin/v1/keys/ID/rotate", "1h", `body must be JSON {\"gracePeriod\": \"1h\"}`},
		{"rotate: not a duration", "POST", "/admin/v1/keys/ID/rotate", `{"gracePeriod": "soon"}`, `gracePeriod must be a duration like \"1h\", got \"soon\"`},
		{"rotate: a negative grace", "POST", "/admin/v1/keys/ID/rotate", `{"gracePeriod": "-1h"}`, `got \"-1h\"`},
		{"set limits: not JSON", "PATCH", "/admin/v1/keys/ID", "limits", `body must be JSON {\"limits\": {...}}`},
		{"set limits: no limits", "PATCH", "/admin/v1/keys/ID", `{"rpm": 1}`, `body must be JSON {\"limits\": {...}}`},
		{"set limits: a bad budget", "PATCH", "/admin/v1/keys/ID", `{"limits": {"budgetUSD": -5}}`, "limits.budgetUSD: must be a non-negative number, got -5"},
		{"usage: key and consumer", "GET", "/admin/v1/usage?key=a&consumer=b", "", "give key or consumer, not both"},
		{"usage: a bad period", "GET", "/admin/v1/usage?since=yesterday", "", `since: want 7d, 12h or a date like 2026-11-01, got \"yesterday\"`},
		{"usage: zero days", "GET", "/admin/v1/usage?since=0d", "", `since: want a number of days like 7d, got \"0d\"`},
		{"usage: a bad grouping", "GET", "/admin/v1/usage?by=week", "", `by must be model, day or day,model; got \"week\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, id := seeded(t)
			before, _ := st.GetKey(context.Background(), id)
			h := newHandler(st, newClock())
			status, b := call(t, h, tt.method, strings.ReplaceAll(tt.path, "ID", id), tt.body)
			if status != http.StatusBadRequest || !strings.Contains(string(b), tt.want) {
				t.Errorf("%d %.300s, want 400 with %s", status, b, tt.want)
			}
			after, _ := st.GetKey(context.Background(), id)
			if len(storedKeys(t, st)) != len(platformKeys)+1 || latest(t, st) != 2 || after.Hash != before.Hash || after.Limits.BudgetUSD != 0 {
				t.Errorf("a bad request changed the store")
			}
		})
	}
}

// TestStoreFailures: a store that fails gives a 500 that points at the
// log, where the cause is; a lost race is retried a few times.
func TestStoreFailures(t *testing.T) {
	// A change to the stored route: an apply of what is stored already
	// would store nothing.
	applyOK := applyBody(t, false, "d.yaml", strings.Replace(dangling, "name: nowhere", "name: elsewhere", 1))
	tests := []struct {
		name, method, path, body string
		method2fail              string
		fault                    fault
		status                   int
		want                     string // in the body
		calls                    int    // of the failing method, when it matters
	}{
		{"apply: objects unreadable", "POST", "/admin/v1/apply", applyOK, "Objects", fault{err: errStoreDown}, 500, "apply failed; see the admin log", 0},
		{"apply: objects not stored", "POST", "/admin/v1/apply", applyOK, "ReplaceObjects", fault{err: errStoreDown}, 500, "apply failed; see the admin log", 0},
		{"apply: version unreadable", "POST", "/admin/v1/apply", applyOK, "LatestVersion", fault{err: errStoreDown}, 500, "apply failed; see the admin log", 0},
		{"apply: table not stored", "POST", "/admin/v1/apply", applyOK, "PutTable", fault{err: errStoreDown}, 500, "apply failed; see the admin log", 0},
		{"apply: a version lost to another apply is retried", "POST", "/admin/v1/apply", applyOK, "PutTable", fault{err: store.ErrVersionExists, times: 2}, 200, `"version": 3`, 3},
		{"apply: versions lost every time", "POST", "/admin/v1/apply", applyOK, "PutTable", fault{err: store.ErrVersionExists}, 500, "apply failed; see the admin log", 6},
		{"objects: unreadable", "GET", "/admin/v1/objects", "", "Objects", fault{err: errStoreDown}, 500, "listing objects failed; see the admin log", 0},
		{"delete: objects unreadable", "DELETE", "/admin/v1/objects?kind=GatewayClass&name=sluice", "", "Objects", fault{err: errStoreDown}, 500, "delete failed; see the admin log", 0},
		{"delete: table not stored", "DELETE", "/admin/v1/objects?kind=GatewayClass&name=sluice", "", "PutTable", fault{err: errStoreDown}, 500, "delete failed; see the admin log", 0},
		{"rollback: version unreadable", "POST", "/admin/v1/rollback", "", "LatestVersion", fault{err: errStoreDown}, 500, "rollback failed; see the admin log", 0},
		{"rollback: snapshot unreadable", "POST", "/admin/v1/rollback", "", "TableObjects", fault{err: errStoreDown}, 500, "rollback failed; see the admin log", 0},
		{"rollback: objects not stored", "POST", "/admin/v1/rollback", "", "ReplaceObjects", fault{err: errStoreDown}, 500, "rollback failed; see the admin log", 0},
		{"create key: not stored", "POST", "/admin/v1/keys", `{"name": "a"}`, "PutKey", fault{err: errStoreDown}, 500, "create key failed; see the admin log", 0},
		{"list keys: unreadable", "GET", "/admin/v1/keys", "", "ListKeys", fault{err: errStoreDown}, 500, "list keys failed; see the admin log", 0},
		{"get key: unreadable", "GET", "/admin/v1/keys/ID", "", "GetKey", fault{err: errStoreDown}, 500, "get key failed; see the admin log", 0},
		{"revoke: unreadable", "POST", "/admin/v1/keys/ID/revoke", "", "GetKey", fault{err: errStoreDown}, 500, "revoke key failed; see the admin log", 0},
		{"revoke: not stored", "POST", "/admin/v1/keys/ID/revoke", "", "UpdateKey", fault{err: errStoreDown}, 500, "revoke key failed; see the admin log", 0},
		{"revoke: a key changed under it is read again", "POST", "/admin/v1/keys/ID/revoke", "", "UpdateKey", fault{err: store.ErrKeyChanged, times: 3}, 200, `"state": "revoked"`, 4},
		{"revoke: a key changing every time", "POST", "/admin/v1/keys/ID/revoke", "", "UpdateKey", fault{err: store.ErrKeyChanged}, 500, "revoke key failed; see the admin log", 4},
		{"rotate: not stored", "POST", "/admin/v1/keys/ID/rotate", "", "UpdateKey", fault{err: errStoreDown}, 500, "rotate key failed; see the admin log", 0},
		{"set limits: not stored", "PATCH", "/admin/v1/keys/ID", `{"limits": {}}`, "UpdateKey", fault{err: errStoreDown}, 500, "set key limits failed; see the admin log", 0},
		{"usage: unreadable", "GET", "/admin/v1/usage", "", "Usage", fault{err: errStoreDown}, 500, "usage failed; see the admin log", 0},
		{"usage report: unreadable", "GET", "/admin/v1/usage/report", "", "Usage", fault{err: errStoreDown}, 500, "usage report failed; see the admin log", 0},
		{"usage report: keys unreadable", "GET", "/admin/v1/usage/report", "", "ListKeys", fault{err: errStoreDown}, 500, "usage report failed; see the admin log", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, id := seeded(t)
			ft := tt.fault
			var logs bytes.Buffer
			h := New(Config{Token: token, Now: newClock().Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
				&faulty{Store: st, faults: map[string]*fault{tt.method2fail: &ft}})
			status, b := call(t, h, tt.method, strings.ReplaceAll(tt.path, "ID", id), tt.body)
			if status != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("%d %s, want %d with %s", status, b, tt.status, tt.want)
			}
			if tt.calls > 0 && ft.calls != tt.calls {
				t.Errorf("%s called %d times, want %d", tt.method2fail, ft.calls, tt.calls)
			}
			if status == 500 && !strings.Contains(logs.String(), ft.err.Error()) {
				t.Errorf("the cause is not in the log:\n%s", logs.String())
			}
			if strings.Contains(string(b), ft.err.Error()) {
				t.Errorf("the store's error reached the caller: %s", b)
			}
		})
	}
}

// TestRollbackOfUnreadableSnapshot: stored objects that no longer parse
// fail the rollback rather than store a partial set.
func TestRollbackOfUnreadableSnapshot(t *testing.T) {
	st := newMemStore()
	ctx := context.Background()
	bogus := []store.Object{{Kind: "HTTPRoute", Namespace: "default", Name: "x", JSON: []byte(`{"kind": "HTTPRoute", "spec": 7}`)}}
	if err := st.PutTable(ctx, &route.Table{Version: 1}, bogus); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTable(ctx, &route.Table{Version: 2}, nil); err != nil {
		t.Fatal(err)
	}
	status, b := call(t, newHandler(st, newClock()), "POST", "/admin/v1/rollback", "")
	if status != 500 || !strings.Contains(string(b), "rollback failed; see the admin log") || latest(t, st) != 2 {
		t.Errorf("%d %s, version %d", status, b, latest(t, st))
	}
}
