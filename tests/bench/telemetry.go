package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// The telemetry's cost per request: BenchmarkTelemetry in shared/gateway
// serves one chat completion with the telemetry off and at each setting;
// the cost is each minus off. At its defaults the handbook's bound is
// telemetryMaxCost and telemetryMaxAllocs.
const (
	benchTelemetry     = "BenchmarkTelemetry"
	telemetryMaxCost   = 5 * time.Microsecond
	telemetryMaxAllocs = 2
)

// telemetryCases are BenchmarkTelemetry's sub-benchmarks after off, with
// whether they are a default (judged against the bound).
var telemetryCases = []struct {
	sub, what string
	judged    bool
}{
	{"lambda", "Lambda defaults: JSON access log + EMF lines", true},
	{"local", "Local defaults: text access log + Prometheus counters", true},
	{"otlp", "Lambda defaults + OpenTelemetry to an OTLP endpoint (spans, GenAI metrics, traceparent)", false},
}

// runTelemetryBench runs BenchmarkTelemetry alone (`-only telemetry`).
func runTelemetryBench(ctx context.Context, root string) ([]goBench, string, error) {
	args := []string{"test", "-tags", goTags, "-run", "^$", "-bench", "^" + benchTelemetry + "$", "-benchmem", "-count", "1", "./shared/gateway/"}
	progress("running go %s", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("go benchmarks: %w", err)
	}
	return parseGoBench(string(out)), "`go " + strings.Join(args, " ") + "`", nil
}

// renderTelemetry is the report's telemetry section; "" when the
// benchmark is not in the results.
func renderTelemetry(benches []goBench) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	for _, c := range telemetryCases {
		var g goBench
		found := false
		for _, x := range benches {
			if x.pkg == gatewayPkg && benchNamed(x.name, benchTelemetry+"/"+c.sub) {
				g, found = x, true
			}
		}
		ns, ok1 := g.metrics["added-ns/op"]
		allocs, ok2 := g.metrics["added-allocs/op"]
		if !found || !ok1 || !ok2 {
			continue
		}
		if b.Len() == 0 {
			p("\n## Telemetry cost per request\n\n")
			p("`%s`, `shared/gateway`: one chat completion through the handler (canned upstream), served in turn by a gateway with no "+
				"telemetry and one with the setting; the cost is the difference of their median times and of their allocations. "+
				"Bound at the defaults: under %s and %d allocations per request.\n\n", benchTelemetry, dur(telemetryMaxCost), telemetryMaxAllocs)
			p("| Telemetry | Added per request | Added allocations | Bound |\n|---|---:|---:|:---:|\n")
		}
		verdict := "(not judged)"
		if c.judged {
			verdict = "not met"
			if time.Duration(ns) < telemetryMaxCost && allocs <= telemetryMaxAllocs {
				verdict = "met"
			}
		}
		p("| %s | %.1f µs | %s | %s |\n", c.what, ns/1e3, num(allocs), verdict)
	}
	if b.Len() > 0 {
		p("\nOn a busy machine the time is inflated with the rest of the request; the allocation counts are exact. " +
			"`BenchmarkRecorder` in `shared/telemetry` times the recorder alone.\n")
	}
	return b.String()
}
