package telemetry

import (
	"bufio"
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Prometheus names of the metrics the EMF lines carry, with the labels
// route and backend (requests also by status; backend errors by backend
// and error kind).
const (
	PromRequests      = "sluice_requests_total"
	PromInputTokens   = "sluice_input_tokens_total"
	PromOutputTokens  = "sluice_output_tokens_total"
	PromLatency       = "sluice_latency_seconds"
	PromTTFT          = "sluice_time_to_first_token_seconds"
	PromCacheHits     = "sluice_cache_hits_total"
	PromCacheMisses   = "sluice_cache_misses_total"
	PromBackendErrors = "sluice_backend_errors_total"
)

// buckets are the histograms' upper bounds in seconds: model answers take
// from milliseconds (a cache hit) to minutes (a long generation).
var buckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Prometheus keeps counters and histograms in memory for a scraper to
// read from ServeHTTP in the text exposition format. Recording a request
// takes a read lock and atomic adds; a series is allocated only the first
// time its labels are seen.
type Prometheus struct {
	mu       sync.RWMutex
	series   map[pair]*series
	requests map[requestKey]*atomic.Int64
	errors   map[errorKey]*atomic.Int64
}

type pair struct{ route, backend string }

type requestKey struct {
	pair
	status int
}

type errorKey struct{ backend, kind string }

type series struct {
	input, output, hits, misses atomic.Int64
	latency, ttft               histogram
}

type histogram struct {
	counts [len(buckets) + 1]atomic.Int64 // per bucket, the last for +Inf
	sumUS  atomic.Int64                   // microseconds
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i, _ := slices.BinarySearch(buckets[:], s)
	h.counts[i].Add(1)
	h.sumUS.Add(int64(d / time.Microsecond))
}

// NewPrometheus returns an empty set of metrics.
func NewPrometheus() *Prometheus {
	return &Prometheus{series: map[pair]*series{}, requests: map[requestKey]*atomic.Int64{}, errors: map[errorKey]*atomic.Int64{}}
}

// getOrAdd finds m[k], adding new() under the write lock the first time.
func getOrAdd[K comparable, V any](mu *sync.RWMutex, m map[K]*V, k K) *V {
	mu.RLock()
	v := m[k]
	mu.RUnlock()
	if v != nil {
		return v
	}
	mu.Lock()
	defer mu.Unlock()
	if v = m[k]; v == nil {
		v = new(V)
		m[k] = v
	}
	return v
}

// Request counts r.
func (p *Prometheus) Request(_ context.Context, r *Request) {
	k := pair{r.Route, r.Backend}
	getOrAdd(&p.mu, p.requests, requestKey{k, r.Status}).Add(1)
	s := getOrAdd(&p.mu, p.series, k)
	s.input.Add(r.InputTokens)
	s.output.Add(r.OutputTokens)
	s.latency.observe(r.Latency)
	if r.TTFT > 0 {
		s.ttft.observe(r.TTFT)
	}
	switch r.Cache {
	case "hit":
		s.hits.Add(1)
	case "miss":
		s.misses.Add(1)
	}
}

// Attempt counts a failed attempt.
func (p *Prometheus) Attempt(_ context.Context, a *Attempt) {
	if a.ErrorKind != "" {
		getOrAdd(&p.mu, p.errors, errorKey{a.Backend, a.ErrorKind}).Add(1)
	}
}

// ServeHTTP writes the metrics in Prometheus's text format.
func (p *Prometheus) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	p.WriteText(bw)
	bw.Flush()
}

