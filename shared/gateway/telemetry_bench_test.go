package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/telemetry"
)

type nopTelemetry struct{}

func (nopTelemetry) Attempt(context.Context, *telemetry.Attempt) {}
func (nopTelemetry) Request(context.Context, *telemetry.Request) {}

// BenchmarkTelemetry serves the chat completion of BenchmarkChatCompletion
// with no telemetry at all (off), with each entrypoint's defaults (the
// Lambda's JSON access log and EMF lines, the local process's access log
// and Prometheus counters), and with the Lambda's defaults plus
// OpenTelemetry exporting over OTLP/HTTP to a loopback collector. The
// telemetry's cost per request is each line minus off.
func BenchmarkTelemetry(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer collector.Close()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	otel, shutdown, err := telemetry.OTLP(context.Background(), collector.URL, "bench", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	defer shutdown(context.Background())
	cases := []struct {
		name string
		tel  gateway.Telemetry
		otel bool
	}{
		{"off", nopTelemetry{}, false},
		{"lambda", telemetry.New(telemetry.Config{Logger: log, EMF: io.Discard}), false},
		{"local", telemetry.New(telemetry.Config{Logger: log, Prometheus: telemetry.NewPrometheus()}), false},
		{"otlp", telemetry.New(telemetry.Config{Logger: log, EMF: io.Discard, OTel: otel}), true},
	}
	canned := cannedTransport{contentType: "application/json", body: benchChat}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var tr http.RoundTripper = canned
			if c.otel {
				tr = otel.Transport(canned)
			}
			benchGatewayCfg(b, gateway.Config{Transport: tr, Telemetry: c.tel},
				`{"model":"m","messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
		})
	}
}
