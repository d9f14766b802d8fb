package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/servertest"
)

var env servertest.Env

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &env)) }

const token = "admin-secret"

// platform is a small valid set: a class, a Gateway, an AI backend and a
// route to it.
const platform = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: openai, namespace: default}
spec: {provider: openai, endpoint: "https://api.openai.com/v1", models: [gpt-4o]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{group: sluice.dev, kind: AIBackend, name: openai}]
`

// dangling is valid but refers to a backend that does not exist: stored,
// with the problem in its status.
const dangling = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: dangling, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{group: sluice.dev, kind: AIBackend, name: nowhere}]
`

// invalid cannot be applied.
const invalid = `apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: broken, namespace: default}
spec: {provider: carrier-pigeon}
`

var platformKeys = []string{"AIBackend/default/openai", "Gateway/default/gw", "GatewayClass/sluice", "HTTPRoute/default/chat"}

// clock is the admin's fixed clock; tests move it.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newClock() *clock { return &clock{time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

func newHandler(st Store, c *clock) http.Handler {
	return New(Config{Token: token, Now: c.Now}, st)
}

// call sends one request with the admin token and returns the status and
// body.
func call(t *testing.T, h http.Handler, method, path, body string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return w.Code, w.Body.Bytes()
}

// callJSON calls and decodes the answer into out, failing unless the status
// is want.
func callJSON(t *testing.T, h http.Handler, method, path, body string, want int, out any) {
	t.Helper()
	status, b := call(t, h, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func applyBody(t *testing.T, dryRun bool, files ...string) string {
	t.Helper()
	req := ApplyRequest{Files: map[string]string{}, DryRun: dryRun}
	for i := 0; i < len(files); i += 2 {
		req.Files[files[i]] = files[i+1]
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// storedKeys lists the stored objects as Kind/namespace/name (Kind/name
// when cluster-scoped), as the admin API names them.
func storedKeys(t *testing.T, st Store) []string {
	t.Helper()
	objs, err := st.Objects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		k := o.Kind + "/" + o.Name
		if o.Namespace != "" {
			k = o.Kind + "/" + o.Namespace + "/" + o.Name
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func latest(t *testing.T, st Store) int64 {
	t.Helper()
	v, err := st.LatestVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// settler records usage; both stores have it.
type settler interface {
	Settle(context.Context, ledger.Settlement) (bool, error)
}

func TestLifecycleInMemory(t *testing.T) {
	lifecycle(t, newMemStore())
}

// TestLifecycleWithDynamoDB runs the lifecycle over the real store in
// DynamoDB Local, so the in-memory store is not the only proof.
func TestLifecycleWithDynamoDB(t *testing.T) {
	st, _, _, _ := env.Store(t)
	lifecycle(t, st)
}

// lifecycle drives every endpoint through its successful paths and the
// errors that depend on stored state, over st.
func lifecycle(t *testing.T, st interface {
	Store
	settler
}) {
	ctx := context.Background()
	c := newClock()
	h := newHandler(st, c)
	created := c.t

	t.Run("apply refuses invalid manifests and stores nothing", func(t *testing.T) {
		var resp ApplyResponse
		callJSON(t, h, "POST", "/admin/v1/apply", applyBody(t, false, "platform.yaml", platform, "bad.yaml", invalid), http.StatusBadRequest, &resp)
		if len(resp.Problems) != 1 || !strings.HasPrefix(resp.Problems[0], `bad.yaml:4: AIBackend/default/broken: spec.provider: unknown provider "carrier-pigeon"`) {
			t.Errorf("problems %q", resp.Problems)
		}
		if resp.Version != 0 || len(storedKeys(t, st)) != 0 || latest(t, st) != 0 {
			t.Errorf("an invalid apply stored something: %+v", resp)
		}
	})

	t.Run("a dry run compiles and stores nothing", func(t *testing.T) {
		var resp ApplyResponse
		callJSON(t, h, "POST", "/admin/v1/apply", applyBody(t, true, "platform.yaml", platform), http.StatusOK, &resp)
		if !resp.DryRun || resp.Version != 1 || !slices.Equal(resp.Applied, platformKeys) || len(resp.Problems) != 0 {
			t.Errorf("dry run %+v", resp)
		}
		if len(storedKeys(t, st)) != 0 || latest(t, st) != 0 {
			t.Errorf("a dry run stored something")
		}
	})

	t.Run("apply stores the objects and table version 1", func(t *testing.T) {
		var resp ApplyResponse
		callJSON(t, h, "POST", "/admin/v1/apply", applyBody(t, false, "platform.yaml", platform), http.StatusOK, &resp)
		if resp.DryRun || resp.Version != 1 || !slices.Equal(resp.Applied, platformKeys) || len(resp.Conditions) != 0 {
			t.Errorf("apply %+v", resp)
		}
		if got := storedKeys(t, st); !slices.Equal(got, platformKeys) || latest(t, st) != 1 {
			t.Errorf("stored %v, version %d", got, latest(t, st))
		}
	})

	c.t = c.t.Add(time.Hour)
	t.Run("apply merges with what is stored and reports unresolved refs as conditions", func(t *testing.T) {
		var resp ApplyResponse
		callJSON(t, h, "POST", "/admin/v1/apply", applyBody(t, false, "dangling.yaml", dangling), http.StatusOK, &resp)
		if resp.Version != 2 || !slices.Equal(resp.Applied, []string{"HTTPRoute/default/dangling"}) ||
			len(resp.Conditions) != 1 || !strings.Contains(resp.Conditions[0], "BackendNotFound") {
			t.Errorf("apply %+v", resp)
		}
		if got := storedKeys(t, st); len(got) != len(platformKeys)+1 {
			t.Errorf("stored %v", got)
		}
	})

	t.Run("objects lists what is stored, with status and first creation time", func(t *testing.T) {
		var resp struct{ Items []json.RawMessage }
		callJSON(t, h, "GET", "/admin/v1/objects", "", http.StatusOK, &resp)
		if len(resp.Items) != len(platformKeys)+1 {
			t.Fatalf("%d items", len(resp.Items))
		}
		seen := map[string]bool{}
		for _, raw := range resp.Items {
			var o struct {
				Kind     string
				Metadata struct {
					Name              string
					CreationTimestamp time.Time
				}
				Status json.RawMessage
			}
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatal(err)
			}
			seen[o.Kind+"/"+o.Metadata.Name] = true
			want := created
			if o.Metadata.Name == "dangling" {
				want = c.t
			}
			if !o.Metadata.CreationTimestamp.Equal(want) {
				t.Errorf("%s/%s created %v, want %v", o.Kind, o.Metadata.Name, o.Metadata.CreationTimestamp, want)
			}
			if o.Kind == "HTTPRoute" && !strings.Contains(string(o.Status), "Accepted") {
				t.Errorf("route %s without status: %s", o.Metadata.Name, o.Status)
			}
		}
		if !seen["HTTPRoute/chat"] || !seen["HTTPRoute/dangling"] || !seen["GatewayClass/sluice"] {
			t.Errorf("listed %v", seen)
		}
	})

	t.Run("rollback restores the previous version's objects as a new version", func(t *testing.T) {
		var resp struct{ Restored, Version int64 }
		callJSON(t, h, "POST", "/admin/v1/rollback", "", http.StatusOK, &resp)
		if resp.Restored != 1 || resp.Version != 3 {
			t.Errorf("rollback %+v", resp)
		}
		if got := storedKeys(t, st); !slices.Equal(got, platformKeys) || latest(t, st) != 3 {
			t.Errorf("stored %v, version %d", got, latest(t, st))
		}
		callJSON(t, h, "POST", "/admin/v1/rollback", `{"version": 2}`, http.StatusOK, &resp)
		if resp.Restored != 2 || resp.Version != 4 || len(storedKeys(t, st)) != len(platformKeys)+1 {
			t.Errorf("rollback to 2: %+v, stored %v", resp, storedKeys(t, st))
		}
	})

	t.Run("rollback refuses versions that are not earlier or not stored", func(t *testing.T) {
		for _, body := range []string{`{"version": 4}`, `{"version": 9}`, `{"version": -1}`} {
			status, b := call(t, h, "POST", "/admin/v1/rollback", body)
			if status != http.StatusBadRequest || !strings.Contains(string(b), "no earlier version to roll back to (newest is 4") {
				t.Errorf("%s: %d %s", body, status, b)
			}
		}
		// A version below the newest that is not stored: versions skipped
		// by hand.
		objs, err := st.TableObjects(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutTable(ctx, &route.Table{Version: 10, Created: c.t}, objs); err != nil {
			t.Fatal(err)
		}
		status, b := call(t, h, "POST", "/admin/v1/rollback", `{"version": 7}`)
		if status != http.StatusNotFound || !strings.Contains(string(b), "route table version 7 is not stored") {
			t.Errorf("missing version: %d %s", status, b)
		}
	})

	t.Run("delete removes one object as a new version", func(t *testing.T) {
		var resp struct {
			Deleted string
			Version int64
		}
		callJSON(t, h, "DELETE", "/admin/v1/objects?kind=HTTPRoute&namespace=default&name=dangling", "", http.StatusOK, &resp)
		if resp.Deleted != "HTTPRoute/default/dangling" || resp.Version != 11 {
			t.Errorf("delete %+v", resp)
		}
		if got := storedKeys(t, st); !slices.Equal(got, platformKeys) {
			t.Errorf("stored %v", got)
		}
		status, b := call(t, h, "DELETE", "/admin/v1/objects?kind=HTTPRoute&namespace=default&name=dangling", "")
		if status != http.StatusNotFound || !strings.Contains(string(b), "HTTPRoute/default/dangling is not applied") {
			t.Errorf("delete again: %d %s", status, b)
		}
		callJSON(t, h, "DELETE", "/admin/v1/objects?kind=GatewayClass&name=sluice", "", http.StatusOK, &resp)
		if resp.Deleted != "GatewayClass/sluice" || resp.Version != 12 {
			t.Errorf("delete cluster-scoped %+v", resp)
		}
	})

	var id, first string
	t.Run("keys: create, list and get", func(t *testing.T) {
		var resp CreateKeyResponse
		callJSON(t, h, "POST", "/admin/v1/keys", `{"name": "billing", "consumer": "team-a", "limits": {"requestsPerMinute": 10}}`, http.StatusCreated, &resp)
		kid, _, err := ledger.ParseKey(resp.Key)
		if err != nil || kid != resp.ID || resp.Name != "billing" || resp.Consumer != "team-a" || resp.Limits.RequestsPerMinute != 10 || !resp.Created.Equal(c.t) {
			t.Fatalf("create %+v (%v)", resp, err)
		}
		id, first = resp.ID, resp.Key
		verify(t, st, id, first, c.t, nil)

		var list struct{ Items []map[string]any }
		callJSON(t, h, "GET", "/admin/v1/keys", "", http.StatusOK, &list)
		if len(list.Items) != 1 || list.Items[0]["id"] != id || list.Items[0]["name"] != "billing" {
			t.Errorf("list %v", list.Items)
		}
		for field := range list.Items[0] {
			if field == "key" || strings.Contains(strings.ToLower(field), "hash") {
				t.Errorf("listed a key with its %s", field)
			}
		}
		var info KeyInfo
		callJSON(t, h, "GET", "/admin/v1/keys/"+id, "", http.StatusOK, &info)
		if info.ID != id || info.State != ledger.KeyActive || info.Consumer != "team-a" || info.Revoked != nil || info.PreviousValidUntil != nil {
			t.Errorf("get %+v", info)
		}
	})

	t.Run("keys: rotate with and without grace", func(t *testing.T) {
		var resp CreateKeyResponse
		callJSON(t, h, "POST", "/admin/v1/keys/"+id+"/rotate", `{"gracePeriod": "1h"}`, http.StatusOK, &resp)
		if resp.Key == first || resp.PreviousValidUntil == nil || !resp.PreviousValidUntil.Equal(c.t.Add(time.Hour)) {
			t.Fatalf("rotate %+v", resp)
		}
		verify(t, st, id, first, c.t, nil)
		verify(t, st, id, first, c.t.Add(time.Hour), ledger.ErrUnknownKey)
		verify(t, st, id, resp.Key, c.t, nil)
		var info KeyInfo
		callJSON(t, h, "GET", "/admin/v1/keys/"+id, "", http.StatusOK, &info)
		if info.PreviousValidUntil == nil {
			t.Errorf("get during the grace period %+v", info)
		}

		second := resp.Key
		var noGrace CreateKeyResponse
		callJSON(t, h, "POST", "/admin/v1/keys/"+id+"/rotate", `{"gracePeriod": "0s"}`, http.StatusOK, &noGrace)
		if noGrace.PreviousValidUntil != nil {
			t.Errorf("rotate without grace %+v", noGrace)
		}
		verify(t, st, id, second, c.t, ledger.ErrUnknownKey)
		verify(t, st, id, noGrace.Key, c.t, nil)

		var byDefault CreateKeyResponse
		callJSON(t, h, "POST", "/admin/v1/keys/"+id+"/rotate", "", http.StatusOK, &byDefault)
		if byDefault.PreviousValidUntil == nil || !byDefault.PreviousValidUntil.Equal(c.t.Add(DefaultGracePeriod)) {
			t.Errorf("rotate with the default grace %+v", byDefault)
		}
		first = byDefault.Key
	})

	t.Run("keys: set limits", func(t *testing.T) {
		var info KeyInfo
		callJSON(t, h, "PATCH", "/admin/v1/keys/"+id, `{"limits": {"tokensPerDay": 5000, "models": {"gpt-4o": {"requestsPerMinute": 2}}}}`, http.StatusOK, &info)
		if info.Limits.TokensPerDay != 5000 || info.Limits.RequestsPerMinute != 0 || info.Limits.Models["gpt-4o"].RequestsPerMinute != 2 {
			t.Errorf("limits %+v", info.Limits)
		}
		k, err := st.GetKey(ctx, id)
		if err != nil || k.Limits.TokensPerDay != 5000 {
			t.Errorf("stored limits %+v, %v", k.Limits, err)
		}
	})

	revokedAt := c.t
	t.Run("keys: revoke, twice", func(t *testing.T) {
		var info KeyInfo
		callJSON(t, h, "POST", "/admin/v1/keys/"+id+"/revoke", "", http.StatusOK, &info)
		if info.State != ledger.KeyRevoked || info.Revoked == nil || !info.Revoked.Equal(revokedAt) || info.PreviousValidUntil != nil {
			t.Errorf("revoke %+v", info)
		}
		verify(t, st, id, first, c.t, ledger.ErrRevokedKey)
		c.t = c.t.Add(time.Minute)
		callJSON(t, h, "POST", "/admin/v1/keys/"+id+"/revoke", "", http.StatusOK, &info)
		if info.Revoked == nil || !info.Revoked.Equal(revokedAt) {
			t.Errorf("a second revoke moved the time: %+v", info)
		}
		status, b := call(t, h, "POST", "/admin/v1/keys/"+id+"/rotate", "")
		if status != http.StatusBadRequest || !strings.Contains(string(b), "key "+id+" is revoked; create a new one") {
			t.Errorf("rotate a revoked key: %d %s", status, b)
		}
	})

	t.Run("keys: an unknown id is 404 on every key endpoint", func(t *testing.T) {
		for _, r := range [][3]string{
			{"GET", "/admin/v1/keys/nosuchkey", ""},
			{"POST", "/admin/v1/keys/nosuchkey/revoke", ""},
			{"POST", "/admin/v1/keys/nosuchkey/rotate", ""},
			{"PATCH", "/admin/v1/keys/nosuchkey", `{"limits": {}}`},
		} {
			status, b := call(t, h, r[0], r[1], r[2])
			if status != http.StatusNotFound || !strings.Contains(string(b), "no key with id nosuchkey") {
				t.Errorf("%s %s: %d %s", r[0], r[1], status, b)
			}
		}
	})

	t.Run("usage by key, consumer and all, by model and by day", func(t *testing.T) {
		day := func(d int) time.Time { return c.t.AddDate(0, 0, -d) }
		for i, s := range []ledger.Settlement{
			{KeyID: id, Consumer: "team-a", Model: "gpt-4o", At: day(0), Usage: api.Usage{InputTokens: 10, OutputTokens: 5}, Cost: 7},
			{KeyID: id, Consumer: "team-a", Model: "gpt-4o", At: day(1), Usage: api.Usage{InputTokens: 20, OutputTokens: 5}, Cost: 9},
			{KeyID: id, Consumer: "team-a", Model: "claude", At: day(1), Usage: api.Usage{InputTokens: 1, OutputTokens: 1}, Cost: 1},
			{KeyID: "other", Model: "gpt-4o", At: day(0), Usage: api.Usage{InputTokens: 100, OutputTokens: 100}},
			{KeyID: id, Consumer: "team-a", Model: "gpt-4o", At: day(30), Usage: api.Usage{InputTokens: 1000}},
		} {
			s.RequestID, s.Run = "req-"+string(rune('a'+i)), "run"
			if _, err := st.Settle(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			query     string
			subject   string
			from, by  string
			rows      []string // model or day: requests/input/output
			total     string
			totalCost ledger.Micros
		}{
			{"key=" + id, "key#" + id, ledger.Day(day(6)), "model", []string{"claude:1/1/1", "gpt-4o:2/30/10"}, "3/31/11", 17},
			{"key=" + id + "&by=day&since=2d", "key#" + id, ledger.Day(day(1)), "day", []string{ledger.Day(day(1)) + ":2/21/6", ledger.Day(day(0)) + ":1/10/5"}, "3/31/11", 17},
			{"consumer=team-a&since=1d", "consumer#team-a", ledger.Day(day(0)), "model", []string{"gpt-4o:1/10/5"}, "1/10/5", 7},
			{"since=" + ledger.Day(day(30)), "all", ledger.Day(day(30)), "model", []string{"claude:1/1/1", "gpt-4o:4/1130/110"}, "5/1131/111", 17},
		}
		for _, tt := range tests {
			var resp UsageResponse
			callJSON(t, h, "GET", "/admin/v1/usage?"+tt.query, "", http.StatusOK, &resp)
			var rows []string
			for _, r := range resp.Rows {
				rows = append(rows, r.Model+r.Day+":"+figures(r))
			}
			if resp.Subject != tt.subject || resp.From != tt.from || resp.To != ledger.Day(c.t) || resp.By != tt.by ||
				!slices.Equal(rows, tt.rows) || figures(resp.Total) != tt.total || resp.Total.CostMicros != tt.totalCost {
				t.Errorf("%s: %+v, rows %v", tt.query, resp, rows)
			}
		}
	})
}

func figures(r ledger.UsageRow) string {
	b, _ := json.Marshal([]int64{r.Requests, r.InputTokens, r.OutputTokens})
	return strings.ReplaceAll(strings.Trim(string(b), "[]"), ",", "/")
}

// verify checks a presented key against the stored record at now.
func verify(t *testing.T, st Store, id, presented string, now time.Time, want error) {
	t.Helper()
	k, err := st.GetKey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := ledger.ParseKey(presented)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Verify(secret, now); err != want {
		t.Errorf("key %s at %v: %v, want %v", id, now.Format(time.TimeOnly), err, want)
	}
}
