package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/sluicegw/sluice/shared/live"
)

// LiveReader gives GET /admin/v1/live its figures. A deployed admin API
// reads CloudWatch (live.Reader), where every gateway sandbox's metrics
// add up; the local process leaves it unset, its own /metrics being exact.
type LiveReader interface {
	Report(ctx context.Context, window time.Duration) (*live.Report, error)
}

// defaultLiveWindow is long enough for CloudWatch to have the EMF lines of
// most of it: they arrive a minute or two after the requests.
const defaultLiveWindow = 5 * time.Minute

// live serves GET /admin/v1/live?window=5m: what the gateways did over the
// window, per backend, from their metrics.
func (a *Admin) live(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Live == nil {
		writeError(w, http.StatusNotFound, "this admin API reads no live figures: a local process serves its own at /metrics")
		return
	}
	window := defaultLiveWindow
	if s := r.URL.Query().Get("window"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < live.MinWindow || d > live.MaxWindow {
			writeError(w, http.StatusBadRequest, "window: want a duration from "+live.MinWindow.String()+" to "+live.MaxWindow.String()+", such as 5m; got "+s)
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