// WriteText writes the metrics in Prometheus's text format, series in a
// stable order.
func (p *Prometheus) WriteText(w *bufio.Writer) {
	p.mu.RLock()
	reqs := sortedKeys(p.requests, func(a, b requestKey) int {
		return cmp.Or(comparePair(a.pair, b.pair), cmp.Compare(a.status, b.status))
	})
	pairs := sortedKeys(p.series, comparePair)
	errs := sortedKeys(p.errors, func(a, b errorKey) int {
		return cmp.Or(cmp.Compare(a.backend, b.backend), cmp.Compare(a.kind, b.kind))
	})
	p.mu.RUnlock()

	header(w, PromRequests, "counter", "Requests served, by route, backend and status (499: the client went away).")
	for _, k := range reqs {
		p.mu.RLock()
		v := p.requests[k].Load()
		p.mu.RUnlock()
		w.WriteString(PromRequests)
		labels(w, "route", k.route, "backend", k.backend, "status", strconv.Itoa(k.status))
		writeInt(w, v)
	}
	ss := make([]*series, len(pairs))
	p.mu.RLock()
	for i, k := range pairs {
		ss[i] = p.series[k]
	}
	p.mu.RUnlock()
	counters := []struct {
		name, help string
		get        func(*series) int64
	}{
		{PromInputTokens, "Input tokens, cached ones included.", func(s *series) int64 { return s.input.Load() }},
		{PromOutputTokens, "Output tokens, reasoning ones included.", func(s *series) int64 { return s.output.Load() }},
		{PromCacheHits, "Requests answered from the response cache.", func(s *series) int64 { return s.hits.Load() }},
		{PromCacheMisses, "Response cache lookups that found nothing.", func(s *series) int64 { return s.misses.Load() }},
	}
	for _, c := range counters {
		header(w, c.name, "counter", c.help)
		for i, k := range pairs {
			w.WriteString(c.name)
			labels(w, "route", k.route, "backend", k.backend)
			writeInt(w, c.get(ss[i]))
		}
	}
	hists := []struct {
		name, help string
		get        func(*series) *histogram
	}{
		{PromLatency, "Time from a request's arrival to its last byte.", func(s *series) *histogram { return &s.latency }},
		{PromTTFT, "Time from a streamed request's arrival to its first byte.", func(s *series) *histogram { return &s.ttft }},
	}
	for _, h := range hists {
		header(w, h.name, "histogram", h.help)
		for i, k := range pairs {
			writeHistogram(w, h.name, k, h.get(ss[i]))
		}
	}
	header(w, PromBackendErrors, "counter", "Upstream attempts that failed, by backend and error kind.")
	for _, k := range errs {
		p.mu.RLock()
		v := p.errors[k].Load()
		p.mu.RUnlock()
		w.WriteString(PromBackendErrors)
		labels(w, "backend", k.backend, "kind", k.kind)
		writeInt(w, v)
	}
}

func comparePair(a, b pair) int {
	return cmp.Or(cmp.Compare(a.route, b.route), cmp.Compare(a.backend, b.backend))
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return keys
}

func writeHistogram(w *bufio.Writer, name string, k pair, h *histogram) {
	var total int64
	for i := range h.counts {
		total += h.counts[i].Load()
		le := "+Inf"
		if i < len(buckets) {
			le = strconv.FormatFloat(buckets[i], 'g', -1, 64)
		}
		w.WriteString(name + "_bucket")
		labels(w, "route", k.route, "backend", k.backend, "le", le)
		writeInt(w, total)
	}
	w.WriteString(name + "_sum")
	labels(w, "route", k.route, "backend", k.backend)
	w.WriteString(strconv.FormatFloat(float64(h.sumUS.Load())/1e6, 'g', -1, 64))
	w.WriteByte('\n')
	w.WriteString(name + "_count")
	labels(w, "route", k.route, "backend", k.backend)
	writeInt(w, total)
}

func header(w *bufio.Writer, name, typ, help string) {
	w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// labels writes {k="v",...} followed by a space; values are escaped as
// the text format requires.
func labels(w *bufio.Writer, kv ...string) {
	w.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(kv[i])
		w.WriteString(`="`)
		w.WriteString(labelEscaper.Replace(kv[i+1]))
		w.WriteByte('"')
	}
	w.WriteString("} ")
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func writeInt(w *bufio.Writer, v int64) {
	var b [20]byte
	w.Write(strconv.AppendInt(b[:0], v, 10))
	w.WriteByte('\n')
}
