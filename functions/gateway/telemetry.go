package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// wireTelemetry gives the gateway its telemetry: the access log on the
// JSON logger, EMF lines on stdout (CloudWatch Logs extracts the metrics
// the dashboard reads), and OpenTelemetry when an OTLP endpoint is set,
// sent through the pooled transport so the provider gets the traceparent.
// The SDK batches in the background; the ADOT collector extension flushes
// what a frozen sandbox holds when it next runs or shuts down.
func wireTelemetry(ctx context.Context, cfg *gateway.Config, log *slog.Logger) error {
	tc := telemetry.Config{Logger: log}
	if cfg.EMF {
		tc.EMF = os.Stdout
	}
	if cfg.OTLPEndpoint != "" {
		o, _, err := telemetry.OTLP(ctx, cfg.OTLPEndpoint, "sluice-gateway", 10*time.Second)
		if err != nil {
			return err
		}
		tc.OTel = o
		cfg.Transport = o.Transport(gateway.NewTransport())
	}
	cfg.Telemetry = telemetry.New(tc)
	return nil
}
