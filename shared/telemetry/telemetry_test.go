package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluicegw/sluice/shared/telemetry"
)

var start = time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)

func sample() *telemetry.Request {
	return &telemetry.Request{
		ID: "req_1", Method: "POST", Path: "/v1/chat/completions", KeyID: "k1", Consumer: "team-a",
		Route: "default/chat", Backend: "default/openai", Provider: "openai", Operation: "chat",
		Model: "gpt-4o-mini", ServedModel: "gpt-4o", Stream: true, Status: 200, Cache: "miss",
		InputTokens: 12, OutputTokens: 5, CachedTokens: 2, ReasoningTokens: 1, CostMicros: 1500,
		Start: start, Latency: 1500 * time.Microsecond, TTFT: 250 * time.Microsecond,
		Attempts: 2, Fallbacks: 1, Hedges: 0, SkippedEvents: 3,
	}
}

// TestAccessLog: every key is there on every line, with the record's
// values; a client that went away is information, a 5xx a warning.
func TestAccessLog(t *testing.T) {
	want := map[string]any{
		"msg": "request", "level": "INFO", "request_id": "req_1", "method": "POST", "path": "/v1/chat/completions",
		"status": 200.0, "error_kind": "", "key_id": "k1", "consumer": "team-a", "route": "default/chat",
		"backend": "default/openai", "provider": "openai", "model": "gpt-4o-mini", "served_model": "gpt-4o",
		"stream": true, "cache": "miss", "input_tokens": 12.0, "output_tokens": 5.0, "cached_tokens": 2.0,
		"reasoning_tokens": 1.0, "cost_micros": 1500.0, "latency_us": 1500.0, "ttft_us": 250.0, "attempts": 2.0,
		"fallbacks": 1.0, "hedges": 0.0, "skipped_events": 3.0, "error": "",
	}
	closed := sample()
	closed.Status, closed.ErrorKind, closed.Error = telemetry.StatusClientClosed, telemetry.KindClientClosed, "client went away"
	failed := sample()
	failed.Status, failed.ErrorKind = 502, "upstream_error"
	tests := []struct {
		name  string
		rec   *telemetry.Request
		level string
	}{
		{"ok", sample(), "INFO"},
		{"client closed", closed, "INFO"},
		{"backend failed", failed, "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			telemetry.NewAccessLog(slog.New(slog.NewJSONHandler(&buf, nil))).Request(context.Background(), tt.rec)
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			delete(got, "time")
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("key %q missing: %s", k, buf.String())
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d keys, want %d: %s", len(got), len(want), buf.String())
			}
			if got["level"] != tt.level || got["status"] != float64(tt.rec.Status) || got["error_kind"] != tt.rec.ErrorKind {
				t.Errorf("level %v status %v kind %v: %s", got["level"], got["status"], got["error_kind"], buf.String())
			}
			if tt.name == "ok" {
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s = %v, want %v", k, got[k], v)
					}
				}
			}
		})
	}
}

// monitored is what infra/stack/monitoring.go says the CDK dashboard,
// alarms and live view read.
type monitored struct {
	namespace, backend, route string
	names                     []string
}

// monitoredMetrics parses infra/stack/monitoring.go: the metric names,
// namespace and dimensions the CDK dashboard and alarms read.
func monitoredMetrics(t *testing.T) monitored {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../infra/stack/monitoring.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var m monitored
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				switch {
				case n.Name == "MetricNamespace":
					m.namespace = v
				case n.Name == "DimBackend":
					m.backend = v
				case n.Name == "DimRoute":
					m.route = v
				case strings.HasPrefix(n.Name, "Metric"):
					m.names = append(m.names, v)
				}
			}
		}
	}
	if m.namespace == "" || m.backend == "" || m.route == "" || len(m.names) == 0 {
		t.Fatalf("monitoring.go: no namespace, dimensions or metrics found")
	}
	return m
}

// TestMetricsMatchDashboard ties the EMF metric list to the one the CDK
// dashboard and alarms read.
func TestMetricsMatchDashboard(t *testing.T) {
	m := monitoredMetrics(t)
	if m.namespace != telemetry.Namespace || m.backend != telemetry.DimBackend || m.route != telemetry.DimRoute {
		t.Errorf("dashboard reads %s/%s/%s, telemetry writes %s/%s/%s", m.namespace, m.backend, m.route,
			telemetry.Namespace, telemetry.DimBackend, telemetry.DimRoute)
	}
	var ours []string
	for _, m := range telemetry.Metrics() {
		ours = append(ours, m.Name)
	}
	slices.Sort(ours)
	slices.Sort(m.names)
	if !slices.Equal(ours, m.names) {
		t.Errorf("telemetry writes %v, the dashboard reads %v", ours, m.names)
	}
}

