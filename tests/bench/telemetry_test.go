package main

import (
	"strings"
	"testing"
)

// TestRenderTelemetry: the section computes each setting's cost over off
// and judges only the defaults against the bound.
func TestRenderTelemetry(t *testing.T) {
	out := "pkg: " + gatewayPkg + "\n" +
		"BenchmarkTelemetry/lambda-2 \t 20000\t 86407 ns/op\t 1.000 added-allocs/op\t 2500 added-ns/op\t 22120 B/op\t 109 allocs/op\n" +
		"BenchmarkTelemetry/local-2 \t 20000\t 86407 ns/op\t 1.000 added-allocs/op\t 6000 added-ns/op\t 22120 B/op\t 109 allocs/op\n" +
		"BenchmarkTelemetry/otlp-2 \t 20000\t 117091 ns/op\t 88.00 added-allocs/op\t 28786 added-ns/op\t 36436 B/op\t 224 allocs/op\n"
	got := renderTelemetry(parseGoBench(out))
	for _, want := range []string{
		"| Lambda defaults: JSON access log + EMF lines | 2.5 µs | 1 | met |",
		"| Local defaults: text access log + Prometheus counters | 6.0 µs | 1 | not met |",
		"| 28.8 µs | 88 | (not judged) |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if renderTelemetry(nil) != "" {
		t.Error("a section without the benchmark")
	}
}
