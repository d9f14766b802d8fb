package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/store"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// telemetry sets the in-process gateway's: the access log, Prometheus
// counters for /metrics, and OpenTelemetry when an endpoint is set (its
// spans flushed when the process stops).
func (p *process) telemetry(ctx context.Context, cfg *gateway.Config, log *slog.Logger) error {
	p.prom = telemetry.NewPrometheus()
	tc := telemetry.Config{Logger: log, Prometheus: p.prom}
	if cfg.OTLPEndpoint != "" {
		o, shutdown, err := telemetry.OTLP(ctx, cfg.OTLPEndpoint, "sluice-local", 10*time.Second)
		if err != nil {
			return err
		}
		p.closers = append(p.closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			shutdown(sctx)
		})
		tc.OTel = o
		cfg.Transport = o.Transport(gateway.NewTransport())
	}
	cfg.Telemetry = telemetry.New(tc)
	return nil
}

// observe serves /metrics, /healthz and /readyz beside the admin API. A
// ServeMux's exact paths win over the gateway's catch-all, so no route
// can shadow them.
func (p *process) observe(mux *http.ServeMux, rc *redis.Client, st *store.Store) {
	if p.prom != nil {
		mux.Handle("GET /metrics", p.prom)
	}
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz([]check{
		{"route table", func(context.Context) error {
			if p.tables != nil && p.tables.Table() == nil {
				return errors.New("not loaded yet")
			}
			return nil
		}},
		{"redis", func(ctx context.Context) error { return rc.Ping(ctx).Err() }},
		{"dynamodb", func(ctx context.Context) error { _, err := st.LatestVersion(ctx); return err }},
	}))
}