type emfDoc struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
}

// TestEMF: each line is one EMF document whose metrics and dimensions are
// the dashboard's, with every declared member present at the root.
func TestEMF(t *testing.T) {
	m := monitoredMetrics(t)
	hit := sample()
	hit.Cache, hit.TTFT, hit.Backend = "hit", 0, ""
	unrouted := sample()
	unrouted.Route = ""
	failed := &telemetry.Attempt{Route: "default/chat", Backend: "default/anthropic", Start: start, Duration: time.Second, Status: 502, ErrorKind: "upstream_error"}
	unroutedFailed := &telemetry.Attempt{Backend: "default/anthropic", Start: start, ErrorKind: "timeout"}
	requestMetrics := []string{"Requests", "InputTokens", "OutputTokens", "Latency"}
	tests := []struct {
		name           string
		write          func(*telemetry.EMF)
		metrics        []string
		route, backend string // "": the dimension is absent
	}{
		{"request", func(e *telemetry.EMF) { e.Request(context.Background(), sample()) },
			append(requestMetrics[:4:4], "TimeToFirstToken", "CacheMisses"), "default/chat", "default/openai"},
		{"cache hit without backend", func(e *telemetry.EMF) { e.Request(context.Background(), hit) },
			append(requestMetrics[:4:4], "CacheHits"), "", ""},
		{"request without route", func(e *telemetry.EMF) { e.Request(context.Background(), unrouted) },
			append(requestMetrics[:4:4], "TimeToFirstToken", "CacheMisses"), "", "default/openai"},
		{"failed attempt", func(e *telemetry.EMF) { e.Attempt(context.Background(), failed) },
			[]string{"BackendErrors"}, "default/chat", "default/anthropic"},
		{"failed attempt without route", func(e *telemetry.EMF) { e.Attempt(context.Background(), unroutedFailed) },
			[]string{"BackendErrors"}, "", "default/anthropic"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.write(telemetry.NewEMF(&buf))
			line := strings.TrimSuffix(buf.String(), "\n")
			if strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("want one line:\n%s", buf.String())
			}
			var doc emfDoc
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			root := mustRoot(t, line)
			d := doc.AWS.CloudWatchMetrics
			if len(d) != 1 || d[0].Namespace != m.namespace {
				t.Fatalf("directives %+v", d)
			}
			if doc.AWS.Timestamp < start.UnixMilli() {
				t.Errorf("timestamp %d", doc.AWS.Timestamp)
			}
			wantDims := [][]string{{}}
			if tt.backend != "" {
				wantDims = append(wantDims, []string{m.backend})
				if tt.route != "" {
					wantDims = append(wantDims, []string{m.route, m.backend})
				}
			}
			if !slices.EqualFunc(d[0].Dimensions, wantDims, slices.Equal) {
				t.Errorf("dimensions %v, want %v", d[0].Dimensions, wantDims)
			}
			// The EMF specification: every dimension a set names is a
			// top-level member holding its value.
			want := map[string]string{m.backend: tt.backend, m.route: tt.route}
			for _, set := range d[0].Dimensions {
				for _, dim := range set {
					if root[dim] != want[dim] {
						t.Errorf("%s = %v, want %q: %s", dim, root[dim], want[dim], line)
					}
				}
			}
			for dim, v := range want {
				if _, ok := root[dim]; ok != (v != "") {
					t.Errorf("member %s present %v, want %v: %s", dim, ok, v != "", line)
				}
			}
			var got []string
			for _, md := range d[0].Metrics {
				got = append(got, md.Name)
				seen[md.Name] = true
				if !slices.Contains(m.names, md.Name) {
					t.Errorf("metric %s is not one the dashboard reads", md.Name)
				}
				if _, ok := root[md.Name].(float64); !ok {
					t.Errorf("metric %s has no numeric member: %s", md.Name, line)
				}
				if want := map[bool]string{true: "Milliseconds", false: "Count"}[md.Name == "Latency" || md.Name == "TimeToFirstToken"]; md.Unit != want {
					t.Errorf("%s unit %s, want %s", md.Name, md.Unit, want)
				}
			}
			if !slices.Equal(got, tt.metrics) {
				t.Errorf("metrics %v, want %v", got, tt.metrics)
			}
			if tt.name == "request" && (root["Latency"] != 1.5 || root["TimeToFirstToken"] != 0.25 || root["InputTokens"] != 12.0) {
				t.Errorf("values: %s", line)
			}
		})
	}
	for _, n := range m.names {
		if !seen[n] {
			t.Errorf("the dashboard reads %s, which no document carried", n)
		}
	}
	var buf bytes.Buffer
	telemetry.NewEMF(&buf).Attempt(context.Background(), &telemetry.Attempt{Backend: "default/openai", Start: start, Status: 200})
	if buf.Len() != 0 {
		t.Errorf("an attempt that answered printed %s", buf.String())
	}
}

