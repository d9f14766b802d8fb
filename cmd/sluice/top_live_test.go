package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/live"
	"github.com/sluicegw/sluice/shared/live/livetest"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// liveAdmin serves an admin API over a socket whose live figures come
// from a CloudWatch fake holding the given series' figures, each with req
// requests over the window. As the gateway's EMF lines do, a series by
// route and backend counts in its backend's too; a series without route
// is what a backend served beyond its routes.
func liveAdmin(t *testing.T, now time.Time, reqs map[livetest.Series]float64) *httptest.Server {
	t.Helper()
	cw := livetest.Start(t)
	fig := func(req float64) livetest.Figures {
		return livetest.Figures{
			Counts: map[string]float64{telemetry.MetricRequests: req, telemetry.MetricInputTokens: 10 * req,
				telemetry.MetricOutputTokens: 5 * req, telemetry.MetricBackendErrors: req / 10},
			Latency: map[string]float64{"p50": 40, "p99": 250, "Average": 55.5},
		}
	}
	byBackend := map[string]float64{}
	var total float64
	for k, n := range reqs {
		byBackend[k.Backend] += n
		total += n
	}
	series := map[livetest.Series]livetest.Figures{}
	for k, n := range reqs {
		if k.Route != "" {
			series[k] = fig(n)
		}
	}
	for b, n := range byBackend {
		series[livetest.Series{Backend: b}] = fig(n)
	}
	cw.Set(fig(total+60), series) // 60 requests reached no backend
	a := admin.New(admin.Config{Token: "tok", Now: func() time.Time { return now },
		Live: live.New(cw.Client(), func() time.Time { return now })}, nil)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv
}

// TestTopLive: against a deployed admin API, top draws the figures the
// admin API reads from CloudWatch (a fake on a socket speaking the SDK's
// wire protocol), as rates over the window, per route and backend, fitted
// to the terminal.
func TestTopLive(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 20, 0, time.UTC)
	reqs := map[livetest.Series]float64{
		{Route: "default/chat", Backend: "default/openai"}:                   600,
		{Route: "default/chat", Backend: "default/bedrock-with-a-long-name"}: 300,
		{Backend: "default/bedrock-with-a-long-name"}:                        30, // written without route
	}
	for i := range 8 {
		reqs[livetest.Series{Route: fmt.Sprintf("team-%d/chat", i), Backend: fmt.Sprintf("team-%d/backend", i)}] = float64(30 * (i + 1))
	}
	srv := liveAdmin(t, now, reqs)

	for _, size := range [][2]int{{40, 6}, {120, 30}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &frames{n: 2, cancel: cancel}
			tp, err := newTop(&client{endpoint: srv.URL, token: "tok", http: srv.Client()},
				topOptions{source: "live", interval: time.Millisecond, window: 5 * time.Minute}, out)
			if err != nil {
				t.Fatal(err)
			}
			tp.size = func() (int, int) { return size[0], size[1] }
			if err := tp.run(ctx); err != nil {
				t.Fatal(err)
			}
			out.mu.Lock()
			defer out.mu.Unlock()
			last := out.got[len(out.got)-1]
			lines := strings.Split(strings.TrimSuffix(last, "\n"), "\n")
			if len(lines) > size[1]-1 {
				t.Errorf("%d lines for %d rows:\n%s", len(lines), size[1], last)
			}
			for _, l := range lines {
				if utf8.RuneCountInString(l) > size[0] {
					t.Errorf("line of %d columns for %d: %q", utf8.RuneCountInString(l), size[0], l)
				}
			}
			if size[1] == 6 {
				if !strings.Contains(last, "more") {
					t.Errorf("a small terminal should count the rows it cannot show:\n%s", last)
				}
				return
			}
			// 600 requests in 5 minutes are 2/s; 15 tokens each are 30 tok/s;
			// one in ten attempts failed.
			for _, want := range []string{
				"sluice top  08:00:00  CloudWatch 07:55–08:00  every 1ms  6.9 req/s  104 tok/s  0.7 err/s",
				"ERR/S  ROUTE → BACKEND",
				"     2.0        30   40.0ms  250.0ms   55.5ms    0.2  default/chat → default/openai\n",
				"  default/chat → default/bedrock-with-a-long-name\n",
				// What the backend served beyond its routes: latencies
				// unknown, as the route row shares them.
				"     0.1         2        -        -        -    0.0  - → default/bedrock-with-a-long-name\n",
				"team-7/chat → team-7/backend\n",
				"     0.2         0        -        -        -    0.0  - → -\n", // the requests no backend served
			} {
				if !strings.Contains(last, want) {
					t.Errorf("frame lacks %q:\n%s", want, last)
				}
			}
			if got := strings.Index(last, "default/openai"); got > strings.Index(last, "team-7/chat") {
				t.Errorf("busiest first:\n%s", last)
			}
		})
	}
}

// TestTopSource: the endpoint chooses the source unless --source does; a
// local admin API, which reads no CloudWatch, says where its figures are.
func TestTopSource(t *testing.T) {
	tests := []struct {
		endpoint, source string
		want             string
		interval         time.Duration
	}{
		{"http://127.0.0.1:8080", "", "metrics", 2 * time.Second},
		{"http://localhost:8080", "", "metrics", 2 * time.Second},
		{"https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "", "live", 30 * time.Second},
		{"http://127.0.0.1:8080", "live", "live", 30 * time.Second},
		{"https://admin.example.com", "metrics", "metrics", 2 * time.Second},
		{"http://127.0.0.1:8080", "prometheus", "error", 0},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint+" "+tc.source, func(t *testing.T) {
			tp, err := newTop(&client{endpoint: tc.endpoint}, topOptions{source: tc.source}, nil)
			got := "error"
			if err == nil {
				switch tp.src.(type) {
				case *metricsSource:
					got = "metrics"
				case *liveSource:
					got = "live"
				}
			}
			if got != tc.want || (err == nil && tp.interval != tc.interval) {
				t.Errorf("source %s (%v), want %s every %s", got, err, tc.want, tc.interval)
			}
		})
	}

	local := httptest.NewServer(admin.New(admin.Config{Token: "tok"}, nil))
	defer local.Close()
	tp, _ := newTop(&client{endpoint: local.URL, token: "tok", http: local.Client()}, topOptions{source: "live"}, nil)
	if err := tp.run(context.Background()); err == nil || !strings.Contains(err.Error(), "serves its own at /metrics") {
		t.Errorf("live against a local admin API: %v", err)
	}
}
