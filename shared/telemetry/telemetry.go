package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Sink receives records; the access log, EMF, Prometheus and
// OpenTelemetry each are one.
type Sink interface {
	Attempt(ctx context.Context, a *Attempt)
	Request(ctx context.Context, r *Request)
}

// Config says where records go; nil and zero fields turn a sink off.
type Config struct {
	// Logger receives the access log, one line per request.
	Logger *slog.Logger
	// EMF receives CloudWatch embedded-metric-format lines (the Lambda's
	// stdout).
	EMF io.Writer
	// Prometheus keeps counters for /metrics.
	Prometheus *Prometheus
	// OTel traces requests and attempts and records the GenAI metrics.
	OTel *OTel
	// Sinks are further sinks.
	Sinks []Sink
}

// Recorder hands each record to every configured sink, in order.
type Recorder struct {
	log   *AccessLog
	otel  *OTel
	sinks []Sink
}

// New returns a Recorder for cfg.
func New(cfg Config) *Recorder {
	r := &Recorder{log: NewAccessLog(cfg.Logger)}
	if cfg.EMF != nil {
		r.sinks = append(r.sinks, NewEMF(cfg.EMF))
	}
	if cfg.Prometheus != nil {
		r.sinks = append(r.sinks, cfg.Prometheus)
	}
	if cfg.OTel != nil {
		r.otel = cfg.OTel
		r.sinks = append(r.sinks, cfg.OTel)
	}
	r.sinks = append(r.sinks, cfg.Sinks...)
	return r
}

// StartRequest opens the request's span when tracing is on; otherwise it
// returns ctx as it is.
func (rec *Recorder) StartRequest(ctx context.Context, h http.Header, at time.Time) context.Context {
	if rec.otel == nil {
		return ctx
	}
	return rec.otel.StartRequest(ctx, h, at)
}

// ChunkTimer times a streamed answer's chunks when OpenTelemetry is on;
// nil otherwise, so that streams pay nothing for it.
func (rec *Recorder) ChunkTimer(ctx context.Context, operation, provider, model string) func(time.Duration) {
	if rec.otel == nil {
		return nil
	}
	return rec.otel.ChunkTimer(ctx, operation, provider, model)
}

// StartAttempt opens an attempt's span when tracing is on; otherwise it
// returns ctx as it is.
func (rec *Recorder) StartAttempt(ctx context.Context, at time.Time) context.Context {
	if rec.otel == nil {
		return ctx
	}
	return rec.otel.StartAttempt(ctx, at)
}

// Attempt records an upstream attempt that ended.
func (rec *Recorder) Attempt(ctx context.Context, a *Attempt) {
	for _, s := range rec.sinks {
		s.Attempt(ctx, a)
	}
}

// Request records a request that ended: its access-log line first.
func (rec *Recorder) Request(ctx context.Context, r *Request) {
	rec.log.Request(ctx, r)
	for _, s := range rec.sinks {
		s.Request(ctx, r)
	}
}