func mustRoot(t *testing.T, line string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPrometheus: /metrics parses with Prometheus's own text parser and
// counts what was recorded.
func TestPrometheus(t *testing.T) {
	p := telemetry.NewPrometheus()
	ctx := context.Background()
	p.Request(ctx, sample())
	p.Request(ctx, sample())
	odd := sample()
	odd.Route, odd.Status, odd.Cache = "ns/\"quoted\"\\route", telemetry.StatusClientClosed, "hit"
	p.Request(ctx, odd)
	p.Attempt(ctx, &telemetry.Attempt{Backend: "default/openai", ErrorKind: "timeout"})
	p.Attempt(ctx, &telemetry.Attempt{Backend: "default/openai"})

	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("%v\n%s", err, w.Body)
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("no family %s", name)
		}
		for _, m := range f.Metric {
			if matches(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
		t.Fatalf("%s%v: no series", name, labels)
		return 0
	}
	chat := map[string]string{"route": "default/chat", "backend": "default/openai"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{telemetry.PromRequests, with(chat, "status", "200"), 2},
		{telemetry.PromRequests, map[string]string{"route": odd.Route, "status": "499"}, 1},
		{telemetry.PromInputTokens, chat, 24},
		{telemetry.PromOutputTokens, chat, 10},
		{telemetry.PromCacheMisses, chat, 2},
		{telemetry.PromCacheHits, map[string]string{"route": odd.Route}, 1},
		{telemetry.PromLatency, chat, 2},
		{telemetry.PromTTFT, chat, 2},
		{telemetry.PromBackendErrors, map[string]string{"backend": "default/openai", "kind": "timeout"}, 1},
	}
	for _, c := range checks {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := fams[telemetry.PromLatency].Metric[0].Histogram
	if h.GetSampleSum() != 0.003 {
		t.Errorf("latency sum %v, want 0.003", h.GetSampleSum())
	}
	for _, b := range h.Bucket {
		if want := map[bool]uint64{true: 2, false: 0}[b.GetUpperBound() >= 0.0015]; b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.Label {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// TestRecorder: every sink gets both records, the access log first.
func TestRecorder(t *testing.T) {
	var logs, emf bytes.Buffer
	p := telemetry.NewPrometheus()
	rec := telemetry.New(telemetry.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), EMF: &emf, Prometheus: p})
	ctx := context.Background()
	rec.Attempt(ctx, &telemetry.Attempt{Backend: "b", ErrorKind: "timeout", Start: start})
	rec.Request(ctx, sample())
	if strings.Count(logs.String(), "\n") != 1 || strings.Count(emf.String(), "\n") != 2 {
		t.Errorf("log %q\nemf %q", logs.String(), emf.String())
	}
	var text bytes.Buffer
	bw := bufio.NewWriter(&text)
	p.WriteText(bw)
	bw.Flush()
	if !strings.Contains(text.String(), `sluice_backend_errors_total{backend="b",kind="timeout"} 1`) {
		t.Errorf("metrics:\n%s", text.String())
	}
}

// BenchmarkRecorder is the telemetry's own cost per request at the
// defaults of each entrypoint: the Lambda's access log and EMF, the local
// process's access log and Prometheus counters; and the Lambda's on a
// plain slog logger, which NewLogger's lines are measured against.
func BenchmarkRecorder(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  telemetry.Config
	}{
		{"lambda", telemetry.Config{Logger: telemetry.NewLogger(discard{}, telemetry.JSON, nil), EMF: discard{}}},
		{"local", telemetry.Config{Logger: telemetry.NewLogger(discard{}, telemetry.Text, nil), Prometheus: telemetry.NewPrometheus()}},
		{"slog", telemetry.Config{Logger: slog.New(slog.NewJSONHandler(discard{}, nil)), EMF: discard{}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rec := telemetry.New(bc.cfg)
			r := sample()
			a := &telemetry.Attempt{Backend: r.Backend, Start: start}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				rec.Attempt(ctx, a)
				rec.Request(ctx, r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
