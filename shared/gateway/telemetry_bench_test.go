package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/telemetry"
)

type nopTelemetry struct{}

func (nopTelemetry) Attempt(context.Context, *telemetry.Attempt) {}
func (nopTelemetry) Request(context.Context, *telemetry.Request) {}

// BenchmarkTelemetry is the telemetry's cost per request: the chat
// completion of BenchmarkChatCompletion served by two gateways in turn,
// one with no telemetry at all and one with a setting (each entrypoint's
// defaults: the Lambda's JSON access log and EMF lines, the local
// process's text access log and Prometheus counters, each on the logger
// its main makes; and the Lambda's defaults
// plus OpenTelemetry exporting over OTLP/HTTP to a loopback collector).
// added-ns/op is the difference of the two medians, which load from
// elsewhere moves little since it weighs on both alike; added-allocs/op
// the difference of their allocations.
func BenchmarkTelemetry(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer collector.Close()
	jsonLog := telemetry.NewLogger(io.Discard, telemetry.JSON, nil)
	textLog := telemetry.NewLogger(io.Discard, telemetry.Text, nil)
	otel, shutdown, err := telemetry.OTLP(context.Background(), collector.URL, "bench", time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	defer shutdown(context.Background())
	canned := cannedTransport{contentType: "application/json", body: benchChat}
	off := telemetryBenchGateway(b, gateway.Config{Transport: canned, Telemetry: nopTelemetry{}})
	cases := []struct {
		name string
		cfg  gateway.Config
	}{
		{"lambda", gateway.Config{Transport: canned, Telemetry: telemetry.New(telemetry.Config{Logger: jsonLog, EMF: io.Discard})}},
		{"local", gateway.Config{Transport: canned, Telemetry: telemetry.New(telemetry.Config{Logger: textLog, Prometheus: telemetry.NewPrometheus()})}},
		{"otlp", gateway.Config{Transport: otel.Transport(canned), Telemetry: telemetry.New(telemetry.Config{Logger: jsonLog, EMF: io.Discard, OTel: otel})}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			on := telemetryBenchGateway(b, c.cfg)
			allocs := testing.AllocsPerRun(500, on) - testing.AllocsPerRun(500, off)
			var offT, onT []time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				first, second, ft, st := off, on, &offT, &onT
				if i%2 == 1 {
					first, second, ft, st = on, off, &onT, &offT
				}
				t0 := time.Now()
				first()
				t1 := time.Now()
				second()
				*ft = append(*ft, t1.Sub(t0))
				*st = append(*st, time.Since(t1))
			}
			b.ReportMetric(float64(median(onT)-median(offT)), "added-ns/op")
			b.ReportMetric(allocs, "added-allocs/op")
		})
	}
}

// telemetryBenchGateway returns a function serving one chat completion
// through a gateway with cfg.
func telemetryBenchGateway(b *testing.B, cfg gateway.Config) func() {
	g := gatewaytest.New(b, gatewaytest.Table(b, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")}),
		gatewaytest.WithConfig(cfg))
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
	return func() {
		r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+g.Key)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
