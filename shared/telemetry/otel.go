package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The GenAI semantic conventions' names this package writes, as
// published by OpenTelemetry (the GenAI conventions are still marked
// Development; none of the names here is a deprecated one).
const (
	AttrOperation      = "gen_ai.operation.name"
	AttrProvider       = "gen_ai.provider.name"
	AttrRequestModel   = "gen_ai.request.model"
	AttrResponseModel  = "gen_ai.response.model"
	AttrInputTokens    = "gen_ai.usage.input_tokens"
	AttrOutputTokens   = "gen_ai.usage.output_tokens"
	AttrTokenType      = "gen_ai.token.type"
	AttrErrorType      = "error.type"
	AttrHTTPStatus     = "http.response.status_code"
	MetricTokenUsage   = "gen_ai.client.token.usage"
	MetricDuration     = "gen_ai.client.operation.duration"
	MetricTimeToChunk  = "gen_ai.client.operation.time_to_first_chunk"
	MetricTimePerChunk = "gen_ai.client.operation.time_per_output_chunk"
	instrumentationLib = "github.com/sluicegw/sluice/shared/telemetry"
)

// providerNames maps Sluice's provider names to the conventions'
// gen_ai.provider.name values; names not listed are written as they are.
var providerNames = map[string]string{
	"bedrock":      "aws.bedrock",
	"gemini":       "gcp.gemini",
	"vertex-ai":    "gcp.vertex_ai",
	"azure-openai": "azure.ai.openai",
}

// The conventions' advised bucket boundaries.
var (
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
	chunkBuckets    = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5}
)

// OTel writes a span per request (kind server) with a child span per
// upstream attempt (kind client), and the GenAI client metrics, through
// the OpenTelemetry SDK's providers. Export is the SDK's batching, off the
// request's path.
type OTel struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	tokens   metric.Int64Histogram
	duration metric.Float64Histogram
	ttfc     metric.Float64Histogram
	tpoc     metric.Float64Histogram
}

// NewOTel returns a sink writing to tp and mp.
func NewOTel(tp trace.TracerProvider, mp metric.MeterProvider) (*OTel, error) {
	m := mp.Meter(instrumentationLib)
	o := &OTel{tracer: tp.Tracer(instrumentationLib), prop: propagation.TraceContext{}}
	var err1, err2, err3, err4 error
	o.tokens, err1 = m.Int64Histogram(MetricTokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used."), metric.WithExplicitBucketBoundaries(tokenBuckets...))
	o.duration, err2 = m.Float64Histogram(MetricDuration, metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	o.ttfc, err3 = m.Float64Histogram(MetricTimeToChunk, metric.WithUnit("s"),
		metric.WithDescription("Time to receive the first chunk of a streamed answer."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	o.tpoc, err4 = m.Float64Histogram(MetricTimePerChunk, metric.WithUnit("s"),
		metric.WithDescription("Time per output chunk of a streamed answer, from the previous chunk."), metric.WithExplicitBucketBoundaries(chunkBuckets...))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("telemetry: OpenTelemetry instruments: %w", err)
	}
	return o, nil
}

// StartRequest opens a request's span, continuing the client's trace when
// its headers carry a W3C traceparent.
func (o *OTel) StartRequest(ctx context.Context, h http.Header, at time.Time) context.Context {
	ctx = o.prop.Extract(ctx, propagation.HeaderCarrier(h))
	ctx, _ = o.tracer.Start(ctx, "request", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at))
	return ctx
}

// StartAttempt opens an attempt's span, a child of the request's.
func (o *OTel) StartAttempt(ctx context.Context, at time.Time) context.Context {
	ctx, _ = o.tracer.Start(ctx, "attempt", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at))
	return ctx
}

// Attempt ends the attempt's span.
func (o *OTel) Attempt(ctx context.Context, a *Attempt) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetName(spanName(a.Operation, a.Model, "attempt "+a.Backend))
	span.SetAttributes(
		attribute.String(AttrOperation, a.Operation),
		attribute.String(AttrProvider, providerName(a.Provider)),
		attribute.String(AttrRequestModel, a.Model),
		attribute.String("sluice.backend", a.Backend),
	)
	if a.Status != 0 {
		span.SetAttributes(attribute.Int(AttrHTTPStatus, a.Status))
	}
	if a.ErrorKind != "" {
		span.SetAttributes(attribute.String(AttrErrorType, a.ErrorKind))
		span.SetStatus(codes.Error, a.ErrorKind)
	}
	span.End(trace.WithTimestamp(a.Start.Add(a.Duration)))
}

