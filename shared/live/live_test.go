package live_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/live"
	"github.com/sluicegw/sluice/shared/live/livetest"
	"github.com/sluicegw/sluice/shared/telemetry"
)

func figures(req, in, out, errs, p50, p99, avg float64) livetest.Figures {
	return livetest.Figures{
		Counts: map[string]float64{telemetry.MetricRequests: req, telemetry.MetricInputTokens: in,
			telemetry.MetricOutputTokens: out, telemetry.MetricBackendErrors: errs},
		Latency: map[string]float64{"p50": p50, "p99": p99, "Average": avg},
	}
}

// TestReport: the reader asks CloudWatch (a fake speaking the SDK's wire
// protocol over a socket) for the gateway's EMF metrics per route and
// backend, per backend and in total, across pages, and reports them
// busiest first: a row per route and backend, a backend's figures no route
// accounts for as a row without route, and the requests no backend served
// as a row of their own.
func TestReport(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 42, 0, time.UTC)
	tests := []struct {
		name     string
		window   time.Duration
		pageSize int
		wantFrom time.Time
	}{
		{"one page", 5 * time.Minute, 0, time.Date(2026, 12, 6, 7, 55, 0, 0, time.UTC)},
		{"pages of three", 5 * time.Minute, 3, time.Date(2026, 12, 6, 7, 55, 0, 0, time.UTC)},
		{"window rounded up to minutes", 90 * time.Second, 0, time.Date(2026, 12, 6, 7, 58, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cw := livetest.Start(t)
			cw.PageSize = tc.pageSize
			cw.Set(figures(138, 5400, 950, 6, 120, 900, 150), map[livetest.Series]livetest.Figures{
				{Backend: "default/openai"}:                        figures(100, 4000, 800, 3, 110, 800, 140),
				{Route: "default/chat", Backend: "default/openai"}: figures(70, 3000, 600, 0, 100, 700, 130),
				{Route: "team-a/chat", Backend: "default/openai"}:  figures(25, 900, 150, 1, 120, 820, 150),
				// A route whose attempts failed on this backend and whose
				// requests another backend answered.
				{Route: "team-a/fallback", Backend: "default/openai"}: {Counts: map[string]float64{telemetry.MetricBackendErrors: 2}},
				{Backend: "default/bedrock"}:                          figures(20, 1000, 100, 2, 300, 950, 320),
				{Route: "default/chat", Backend: "default/bedrock"}:   figures(20, 1000, 100, 2, 300, 950, 320),
				// A backend that only gateways without the route dimension
				// wrote.
				{Backend: "default/legacy"}: figures(10, 400, 50, 1, 200, 400, 210),
			})
			rep, err := live.New(cw.Client(), func() time.Time { return now }).Report(context.Background(), tc.window)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.From.Equal(tc.wantFrom) || !rep.To.Equal(time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)) {
				t.Errorf("window %s to %s", rep.From, rep.To)
			}
			want := []admin.LiveRow{
				{Route: "default/chat", Backend: "default/openai", Requests: 70, InputTokens: 3000, OutputTokens: 600, P50Ms: 100, P99Ms: 700, AvgMs: 130},
				{Route: "team-a/chat", Backend: "default/openai", Requests: 25, InputTokens: 900, OutputTokens: 150, BackendErrors: 1, P50Ms: 120, P99Ms: 820, AvgMs: 150},
				{Route: "default/chat", Backend: "default/bedrock", Requests: 20, InputTokens: 1000, OutputTokens: 100, BackendErrors: 2, P50Ms: 300, P99Ms: 950, AvgMs: 320},
				{Backend: "default/legacy", Requests: 10, InputTokens: 400, OutputTokens: 50, BackendErrors: 1, P50Ms: 200, P99Ms: 400, AvgMs: 210},
				{Requests: 8}, // no backend
				// What default/openai's routes leave over: no latencies,
				// which its route rows share.
				{Backend: "default/openai", Requests: 5, InputTokens: 100, OutputTokens: 50},
				{Route: "team-a/fallback", Backend: "default/openai", BackendErrors: 2},
			}
			if len(rep.Rows) != len(want) {
				t.Fatalf("rows %+v", rep.Rows)
			}
			for i := range want {
				if rep.Rows[i] != want[i] {
					t.Errorf("row %d = %+v, want %+v", i, rep.Rows[i], want[i])
				}
			}
			if rep.Total.Requests != 138 || rep.Total.P99Ms != 900 || rep.Total.OutputTokens != 950 {
				t.Errorf("total %+v", rep.Total)
			}
			period := int(rep.Seconds())
			q := cw.LastQueries()
			if got := q["req"]; got != `SEARCH('{Sluice,Backend} MetricName="Requests"', 'Sum', `+strconv.Itoa(period)+`)` {
				t.Errorf("search %q", got)
			}
			if got := q["err_route"]; got != `SEARCH('{Sluice,Route,Backend} MetricName="BackendErrors"', 'Sum', `+strconv.Itoa(period)+`)` {
				t.Errorf("route search %q", got)
			}
			if got := q["p99_all"]; got != "Sluice/Latency p99" {
				t.Errorf("total query %q", got)
			}
			if tc.pageSize > 0 && cw.Calls() < 2 {
				t.Errorf("%d calls for pages of %d", cw.Calls(), tc.pageSize)
			}
		})
	}
}

// TestReportErrors: a window out of range is refused before any call, and
// CloudWatch's error reaches the caller with its message.
func TestReportErrors(t *testing.T) {
	cw := livetest.Start(t)
	r := live.New(cw.Client(), nil)
	for _, w := range []time.Duration{0, 30 * time.Second, 4 * time.Hour} {
		if _, err := r.Report(context.Background(), w); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("window %s: %v", w, err)
		}
	}
	if cw.Calls() != 0 {
		t.Errorf("%d calls for refused windows", cw.Calls())
	}
	cw.SetFail("The parameter MetricDataQueries is invalid")
	_, err := r.Report(context.Background(), 5*time.Minute)
	if err == nil || !strings.Contains(err.Error(), "MetricDataQueries is invalid") {
		t.Errorf("error %v", err)
	}
}
