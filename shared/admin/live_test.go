package admin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/live"
	"github.com/sluicegw/sluice/shared/live/livetest"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// TestLive: GET /admin/v1/live answers what CloudWatch (a fake speaking
// the SDK's wire protocol on a loopback socket) holds of the gateway's
// metrics over the window asked; a bad window, a missing reader and a
// CloudWatch refusal each get a clear error.
func TestLive(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 30, 0, time.UTC)
	cw := livetest.Start(t)
	counts := func(req float64) livetest.Figures {
		return livetest.Figures{Counts: map[string]float64{telemetry.MetricRequests: req, telemetry.MetricOutputTokens: 2 * req},
			Latency: map[string]float64{"p50": 100, "p99": 400, "Average": 120}}
	}
	cw.Set(counts(12), map[string]livetest.Figures{"default/openai": counts(12)})
	reader := live.New(cw.Client(), func() time.Time { return now })
	withLive := New(Config{Token: token, Now: func() time.Time { return now }, Live: reader}, newMemStore())
	without := New(Config{Token: token}, newMemStore())

	tests := []struct {
		name     string
		h        http.Handler
		query    string
		fail     string
		status   int
		wantFrom string // for 200
		wantErr  string // otherwise
	}{
		{"default window", withLive, "", "", 200, "2026-12-06T07:55:00Z", ""},
		{"a window", withLive, "?window=15m", "", 200, "2026-12-06T07:45:00Z", ""},
		{"a window too short", withLive, "?window=10s", "", 400, "", "window: want a duration from 1m0s to 3h0m0s"},
		{"not a duration", withLive, "?window=soon", "", 400, "", "got soon"},
		{"CloudWatch refuses", withLive, "", "Access denied to cloudwatch:GetMetricData", 502, "", "Access denied to cloudwatch:GetMetricData"},
		{"no reader", without, "", "", 404, "", "a local process serves its own at /metrics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cw.SetFail(tc.fail)
			if tc.status != 200 {
				var e struct{ Error struct{ Message string } }
				callJSON(t, tc.h, http.MethodGet, "/admin/v1/live"+tc.query, "", tc.status, &e)
				if !strings.Contains(e.Error.Message, tc.wantErr) {
					t.Errorf("error %q, want %q", e.Error.Message, tc.wantErr)
				}
				return
			}
			var rep live.Report
			callJSON(t, tc.h, http.MethodGet, "/admin/v1/live"+tc.query, "", 200, &rep)
			if got := rep.From.Format(time.RFC3339); got != tc.wantFrom {
				t.Errorf("from %s, want %s", got, tc.wantFrom)
			}
			if len(rep.Rows) != 1 || rep.Rows[0].Backend != "default/openai" || rep.Rows[0].Requests != 12 ||
				rep.Rows[0].OutputTokens != 24 || rep.Rows[0].P99Ms != 400 || rep.Total.Requests != 12 {
				t.Errorf("report %+v", rep)
			}
		})
	}
}
