// Package live reads what deployed gateways did in the last minutes from
// CloudWatch. Each gateway Lambda sandbox counts only its own requests and
// prints them as EMF lines (package telemetry); CloudWatch is the one place
// where every sandbox's figures add up, so the admin API asks it with
// GetMetricData for the metrics the gateway writes, per route and backend.
package live

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// API is the one CloudWatch call the reader makes.
type API interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Reader builds reports from CloudWatch.
type Reader struct {
	api API
	now func() time.Time
}

// New returns a reader asking api; now is the clock (nil: time.Now).
func New(api API, now func() time.Time) *Reader {
	if now == nil {
		now = time.Now
	}
	return &Reader{api: api, now: now}
}

// The queries' ids: per metric and statistic, one search over the Backend
// dimension, one over Route and Backend (id suffix _route), and the metric
// without dimensions for the total (suffix _all).
var queries = []struct {
	id, metric, stat string
}{
	{"req", telemetry.MetricRequests, "Sum"},
	{"in", telemetry.MetricInputTokens, "Sum"},
	{"out", telemetry.MetricOutputTokens, "Sum"},
	{"err", telemetry.MetricBackendErrors, "Sum"},
	{"p50", telemetry.MetricLatency, "p50"},
	{"p99", telemetry.MetricLatency, "p99"},
	{"avg", telemetry.MetricLatency, "Average"},
}

// backendLabel makes CloudWatch name each series a search returns by its
// Backend dimension's value (a dynamic label); routeLabel by its route
// and backend, split by a space, which namespace/name cannot hold.
const (
	backendLabel = "${PROP('Dim." + telemetry.DimBackend + "')}"
	routeLabel   = "${PROP('Dim." + telemetry.DimRoute + "')} " + backendLabel
)

// Report returns the figures of the last window, rounded up to whole
// minutes and ending at the last whole minute (the current one is still
// arriving).
func (r *Reader) Report(ctx context.Context, window time.Duration) (*admin.LiveReport, error) {
	if window < admin.LiveMinWindow || window > admin.LiveMaxWindow {
		return nil, fmt.Errorf("live: window %s out of range %s to %s", window, admin.LiveMinWindow, admin.LiveMaxWindow)
	}
	window = (window + time.Minute - 1).Truncate(time.Minute)
	to := r.now().UTC().Truncate(time.Minute)
	from := to.Add(-window)
	period := int32(window / time.Second)

	var q []types.MetricDataQuery
	for _, m := range queries {
		q = append(q,
			types.MetricDataQuery{
				Id: aws.String(m.id),
				Expression: aws.String(fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', '%s', %d)`,
					telemetry.Namespace, telemetry.DimBackend, m.metric, m.stat, period)),
				Label: aws.String(backendLabel),
			},
			types.MetricDataQuery{
				Id: aws.String(m.id + routeSuffix),
				Expression: aws.String(fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"', '%s', %d)`,
					telemetry.Namespace, telemetry.DimRoute, telemetry.DimBackend, m.metric, m.stat, period)),
				Label: aws.String(routeLabel),
			},
			types.MetricDataQuery{
				Id: aws.String(m.id + "_all"),
				MetricStat: &types.MetricStat{
					Metric: &types.Metric{Namespace: aws.String(telemetry.Namespace), MetricName: aws.String(m.metric)},
					Period: aws.Int32(period),
					Stat:   aws.String(m.stat),
				},
			})
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(from), EndTime: aws.Time(to), MetricDataQueries: q}

	byBackend, byRoute := map[series]*admin.LiveRow{}, map[series]*admin.LiveRow{}
	total := admin.LiveRow{}
	pages := cloudwatch.NewGetMetricDataPaginator(r.api, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("live: CloudWatch GetMetricData: %w", err)
		}
		for _, res := range out.MetricDataResults {
			id, label := aws.ToString(res.Id), aws.ToString(res.Label)
			var row *admin.LiveRow
			if base, all := strings.CutSuffix(id, "_all"); all {
				id, row = base, &total
			} else if base, ok := strings.CutSuffix(id, routeSuffix); ok {
				rt, b, ok := strings.Cut(label, " ")
				if !ok {
					return nil, fmt.Errorf("live: CloudWatch series %q of %s is not named route and backend", label, id)
				}
				id, row = base, rowOf(byRoute, series{rt, b})
			} else {
				row = rowOf(byBackend, series{"", label})
			}
			set(row, id, res.Values)
		}
	}
	return report(from, to, total, byBackend, byRoute), nil
}

// routeSuffix ends the ids of the queries by Route and Backend.
const routeSuffix = "_route"

// series names a row by its dimensions' values.
type series struct{ route, backend string }

// rowOf returns rows[k], adding it when missing.
func rowOf(rows map[series]*admin.LiveRow, k series) *admin.LiveRow {
	if rows[k] == nil {
		rows[k] = &admin.LiveRow{Route: k.route, Backend: k.backend}
	}
	return rows[k]
}

// report makes the rows: one per route and backend; per backend, what its
// routes do not account for (gateways still writing the Backend dimension
// alone, or requests without a route), with its latencies only when no
// route row shares them; and the requests no backend served.
func report(from, to time.Time, total admin.LiveRow, byBackend, byRoute map[series]*admin.LiveRow) *admin.LiveReport {
	rep := &admin.LiveReport{From: from, To: to, Total: total, Source: "CloudWatch " + telemetry.Namespace}
	routed := map[string]admin.LiveRow{}
	for _, row := range byRoute {
		rep.Rows = append(rep.Rows, *row)
		sum := routed[row.Backend]
		sum.Requests += row.Requests
		sum.InputTokens += row.InputTokens
		sum.OutputTokens += row.OutputTokens
		sum.BackendErrors += row.BackendErrors
		routed[row.Backend] = sum
	}
	var served float64
	for k, row := range byBackend {
		served += row.Requests
		sum, ok := routed[k.backend]
		if !ok {
			rep.Rows = append(rep.Rows, *row)
			continue
		}
		rest := admin.LiveRow{Backend: k.backend, Requests: max(row.Requests-sum.Requests, 0),
			InputTokens: max(row.InputTokens-sum.InputTokens, 0), OutputTokens: max(row.OutputTokens-sum.OutputTokens, 0),
			BackendErrors: max(row.BackendErrors-sum.BackendErrors, 0)}
		if rest.Requests > 0 || rest.BackendErrors > 0 {
			rep.Rows = append(rep.Rows, rest)
		}
	}
	// Requests without a backend carry no Backend dimension: they are the
	// total less what the backends served.
	if rest := total.Requests - served; rest > 0 {
		rep.Rows = append(rep.Rows, admin.LiveRow{Requests: rest})
	}
	slices.SortFunc(rep.Rows, func(a, b admin.LiveRow) int {
		if a.Requests != b.Requests {
			if a.Requests > b.Requests {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Route, b.Route); c != 0 {
			return c
		}
		return strings.Compare(a.Backend, b.Backend)
	})
	return rep
}

// set adds a series' values to row: counts are summed over the periods,
// statistics keep the latest period's value (the window is one period).
func set(row *admin.LiveRow, id string, values []float64) {
	if len(values) == 0 {
		return
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	latest := values[0] // TimestampDescending is the default order
	switch id {
	case "req":
		row.Requests += sum
	case "in":
		row.InputTokens += sum
	case "out":
		row.OutputTokens += sum
	case "err":
		row.BackendErrors += sum
	case "p50":
		row.P50Ms = latest
	case "p99":
		row.P99Ms = latest
	case "avg":
		row.AvgMs = latest
	}
}
