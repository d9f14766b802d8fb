package admin

import (
	"context"
	"net/http"
	"time"
)

// LiveReader gives GET /admin/v1/live its figures. A deployed admin API
// reads CloudWatch (live.Reader), where every gateway sandbox's metrics
// add up; the local process leaves it unset, its own /metrics being exact.
type LiveReader interface {
	Report(ctx context.Context, window time.Duration) (*LiveReport, error)
}

// LiveRow is one route and backend's figures over a report's window. Counts
// are totals over the window; latencies are in milliseconds, zero when
// unknown.
type LiveRow struct {
	// Route is the HTTPRoute's namespace/name; empty when the figures are
	// the backend's alone (no route known).
	Route string `json:"route"`
	// Backend is the backend's namespace/name; empty for requests that
	// reached no backend (refused, or answered from the cache).
	Backend       string  `json:"backend"`
	Requests      float64 `json:"requests"`
	InputTokens   float64 `json:"input_tokens"`
	OutputTokens  float64 `json:"output_tokens"`
	BackendErrors float64 `json:"backend_errors"` // failed upstream attempts
	P50Ms         float64 `json:"p50_ms"`
	P99Ms         float64 `json:"p99_ms"`
	AvgMs         float64 `json:"avg_ms"`
}

// LiveReport is the answer of GET /admin/v1/live.
type LiveReport struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Rows   []LiveRow `json:"rows"`  // busiest first
	Total  LiveRow   `json:"total"` // every request, with or without a backend
	Source string    `json:"source"`
}

// Seconds is the report's window in seconds.
func (r *LiveReport) Seconds() float64 { return r.To.Sub(r.From).Seconds() }

// Window bounds: CloudWatch keeps EMF metrics at one-minute resolution,
// and a live view has no use for hours.
const (
	LiveMinWindow = time.Minute
	LiveMaxWindow = 3 * time.Hour
)

// defaultLiveWindow is long enough for CloudWatch to have the EMF lines of
// most of it: they arrive a minute or two after the requests.
const defaultLiveWindow = 5 * time.Minute

// live serves GET /admin/v1/live?window=5m: what the gateways did over the
// window, per route and backend, from their metrics.
func (a *Admin) live(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Live == nil {
		writeError(w, http.StatusNotFound, "this admin API reads no live figures: a local process serves its own at /metrics")
		return
	}
	window := defaultLiveWindow
	if s := r.URL.Query().Get("window"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < LiveMinWindow || d > LiveMaxWindow {
			writeError(w, http.StatusBadRequest, "window: want a duration from "+LiveMinWindow.String()+" to "+LiveMaxWindow.String()+", such as 5m; got "+s)
			return
		}
		window = d
	}
	rep, err := a.cfg.Live.Report(r.Context(), window)
	if err != nil {
		// CloudWatch refused or failed: the admin API itself is fine, so the
		// caller hears it as a bad gateway with the reason.
		a.log.Error("live figures failed", "error", err)
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
