package main

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
)

// liveSource reads a deployed admin API's GET /admin/v1/live: the
// gateways' metrics from CloudWatch over a sliding window, signed like
// every other admin call. CloudWatch has them per route and backend (the
// EMF lines' dimensions) and counts failed upstream attempts rather than
// statuses; the view says so in its headings. A backend's figures no route
// accounts for (gateways not yet writing the route) show as "- → backend".
type liveSource struct {
	c        *client
	window   time.Duration // 0: the admin API's default
	interval time.Duration
}

func (l *liveSource) frame(ctx context.Context) (*frame, error) {
	path := "/admin/v1/live"
	if l.window > 0 {
		path += "?window=" + url.QueryEscape(l.window.String())
	}
	var rep admin.LiveReport
	if _, err := l.c.do(ctx, http.MethodGet, path, nil, &rep); err != nil {
		return nil, err
	}
	secs := rep.Seconds()
	f := &frame{
		at:       rep.To,
		note:     "CloudWatch " + rep.From.Format("15:04") + "–" + rep.To.Format("15:04") + "  every " + l.interval.String(),
		total:    liveRow(rep.Total, secs),
		errHead:  "ERR/S", // failed upstream attempts
		nameHead: routeBackendHead,
	}
	for _, r := range rep.Rows {
		f.rows = append(f.rows, liveRow(r, secs))
	}
	return f, nil
}

// liveRow turns a window's totals into rates.
func liveRow(r admin.LiveRow, secs float64) topRow {
	out := topRow{name: routeBackend(r.Route, r.Backend), route: r.Route, backend: r.Backend, requests: r.Requests, inTokens: r.InputTokens,
		p50: msDuration(r.P50Ms), p99: msDuration(r.P99Ms), avg: msDuration(r.AvgMs)}
	if secs > 0 {
		out.rps = r.Requests / secs
		out.tokensPerSec = (r.InputTokens + r.OutputTokens) / secs
		out.errors = r.BackendErrors / secs
	}
	return out
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