// Request ends the request's span and records the GenAI metrics of a
// model request.
func (o *OTel) Request(ctx context.Context, r *Request) {
	responseModel := r.ServedModel
	if responseModel == "" {
		responseModel = r.Model
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetName(spanName(r.Operation, r.Model, r.Method+" "+r.Route))
		span.SetAttributes(
			attribute.String(AttrOperation, r.Operation),
			attribute.String(AttrProvider, providerName(r.Provider)),
			attribute.String(AttrRequestModel, r.Model),
			attribute.String(AttrResponseModel, responseModel),
			attribute.Int64(AttrInputTokens, r.InputTokens),
			attribute.Int64(AttrOutputTokens, r.OutputTokens),
			attribute.Int(AttrHTTPStatus, r.Status),
			attribute.String("sluice.route", r.Route),
			attribute.String("sluice.backend", r.Backend),
			attribute.String("sluice.request_id", r.ID),
			attribute.Int("sluice.attempts", r.Attempts),
		)
		if r.ErrorKind != "" {
			span.SetAttributes(attribute.String(AttrErrorType, r.ErrorKind))
			if r.Status >= 500 {
				span.SetStatus(codes.Error, r.ErrorKind)
			}
		}
		span.End(trace.WithTimestamp(r.Start.Add(r.Latency)))
	}
	if r.Operation == "" || r.Model == "" {
		return // not a model request
	}
	attrs := []attribute.KeyValue{
		attribute.String(AttrOperation, r.Operation),
		attribute.String(AttrProvider, providerName(r.Provider)),
		attribute.String(AttrRequestModel, r.Model),
		attribute.String(AttrResponseModel, responseModel),
	}
	if r.ErrorKind != "" {
		attrs = append(attrs, attribute.String(AttrErrorType, r.ErrorKind))
	}
	set := metric.WithAttributes(attrs...)
	o.duration.Record(ctx, r.Latency.Seconds(), set)
	if r.TTFT > 0 {
		o.ttfc.Record(ctx, r.TTFT.Seconds(), set)
	}
	if r.InputTokens > 0 || r.OutputTokens > 0 {
		o.tokens.Record(ctx, r.InputTokens, metric.WithAttributes(append(attrs, attribute.String(AttrTokenType, "input"))...))
		o.tokens.Record(ctx, r.OutputTokens, metric.WithAttributes(append(attrs, attribute.String(AttrTokenType, "output"))...))
	}
}

// ChunkTimer returns what records, for one streamed answer, the time
// between each chunk after the first and the one before it, with the
// request's GenAI attributes, which are built once per stream.
func (o *OTel) ChunkTimer(ctx context.Context, operation, provider, model string) func(time.Duration) {
	set := metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrOperation, operation),
		attribute.String(AttrProvider, providerName(provider)),
		attribute.String(AttrRequestModel, model),
	))
	return func(d time.Duration) { o.tpoc.Record(ctx, d.Seconds(), set) }
}

// Transport returns base sending the W3C traceparent of the attempt's
// span with every upstream request, so that providers which accept it
// join the trace.
func (o *OTel) Transport(base http.RoundTripper) http.RoundTripper {
	return &traceTransport{base: base, prop: o.prop}
}

type traceTransport struct {
	base http.RoundTripper
	prop propagation.TextMapPropagator
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if trace.SpanContextFromContext(req.Context()).IsValid() {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		t.prop.Inject(req.Context(), propagation.HeaderCarrier(req.Header))
	}
	return t.base.RoundTrip(req)
}

func spanName(op, model, fallback string) string {
	switch {
	case op != "" && model != "":
		return op + " " + model
	case op != "":
		return op
	}
	return fallback
}

func providerName(p string) string {
	if v, ok := providerNames[p]; ok {
		return v
	}
	return p
}

// OTLP builds OpenTelemetry providers exporting over OTLP/HTTP to
// endpoint (a base URL such as http://localhost:4318, as
// OTEL_EXPORTER_OTLP_ENDPOINT gives it): spans in batches and metrics
// every interval, both in the background. shutdown flushes what is left.
func OTLP(ctx context.Context, endpoint, service string, interval time.Duration) (o *OTel, shutdown func(context.Context) error, err error) {
	res := resource.NewSchemaless(attribute.String("service.name", service))
	spans, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP traces to %s: %w", endpoint, err)
	}
	metrics, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(endpoint+"/v1/metrics"))
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: OTLP metrics to %s: %w", endpoint, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans), sdktrace.WithResource(res))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metrics, sdkmetric.WithInterval(interval))),
		sdkmetric.WithResource(res))
	o, err = NewOTel(tp, mp)
	if err != nil {
		return nil, nil, err
	}
	return o, func(ctx context.Context) error { return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx)) }, nil
}
