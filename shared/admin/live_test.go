package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeLive answers with a fixed report, or fails, and keeps the window
// it was asked for. The CloudWatch reader itself is tested in package
// live, and the whole chain through this handler by `sluice top`'s tests.
type fakeLive struct {
	window time.Duration
	fail   string
}

func (f *fakeLive) Report(_ context.Context, window time.Duration) (*LiveReport, error) {
	f.window = window
	if f.fail != "" {
		return nil, errors.New(f.fail)
	}
	row := LiveRow{Route: "default/chat", Backend: "default/openai", Requests: 12, OutputTokens: 24, P99Ms: 400}
	return &LiveReport{Rows: []LiveRow{row}, Total: row, Source: "fake"}, nil
}

// TestLive: GET /admin/v1/live hands the reader the window asked (5m by
// default) and answers its report; a bad window, a missing reader and a
// failing reader each get a clear error.
func TestLive(t *testing.T) {
	reader := &fakeLive{}
	withLive := New(Config{Token: token, Live: reader}, newMemStore())
	without := New(Config{Token: token}, newMemStore())

	tests := []struct {
		name       string
		h          http.Handler
		query      string
		fail       string
		status     int
		wantWindow time.Duration // for 200
		wantErr    string        // otherwise
	}{
		{"default window", withLive, "", "", 200, 5 * time.Minute, ""},
		{"a window", withLive, "?window=15m", "", 200, 15 * time.Minute, ""},
		{"a window too short", withLive, "?window=10s", "", 400, 0, "window: want a duration from 1m0s to 3h0m0s"},
		{"a window too long", withLive, "?window=4h", "", 400, 0, "got 4h"},
		{"not a duration", withLive, "?window=soon", "", 400, 0, "got soon"},
		{"the reader fails", withLive, "", "Access denied to cloudwatch:GetMetricData", 502, 0, "Access denied to cloudwatch:GetMetricData"},
		{"no reader", without, "", "", 404, 0, "a local process serves its own at /metrics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reader.fail = tc.fail
			if tc.status != 200 {
				var e struct{ Error struct{ Message string } }
				callJSON(t, tc.h, http.MethodGet, "/admin/v1/live"+tc.query, "", tc.status, &e)
				if !strings.Contains(e.Error.Message, tc.wantErr) {
					t.Errorf("error %q, want %q", e.Error.Message, tc.wantErr)
				}
				return
			}
			var rep LiveReport
			callJSON(t, tc.h, http.MethodGet, "/admin/v1/live"+tc.query, "", 200, &rep)
			if reader.window != tc.wantWindow {
				t.Errorf("window %s, want %s", reader.window, tc.wantWindow)
			}
			if len(rep.Rows) != 1 || rep.Rows[0].Route != "default/chat" || rep.Rows[0].Backend != "default/openai" || rep.Rows[0].Requests != 12 ||
				rep.Rows[0].OutputTokens != 24 || rep.Rows[0].P99Ms != 400 || rep.Total.Requests != 12 {
				t.Errorf("report %+v", rep)
			}
		})
	}
}
