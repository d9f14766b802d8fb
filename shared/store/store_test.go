package store_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/servertest"
	"github.com/sluicegw/sluice/shared/store"
)

var env servertest.Env

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &env)) }

func TestKeysRoundTrip(t *testing.T) {
	st, _, _, _ := env.Store(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	secret, k := ledger.NewKey("app", "team-a", now)
	k.ExpiresAt = now.Add(24 * time.Hour)
	if err := st.PutKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, k) {
		t.Fatalf("got %+v\nwant %+v", got, k)
	}
	_, sec, _ := ledger.ParseKey(secret)
	if got.Hash == sec {
		t.Fatal("secret stored in clear")
	}
	if _, err := st.GetKey(ctx, "nosuchkey"); !errors.Is(err, ledger.ErrKeyNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}

func TestTablesAreVersioned(t *testing.T) {
	st, _, _, _ := env.Store(t)
	ctx := context.Background()
	if v, err := st.LatestVersion(ctx); err != nil || v != 0 {
		t.Fatalf("empty store: v%d, %v", v, err)
	}
	if tab, err := st.LatestTable(ctx); err != nil || tab != nil {
		t.Fatalf("empty store: %v, %v", tab, err)
	}
	for v := int64(1); v <= 3; v++ {
		tab := &route.Table{Version: v, Created: time.Unix(v, 0).UTC(),
			Backends: []route.Backend{{Name: "default/b", Provider: "openai", Endpoint: "http://x", Models: []string{"m"}}},
			Rules:    []route.Rule{{Route: "default/r", Backends: []route.BackendRef{{Backend: 0, Weight: 1}}}},
			Entries:  []route.Entry{{Rule: 0, RouteName: "default/r"}},
		}
		if err := st.PutTable(ctx, tab, []store.Object{{Kind: "AIBackend", Namespace: "default", Name: "b", JSON: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutTable(ctx, &route.Table{Version: 2}, nil); !errors.Is(err, store.ErrVersionExists) {
		t.Fatalf("overwrite: %v", err)
	}
	v, err := st.LatestVersion(ctx)
	if err != nil || v != 3 {
		t.Fatalf("latest v%d, %v", v, err)
	}
	tab, err := st.LatestTable(ctx)
	if err != nil || tab.Version != 3 || len(tab.Models()) != 1 {
		t.Fatalf("latest table %+v, %v", tab, err)
	}
	objs, err := st.TableObjects(ctx, 2)
	if err != nil || len(objs) != 1 || objs[0].Name != "b" || string(objs[0].JSON) != "{}" {
		t.Fatalf("objects of v2: %+v, %v", objs, err)
	}
	if _, err := st.TableObjects(ctx, 99); !errors.Is(err, store.ErrNoVersion) {
		t.Fatalf("missing version: %v", err)
	}
}

func TestObjects(t *testing.T) {
	st, _, _, _ := env.Store(t)
	ctx := context.Background()
	objs := []store.Object{
		{Kind: "HTTPRoute", Namespace: "a", Name: "r", JSON: []byte(`{"kind":"HTTPRoute"}`)},
		{Kind: "AIBackend", Namespace: "a", Name: "b", JSON: []byte(`{"kind":"AIBackend"}`)},
	}
	if err := st.PutObjects(ctx, objs); err != nil {
		t.Fatal(err)
	}
	objs[0].JSON = []byte(`{"kind":"HTTPRoute","v":2}`)
	if err := st.PutObjects(ctx, objs[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := st.Objects(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("objects %+v, %v", got, err)
	}
	for _, o := range got {
		if o.Kind == "HTTPRoute" && string(o.JSON) != `{"kind":"HTTPRoute","v":2}` {
			t.Fatalf("not replaced: %s", o.JSON)
		}
	}
	if err := st.DeleteObject(ctx, "AIBackend", "a", "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Objects(ctx); len(got) != 1 {
		t.Fatalf("after delete: %d objects", len(got))
	}
	if err := st.ReplaceObjects(ctx, []store.Object{{Kind: "Gateway", Namespace: "a", Name: "g", JSON: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Objects(ctx); len(got) != 1 || got[0].Kind != "Gateway" {
		t.Fatalf("after replace: %+v", got)
	}
}

func TestLedgerCounters(t *testing.T) {
	st, _, _, _ := env.Store(t)
	ctx := context.Background()
	b := ledger.Bucket{Subject: "key#k", Name: "tokens-day#2026-11-27#*"}
	steps := []struct {
		limit, amount int64
		ok            bool
		held          int64
	}{
		{100, 60, true, 60},
		{100, 50, false, 60},
		{100, 40, true, 100},
		{100, 1, false, 100},
		{100, 101, false, 100},
	}
	for i, s := range steps {
		ok, held, err := st.Reserve(ctx, b, s.limit, s.amount)
		if err != nil || ok != s.ok || held != s.held {
			t.Fatalf("step %d: %v %d %v, want %v %d", i, ok, held, err, s.ok, s.held)
		}
	}
	if err := st.Release(ctx, b, 40); err != nil {
		t.Fatal(err)
	}
	row := ledger.UsageRow{Day: "2026-11-27", Model: "m", Requests: 2, InputTokens: 10, OutputTokens: 5, CostMicros: 7,
		CacheHits: 1, SavedTokens: 42, SavedCostMicros: 9}
	for range 2 { // the same batch twice counts once
		if err := st.SettleBatch(ctx, "batch_same", []ledger.BatchRow{{Subject: "all", Usage: row}}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.Usage(ctx, "all", "2026-11-27", "2026-11-27")
	if err != nil || len(rows) != 1 || rows[0] != row {
		t.Fatalf("usage %+v %v, want %+v", rows, err, row)
	}
	if h, _ := st.Held(ctx, b); h != 60 {
		t.Fatalf("held %d after release", h)
	}
}

// A settle counts the request under its route and, when it failed, its
// error kind, beside the key's usage; a failure before any token counts
// there only.
func TestSettleCountsRoutesAndErrors(t *testing.T) {
	st, _, _, _ := env.Store(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for _, s := range []ledger.Settlement{
		{RequestID: "ins-1", Run: "a", KeyID: "k", Model: "m", At: at, Usage: api.Usage{InputTokens: 5, OutputTokens: 2}, Cost: 3, Route: "default/chat"},
		{RequestID: "ins-2", Run: "a", KeyID: "k", Model: "m", At: at, NoUsage: true, Route: "default/chat", ErrorKind: "upstream_error"},
	} {
		if _, err := st.Settle(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		subject string
		want    []ledger.UsageRow
	}{
		{"key#k", []ledger.UsageRow{{Day: "2026-11-28", Model: "m", Requests: 1, InputTokens: 5, OutputTokens: 2, CostMicros: 3}}},
		{ledger.RoutesSubject, []ledger.UsageRow{{Day: "2026-11-28", Model: "default/chat", Requests: 2, InputTokens: 5, OutputTokens: 2, CostMicros: 3}}},
		{ledger.ErrorsSubject, []ledger.UsageRow{{Day: "2026-11-28", Model: "upstream_error", Requests: 1}}},
	} {
		rows, err := st.Usage(ctx, tt.subject, "2026-11-28", "2026-11-28")
		if err != nil || !reflect.DeepEqual(rows, tt.want) {
			t.Errorf("%s: %+v %v, want %+v", tt.subject, rows, err, tt.want)
		}
	}
}
