package admin

import (
	"net/http"

	"github.com/sluicegw/sluice/shared/ledger"
)

// UsageResponse is the answer of GET /admin/v1/usage.
type UsageResponse struct {
	Subject string            `json:"subject"` // key#<id>, consumer#<name> or all
	From    string            `json:"from"`
	To      string            `json:"to"`
	By      string            `json:"by"`
	Rows    []ledger.UsageRow `json:"rows"`
	Total   ledger.UsageRow   `json:"total"`
}

// usage serves GET /admin/v1/usage?key=ID|consumer=NAME&since=7d&by=model|day.
func (a *Admin) usage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	subject := "all"
	switch {
	case q.Get("key") != "" && q.Get("consumer") != "":
		writeError(w, http.StatusBadRequest, "give key or consumer, not both")
		return
	case q.Get("key") != "":
		subject = "key#" + q.Get("key")
	case q.Get("consumer") != "":
		subject = "consumer#" + q.Get("consumer")
	}
	now := a.now()
	from, err := ledger.ParseSince(q.Get("since"), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to := ledger.Day(now)
	rows, err := a.store.Usage(r.Context(), subject, from, to)
	if err != nil {
		a.fail(w, "usage", err)
		return
	}
	by := q.Get("by")
	if by == "" {
		by = "model"
	}
	sum, total, err := ledger.Summarize(rows, by)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, UsageResponse{Subject: subject, From: from, To: to, By: by, Rows: sum, Total: total})
}
