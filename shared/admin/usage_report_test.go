package admin

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/ledger"
)

func TestUsageReport(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	st := newMemStore()
	h := New(Config{Token: token, Now: func() time.Time { return now }}, st)
	ctx := context.Background()
	// Ten keys of two consumers: the two views keep the eight largest
	// series and sum the rest.
	for i := range 10 {
		k := ledger.Key{ID: fmt.Sprintf("k%02d", i), Name: fmt.Sprintf("app-%d", i), Consumer: []string{"team-a", "team-b"}[i%2]}
		if err := st.PutKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		for n := range 10 - i { // key i makes 10-i requests, yesterday
			st.Settle(ctx, ledger.Settlement{KeyID: k.ID, Consumer: k.Consumer, Model: "gpt-4o", At: now.AddDate(0, 0, -1),
				Usage: api.Usage{InputTokens: 10, OutputTokens: 1}, Cost: 5, Route: "default/chat", RequestID: fmt.Sprint(i, n)})
		}
	}
	st.Settle(ctx, ledger.Settlement{KeyID: "k00", Model: "claude", At: now, Usage: api.Usage{InputTokens: 7}, Route: "default/claude"})
	st.Settle(ctx, ledger.Settlement{KeyID: "k00", Model: "claude", At: now, NoUsage: true, Route: "default/claude", ErrorKind: "upstream_error"})
	// Outside the period.
	st.Settle(ctx, ledger.Settlement{KeyID: "k00", Model: "old", At: now.AddDate(0, 0, -9), Usage: api.Usage{InputTokens: 1}})

	var rep UsageReport
	callJSON(t, h, "GET", "/admin/v1/usage/report?since=3d", "", http.StatusOK, &rep)
	if rep.From != "2026-11-26" || rep.To != "2026-11-28" || !reflect.DeepEqual(rep.Days, []string{"2026-11-26", "2026-11-27", "2026-11-28"}) {
		t.Fatalf("period %s..%s %v", rep.From, rep.To, rep.Days)
	}
	if rep.Total.Requests != 56 || rep.Total.InputTokens != 557 {
		t.Errorf("total %+v", rep.Total)
	}
	names := func(ss []UsageSeries) (out []string) {
		for _, s := range ss {
			out = append(out, fmt.Sprintf("%s:%d", s.Name, s.Total.Requests))
		}
		return out
	}
	for _, tt := range []struct {
		view string
		got  []UsageSeries
		want []string
	}{
		{"models", rep.Models, []string{"gpt-4o:55", "claude:1"}},
		{"keys", rep.Keys, []string{"k00:11", "k01:9", "k02:8", "k03:7", "k04:6", "k05:5", "k06:4", "(others):6"}},
		{"consumers", rep.Consumers, []string{"team-a:30", "team-b:25"}},
		{"routes", rep.Routes, []string{"default/chat:55", "default/claude:2"}},
		{"errors", rep.Errors, []string{"upstream_error:1"}},
	} {
		if got := names(tt.got); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.view, got, tt.want)
		}
		for _, s := range tt.got {
			if len(s.Days) != 3 {
				t.Errorf("%s %s: %d days", tt.view, s.Name, len(s.Days))
			}
		}
	}
	if k := rep.Keys[0]; k.Label != "app-0" || k.Days[1].Requests != 10 || k.Days[2].Requests != 1 || k.Days[2].Day != "2026-11-28" {
		t.Errorf("key k00: %+v", k)
	}
	if status, b := call(t, h, "GET", "/admin/v1/usage/report?since=soon", ""); status != http.StatusBadRequest {
		t.Errorf("a bad period: %d %s", status, b)
	}
}
