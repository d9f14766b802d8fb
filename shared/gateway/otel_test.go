package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// TestOpenTelemetry: a request is a server span with a client span per
// upstream attempt, carrying the GenAI attributes; the provider receives
// the attempt's W3C traceparent; the GenAI client metrics are recorded
// with their attributes. The SDK's in-memory exporter and manual reader
// stand in for the OTLP endpoint.
func TestOpenTelemetry(t *testing.T) {
	var mu sync.Mutex
	var traceparents []string
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		n := len(traceparents)
		mu.Unlock()
		if n == 1 {
			http.Error(w, `{"error":{"message":"busy"}}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(chatUsage))
	}))
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	o, err := telemetry.NewOTel(tp, mp)
	if err != nil {
		t.Fatal(err)
	}
	backends := []route.Backend{{Provider: "openai", Endpoint: up}, {Provider: "openai", Endpoint: up}}
	g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": backends}),
		gatewaytest.WithConfig(gateway.Config{Telemetry: telemetry.New(telemetry.Config{OTel: o}), Transport: o.Transport(gateway.NewTransport())}))

	const clientTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, body := g.Do(t, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization", "Bearer "+g.Key, "Traceparent", clientTrace)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}

	got := spans.GetSpans()
	if len(got) != 3 {
		t.Fatalf("%d spans, want 2 attempts and the request: %v", len(got), got)
	}
	req := got[2]
	if req.SpanKind != trace.SpanKindServer || req.Name != "chat m" {
		t.Errorf("request span %q kind %v", req.Name, req.SpanKind)
	}
	if req.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("request span does not continue the client's trace: parent %v", req.Parent)
	}
	wantAttrs(t, "request span", req.Attributes, map[string]any{
		telemetry.AttrOperation: "chat", telemetry.AttrProvider: "openai", telemetry.AttrRequestModel: "m",
		telemetry.AttrResponseModel: "m", telemetry.AttrInputTokens: int64(7), telemetry.AttrOutputTokens: int64(3),
		telemetry.AttrHTTPStatus: int64(200),
	})
	for i, a := range got[:2] {
		if a.SpanKind != trace.SpanKindClient || a.Parent.SpanID() != req.SpanContext.SpanID() || a.Name != "chat m" {
			t.Errorf("attempt %d: %q kind %v parent %v", i, a.Name, a.SpanKind, a.Parent.SpanID())
		}
		want := "00-" + a.SpanContext.TraceID().String() + "-" + a.SpanContext.SpanID().String() + "-01"
		if traceparents[i] != want {
			t.Errorf("attempt %d sent traceparent %q, want its span's %q", i, traceparents[i], want)
		}
	}
	wantAttrs(t, "failed attempt", got[0].Attributes, map[string]any{telemetry.AttrErrorType: "upstream_error", telemetry.AttrHTTPStatus: int64(503)})

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			seen[m.Name] = true
			switch m.Name {
			case telemetry.MetricTokenUsage:
				h := m.Data.(metricdata.Histogram[int64])
				sums := map[string]int64{}
				for _, dp := range h.DataPoints {
					v, _ := dp.Attributes.Value(telemetry.AttrTokenType)
					sums[v.AsString()] += dp.Sum
					wantAttrs(t, m.Name, dp.Attributes.ToSlice(), map[string]any{telemetry.AttrOperation: "chat", telemetry.AttrProvider: "openai", telemetry.AttrRequestModel: "m"})
				}
				if sums["input"] != 7 || sums["output"] != 3 || m.Unit != "{token}" {
					t.Errorf("token usage %v unit %s", sums, m.Unit)
				}
			case telemetry.MetricDuration:
				h := m.Data.(metricdata.Histogram[float64])
				if len(h.DataPoints) != 1 || h.DataPoints[0].Count != 1 || m.Unit != "s" {
					t.Errorf("duration %+v unit %s", h.DataPoints, m.Unit)
				}
			}
		}
	}
	if !seen[telemetry.MetricTokenUsage] || !seen[telemetry.MetricDuration] {
		t.Errorf("metrics seen %v", seen)
	}
}

func wantAttrs(t *testing.T, what string, attrs []attribute.KeyValue, want map[string]any) {
	t.Helper()
	got := map[string]any{}
	for _, a := range attrs {
		got[string(a.Key)] = a.Value.AsInterface()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %v (%T), want %v; all %v", what, k, got[k], got[k], v, got)
		}
	}
}

// TestOpenTelemetryChunkTimes: a streamed answer records the time before
// each chunk after the first, one value per chunk, with the GenAI
// attributes; a whole answer records none.
func TestOpenTelemetryChunkTimes(t *testing.T) {
	up := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1"
	reader := sdkmetric.NewManualReader()
	o, err := telemetry.NewOTel(sdktrace.NewTracerProvider(), sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up)}),
		gatewaytest.WithConfig(gateway.Config{Telemetry: telemetry.New(telemetry.Config{OTel: o})}))
	chunks := func() (count uint64, attrs []attribute.KeyValue, unit string) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != telemetry.MetricTimePerChunk {
					continue
				}
				for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					count, attrs, unit = count+dp.Count, dp.Attributes.ToSlice(), m.Unit
				}
			}
		}
		return count, attrs, unit
	}
	if resp, body := g.Post(t, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if n, _, _ := chunks(); n != 0 {
		t.Errorf("a whole answer recorded %d chunk times", n)
	}
	resp, body := g.Post(t, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	// The upstream's events, as the mock sends them for the request the
	// gateway makes (which asks for the usage chunk).
	direct, err := http.Post(up+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(direct.Body)
	direct.Body.Close()
	events := strings.Count(string(raw), "data: ")
	n, attrs, unit := chunks()
	if events < 3 || n != uint64(events-1) || unit != "s" {
		t.Errorf("%d chunk times in %s for %d upstream events; want one per event after the first", n, unit, events)
	}
	wantAttrs(t, telemetry.MetricTimePerChunk, attrs, map[string]any{
		telemetry.AttrOperation: "chat", telemetry.AttrProvider: "openai", telemetry.AttrRequestModel: "m"})
}
