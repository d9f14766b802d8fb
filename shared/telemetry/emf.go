package telemetry

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"
)

// EMF prints CloudWatch embedded-metric-format documents, one JSON line
// per request and one per failed attempt. In Lambda the runtime ships the
// function's output to CloudWatch Logs, which extracts the metrics: no
// API call is made, nothing waits on the network. Every metric is
// published without dimensions and by Backend, as the dashboard reads
// them, and by Route and Backend, so the live view can split a backend's
// traffic by the routes that sent it.
type EMF struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewEMF returns an EMF writer printing to w (the Lambda's stdout).
func NewEMF(w io.Writer) *EMF { return &EMF{w: w, buf: make([]byte, 0, 1024)} }

// Request prints r's document: Requests, tokens and Latency always,
// TimeToFirstToken for streams that sent a byte, CacheHits or CacheMisses
// when a cache policy applied.
func (e *EMF) Request(_ context.Context, r *Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.head(e.buf[:0], r.Start.Add(r.Latency), r.Route, r.Backend)
	b = metricDef(b, MetricRequests, "Count", true)
	b = metricDef(b, MetricInputTokens, "Count", false)
	b = metricDef(b, MetricOutputTokens, "Count", false)
	b = metricDef(b, MetricLatency, "Milliseconds", false)
	if r.TTFT > 0 {
		b = metricDef(b, MetricTimeToFirstToken, "Milliseconds", false)
	}
	switch r.Cache {
	case "hit":
		b = metricDef(b, MetricCacheHits, "Count", false)
	case "miss":
		b = metricDef(b, MetricCacheMisses, "Count", false)
	}
	b = append(b, "]}]}"...)
	b = dimMembers(b, r.Route, r.Backend)
	b = intMember(b, MetricRequests, 1)
	b = intMember(b, MetricInputTokens, r.InputTokens)
	b = intMember(b, MetricOutputTokens, r.OutputTokens)
	b = floatMember(b, MetricLatency, ms(r.Latency))
	if r.TTFT > 0 {
		b = floatMember(b, MetricTimeToFirstToken, ms(r.TTFT))
	}
	switch r.Cache {
	case "hit":
		b = intMember(b, MetricCacheHits, 1)
	case "miss":
		b = intMember(b, MetricCacheMisses, 1)
	}
	// The request id lets a metric's spike be traced to its log lines.
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, "}\n"...)
	e.write(b)
}

// Attempt prints a BackendErrors document for a failed attempt, by the
// backend that failed and the route that sent it there.
func (e *EMF) Attempt(_ context.Context, a *Attempt) {
	if a.ErrorKind == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.head(e.buf[:0], a.Start.Add(a.Duration), a.Route, a.Backend)
	b = metricDef(b, MetricBackendErrors, "Count", true)
	b = append(b, "]}]}"...)
	b = dimMembers(b, a.Route, a.Backend)
	b = intMember(b, MetricBackendErrors, 1)
	b = append(b, `,"error_kind":`...)
	b = appendJSONString(b, a.ErrorKind)
	b = append(b, "}\n"...)
	e.write(b)
}

func (e *EMF) write(b []byte) {
	e.buf = b
	e.w.Write(b) // stdout: nothing to do when it fails
}

// head opens a document up to its first metric definition: the
// timestamp, the namespace and the dimension sets. A set is declared only
// when each of its dimensions has a value, since EMF wants every named
// dimension as a member and an empty value would be a series of its own.
func (e *EMF) head(b []byte, at time.Time, route, backend string) []byte {
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, at.UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":"`+Namespace+`","Dimensions":[[]`...)
	if backend != "" {
		b = append(b, `,["`+DimBackend+`"]`...)
		if route != "" {
			b = append(b, `,["`+DimRoute+`","`+DimBackend+`"]`...)
		}
	}
	return append(b, `],"Metrics":[`...)
}

func metricDef(b []byte, name, unit string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, `{"Name":"`...)
	b = append(b, name...)
	b = append(b, `","Unit":"`...)
	b = append(b, unit...)
	return append(b, `"}`...)
}

// dimMembers writes the members the declared dimension sets name.
func dimMembers(b []byte, route, backend string) []byte {
	if backend == "" {
		return b
	}
	b = append(b, `,"`+DimBackend+`":`...)
	b = appendJSONString(b, backend)
	if route == "" {
		return b
	}
	b = append(b, `,"`+DimRoute+`":`...)
	return appendJSONString(b, route)
}

func intMember(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func floatMember(b []byte, name string, v float64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
