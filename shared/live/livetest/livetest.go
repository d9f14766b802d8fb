// Package livetest is a CloudWatch stand-in for the tests: an HTTP server
// on a loopback socket that answers GetMetricData in the wire protocol the
// pinned SDK speaks (Smithy RPC v2 CBOR), evaluating the queries package
// live sends against figures the test sets.
package livetest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/sluicegw/sluice/shared/telemetry"
)

// Figures are one series' values: counts per metric name, and the Latency
// statistics by their names (p50, p99, Average).
type Figures struct {
	Counts  map[string]float64
	Latency map[string]float64
}

// Series names a series by its dimension values, as the gateway's EMF
// lines publish them: by Backend alone when Route is empty, otherwise by
// Route and Backend together.
type Series struct{ Route, Backend string }

// dims are the series' dimension names, in the order a search schema
// lists them.
func (s Series) dims() string {
	if s.Route == "" {
		return telemetry.DimBackend
	}
	return telemetry.DimRoute + "," + telemetry.DimBackend
}

// label expands the dynamic labels ${PROP('Dim.<name>')} of the series'
// dimensions in a query's label.
func (s Series) label(l string) string {
	l = strings.ReplaceAll(l, "${PROP('Dim."+telemetry.DimBackend+"')}", s.Backend)
	if s.Route != "" {
		l = strings.ReplaceAll(l, "${PROP('Dim."+telemetry.DimRoute+"')}", s.Route)
	}
	return l
}

// Fake answers GetMetricData from the figures Set gives it: each series'
// (by Backend, or by Route and Backend), and the total's (the metrics
// without dimensions).
type Fake struct {
	URL string
	// PageSize, when set before the first call, splits answers into pages.
	PageSize int

	mu      sync.Mutex
	series  map[Series]Figures
	total   Figures
	fail    string            // when set, every call gets this InvalidParameterValue error
	calls   int               // GetMetricData requests served
	queries map[string]string // what the last call asked
}

