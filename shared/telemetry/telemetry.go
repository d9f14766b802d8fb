package telemetry

import (
	"context"
	"io"
	"log/slog"
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
	// Sinks are further sinks (OpenTelemetry's).
	Sinks []Sink
}

// Recorder hands each record to every configured sink, in order.
type Recorder struct {
	log   *AccessLog
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
	r.sinks = append(r.sinks, cfg.Sinks...)
	return r
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
