package admin

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
)

// UsageReport is the answer of GET /admin/v1/usage/report: every view the
// usage page draws, read from the ledger in one call so the page (local or
// through `sluice ui`) needs one round trip.
type UsageReport struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Days lists every UTC day of the period; each series has one row
	// per day, in this order, zero where nothing was recorded.
	Days  []string        `json:"days"`
	Total ledger.UsageRow `json:"total"`
	// Models, Keys and Consumers split the usage three ways.
	Models    []UsageSeries `json:"models"`
	Keys      []UsageSeries `json:"keys"`
	Consumers []UsageSeries `json:"consumers"`
	// Routes counts every settled request by the route it matched, failed
	// ones included; Errors counts the failed ones by error kind.
	Routes []UsageSeries `json:"routes"`
	Errors []UsageSeries `json:"errors"`
}

// UsageSeries is one model's, key's, consumer's, route's or error kind's
// usage over the report's days.
type UsageSeries struct {
	Name string `json:"name"`
	// Label is what a person knows it by, when Name does not say (a key's
	// name beside its id).
	Label string            `json:"label,omitempty"`
	Total ledger.UsageRow   `json:"total"`
	Days  []ledger.UsageRow `json:"days"`
}

// maxSeries bounds the series of one view: beyond it the smallest are
// summed as one "others" series, so a chart stays readable with many keys.
const maxSeries = 8

// reportReads bounds the usage reads a report makes at once.
const reportReads = 8

// othersName names the series that sums the smallest ones.
const othersName = "(others)"

// usageReport serves GET /admin/v1/usage/report?since=7d.
func (a *Admin) usageReport(w http.ResponseWriter, r *http.Request) {
	rep, err := a.UsageReport(r.Context(), r.URL.Query().Get("since"))
	if err != nil {
		if _, ok := err.(sinceError); ok {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		a.fail(w, "usage report", err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

type sinceError struct{ error }

// UsageReport reads the usage of the period since names (as `sluice usage
// --since` takes it) from the ledger, split by model, key, consumer,
// route and error kind.
func (a *Admin) UsageReport(ctx context.Context, since string) (UsageReport, error) {
	now := a.now()
	from, err := ledger.ParseSince(since, now)
	if err != nil {
		return UsageReport{}, sinceError{err}
	}
	to := ledger.Day(now)
	rep := UsageReport{From: from, To: to, Days: daysBetween(from, to)}

	all, err := a.store.Usage(ctx, "all", from, to)
	if err != nil {
		return UsageReport{}, err
	}
	for _, r := range all {
		rep.Total.Add(r)
	}
	rep.Models = seriesBy(all, rep.Days, func(r ledger.UsageRow) string { return r.Model })

	keys, err := a.store.ListKeys(ctx)
	if err != nil {
		return UsageReport{}, err
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
	// Each key's and each consumer's usage is its own read: they go
	// concurrently, a few at a time, so a page over many keys stays quick.
	type read struct {
		subject, name, label string
		into                 *[]UsageSeries
		rows                 []ledger.UsageRow
		err                  error
	}
	var reads []*read
	consumers := map[string]bool{}
	for _, k := range keys {
		reads = append(reads, &read{subject: "key#" + k.ID, name: k.ID, label: k.Name, into: &rep.Keys})
		if k.Consumer != "" && !consumers[k.Consumer] {
			consumers[k.Consumer] = true
			reads = append(reads, &read{subject: "consumer#" + k.Consumer, name: k.Consumer, into: &rep.Consumers})
		}
	}
	sem := make(chan struct{}, reportReads)
	var wg sync.WaitGroup
	for _, r := range reads {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.rows, r.err = a.store.Usage(ctx, r.subject, from, to)
		}()
	}
	wg.Wait()
	for _, r := range reads {
		if r.err != nil {
			return UsageReport{}, r.err
		}
		if len(r.rows) == 0 {
			continue
		}
		s := seriesBy(r.rows, rep.Days, func(ledger.UsageRow) string { return r.name })[0]
		s.Label = r.label
		*r.into = append(*r.into, s)
	}
	rep.Keys = topSeries(rep.Keys, rep.Days)
	rep.Consumers = topSeries(rep.Consumers, rep.Days)

	for _, v := range []struct {
		subject string
		into    *[]UsageSeries
	}{{ledger.RoutesSubject, &rep.Routes}, {ledger.ErrorsSubject, &rep.Errors}} {
		rows, err := a.store.Usage(ctx, v.subject, from, to)
		if err != nil {
			return UsageReport{}, err
		}
		*v.into = seriesBy(rows, rep.Days, func(r ledger.UsageRow) string { return r.Model })
	}
	return rep, nil
}

// daysBetween lists the UTC days from..to, inclusive (at most a year's).
func daysBetween(from, to string) []string {
	f, err1 := time.Parse("2006-01-02", from)
	t, err2 := time.Parse("2006-01-02", to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for d := f; !d.After(t) && len(out) < 366; d = d.AddDate(0, 0, 1) {
		out = append(out, ledger.Day(d))
	}
	return out
}

// seriesBy groups rows by name into series over days, largest first,
// the smallest beyond maxSeries summed as one.
func seriesBy(rows []ledger.UsageRow, days []string, name func(ledger.UsageRow) string) []UsageSeries {
	index := make(map[string]int, len(days))
	for i, d := range days {
		index[d] = i
	}
	byName := map[string]*UsageSeries{}
	var order []string
	for _, r := range rows {
		n := name(r)
		s := byName[n]
		if s == nil {
			s = &UsageSeries{Name: n, Days: emptyDays(days)}
			byName[n] = s
			order = append(order, n)
		}
		s.Total.Add(r)
		if i, ok := index[r.Day]; ok {
			s.Days[i].Add(r)
		}
	}
	out := make([]UsageSeries, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return topSeries(out, days)
}

func emptyDays(days []string) []ledger.UsageRow {
	out := make([]ledger.UsageRow, len(days))
	for i, d := range days {
		out[i].Day = d
	}
	return out
}

// topSeries sorts series by requests, then tokens (the largest first), and
// sums those beyond maxSeries into one.
func topSeries(ss []UsageSeries, days []string) []UsageSeries {
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i].Total, ss[j].Total
		if a.Requests != b.Requests {
			return a.Requests > b.Requests
		}
		if ta, tb := a.InputTokens+a.OutputTokens, b.InputTokens+b.OutputTokens; ta != tb {
			return ta > tb
		}
		return ss[i].Name < ss[j].Name
	})
	if len(ss) <= maxSeries {
		return ss
	}
	others := UsageSeries{Name: othersName, Label: fmt.Sprintf("%d more", len(ss)-maxSeries+1), Days: emptyDays(days)}
	for _, s := range ss[maxSeries-1:] {
		others.Total.Add(s.Total)
		for i := range others.Days {
			others.Days[i].Add(s.Days[i])
		}
	}
	return append(ss[:maxSeries-1:maxSeries-1], others)
}