// Start serves a fake on a loopback port until the test ends.
func Start(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{series: map[Series]Figures{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Client is an SDK client that sends its calls to f, with fixed
// credentials.
func (f *Fake) Client() *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(f.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// Set replaces the figures under the fake's lock. As in CloudWatch, a
// series by Route and Backend does not add to the one by Backend alone:
// the test sets both.
func (f *Fake) Set(total Figures, series map[Series]Figures) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total, f.series = total, series
}

// SetFail makes every call fail with an InvalidParameterValue error
// carrying msg; empty ends it.
func (f *Fake) SetFail(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = msg
}

// Calls counts the GetMetricData requests served.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// LastQueries returns what the last call asked, by query id: the search
// expression, or "Namespace/MetricName Stat" for a metric.
func (f *Fake) LastQueries() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries
}

var search = regexp.MustCompile(`^SEARCH\('\{([^,]+),([^}]+)\} MetricName="([^"]+)"', '([^']+)', (\d+)\)$`)

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/service/GraniteServiceVersion20100801/operation/GetMetricData" {
		f.refuse(w, http.StatusNotFound, "UnknownOperationException", r.Method+" "+r.URL.Path)
		return
	}
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
		f.refuse(w, http.StatusBadRequest, "InvalidParameterValue", "not rpc-v2-cbor")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
		!strings.Contains(r.Header.Get("Authorization"), "/monitoring/aws4_request") {
		f.refuse(w, http.StatusForbidden, "AccessDenied", "unsigned request")
		return
	}
	f.calls++
	if f.fail != "" {
		f.refuse(w, http.StatusBadRequest, "InvalidParameterValue", f.fail)
		return
	}
	body, _ := io.ReadAll(r.Body)
	v, err := cbor.Decode(body)
	in, ok := v.(cbor.Map)
	if err != nil || !ok {
		f.refuse(w, http.StatusBadRequest, "SerializationException", fmt.Sprint("body: ", err))
		return
	}
	start, err1 := cbor.AsTime(in["StartTime"])
	end, err2 := cbor.AsTime(in["EndTime"])
	qs, _ := in["MetricDataQueries"].(cbor.List)
	if err1 != nil || err2 != nil || !end.After(start) || len(qs) == 0 {
		f.refuse(w, http.StatusBadRequest, "InvalidParameterValue", "need StartTime before EndTime and queries")
		return
	}

	f.queries = map[string]string{}
	var results cbor.List
	for _, q := range qs {
		qm, _ := q.(cbor.Map)
		id := str(qm["Id"])
		if expr := str(qm["Expression"]); expr != "" {
			f.queries[id] = expr
			m := search.FindStringSubmatch(expr)
			if m == nil {
				f.refuse(w, http.StatusBadRequest, "InvalidParameterValue", "unsupported expression "+expr)
				return
			}
			if m[1] != telemetry.Namespace || m[2] != telemetry.DimBackend && m[2] != telemetry.DimRoute+","+telemetry.DimBackend {
				f.refuse(w, http.StatusBadRequest, "InvalidParameterValue", "the fake has no schema "+m[1]+","+m[2])
				return
			}
			// A search schema matches the series with exactly its
			// dimensions.
			var keys []Series
			for k := range f.series {
				if k.dims() == m[2] {
					keys = append(keys, k)
				}
			}
			sort.Slice(keys, func(i, j int) bool {
				return keys[i].Route+"\x00"+keys[i].Backend < keys[j].Route+"\x00"+keys[j].Backend
			})
			for _, k := range keys {
				if v, ok := value(f.series[k], m[3], m[4]); ok {
					results = append(results, result(id, k.label(str(qm["Label"])), end, v))
				}
			}
			continue
		}
		ms, _ := qm["MetricStat"].(cbor.Map)
		metric, _ := ms["Metric"].(cbor.Map)
		name, stat := str(metric["MetricName"]), str(ms["Stat"])
		f.queries[id] = str(metric["Namespace"]) + "/" + name + " " + stat
		if dims, _ := metric["Dimensions"].(cbor.List); len(dims) > 0 {
			f.refuse(w, http.StatusBadRequest, "InvalidParameterValue", "the fake answers metrics without dimensions only")
			return
		}
		if v, ok := value(f.total, name, stat); ok {
			results = append(results, result(id, name, end, v))
		}
	}

	// Pages: NextToken is the index of the next result.
	from, _ := strconv.Atoi(str(in["NextToken"]))
	out := cbor.Map{"Messages": cbor.List{}}
	if from > len(results) {
		from = len(results)
	}
	results = results[from:]
	if f.PageSize > 0 && len(results) > f.PageSize {
		results = results[:f.PageSize]
		out["NextToken"] = cbor.String(strconv.Itoa(from + f.PageSize))
	}
	out["MetricDataResults"] = results
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Write(cbor.Encode(out))
}

func value(fig Figures, metric, stat string) (float64, bool) {
	if metric == "Latency" {
		v, ok := fig.Latency[stat]
		return v, ok
	}
	if stat != "Sum" {
		return 0, false
	}
	v, ok := fig.Counts[metric]
	return v, ok
}

func result(id, label string, at time.Time, v float64) cbor.Value {
	return cbor.Map{
		"Id":         cbor.String(id),
		"Label":      cbor.String(label),
		"Timestamps": cbor.List{cbor.Tag{ID: 1, Value: cbor.Float64(float64(at.Unix()))}},
		"Values":     cbor.List{cbor.Float64(v)},
		"StatusCode": cbor.String("Complete"),
	}
}

func str(v cbor.Value) string {
	s, _ := v.(cbor.String)
	return string(s)
}

// refuse answers an RPC v2 CBOR error, as CloudWatch does in query
// compatible mode.
func (f *Fake) refuse(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("x-amzn-query-error", code+";Sender")
	w.WriteHeader(status)
	w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + code), "message": cbor.String(msg)}))
}
