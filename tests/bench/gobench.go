package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// matchBench is the route-matching benchmark the report leads its Go
// section with: Table.Match over 1,000 model routes.
const (
	matchBench    = "BenchmarkMatch1000"
	matchBenchPkg = "github.com/sluicegw/sluice/shared/route"
)

// lshBench is the semantic cache's index lookup at 100,000 entries in one
// scope on redis-server, which reports its own p50 and p99; issue 15
// bounds its p50.
const (
	lshBench      = "BenchmarkLSHNearest100k"
	targetLSHP50  = 2.0 // milliseconds
	lshBenchUnits = "p50-ms"
)

// goBench is one result line of `go test -bench -benchmem`; metrics holds
// the figures a benchmark reports itself (b.ReportMetric), by unit.
type goBench struct {
	pkg, name                   string
	nsPerOp, bytesPerOp, allocs float64
	metrics                     map[string]float64
}

// goBenchmarks reads the output of `go test -bench . -benchmem` from file
// (as `make bench` writes it), or, without a file, runs the benchmarks the
// report uses itself in the repository at root: route matching and the
// translation cost. source says which, for the report.
func goBenchmarks(ctx context.Context, file, root string) (benches []goBench, source string, err error) {
	var out []byte
	if file != "" {
		source = "`make bench`: `go test -run '^$' -bench . -benchmem ./shared/...`"
		out, err = os.ReadFile(file)
	} else {
		pattern := "^(" + matchBench + "|" + benchTranslationCost + "|" + benchStreamPlain + "|" + benchToAnthropic + "|" + benchTelemetry + ")$"
		pkgs := []string{"./shared/route/", "./shared/gateway/"}
		source = "`go test -run '^$' -bench '" + pattern + "' -benchmem " + strings.Join(pkgs, " ") + "`"
		progress("running the Go benchmarks: %s", strings.Trim(source, "`"))
		cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-tags", goTags, "-run", "^$", "-bench", pattern, "-benchmem"}, pkgs...)...)
		cmd.Dir = root
		out, err = cmd.Output()
	}
	if err != nil {
		return nil, "", fmt.Errorf("go benchmarks: %w", err)
	}
	return parseGoBench(string(out)), source, nil
}

// parseGoBench picks the result lines out of go test output: "pkg:" lines
// name the package of the lines that follow; a result line is the name, the
// iteration count, then value-unit pairs.
func parseGoBench(out string) []goBench {
	var res []goBench
	pkg := ""
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "pkg:" {
			pkg = f[1]
			continue
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		b := goBench{pkg: pkg, name: f[0], bytesPerOp: -1, allocs: -1}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.nsPerOp = v
			case "B/op":
				b.bytesPerOp = v
			case "allocs/op":
				b.allocs = v
			default:
				if b.metrics == nil {
					b.metrics = map[string]float64{}
				}
				b.metrics[f[i+1]] = v
			}
		}
		res = append(res, b)
	}
	return res
}

// renderGoBench is the report's Go benchmarks section.
func renderGoBench(benches []goBench, source string) string {
	if len(benches) == 0 {
		return ""
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## Go benchmarks\n\n")
	for _, g := range benches {
		if g.pkg == matchBenchPkg && strings.HasPrefix(g.name, matchBench+"-") || g.name == matchBench {
			p("Route matching over 1,000 routes (`route.Table.Match`, `%s`): **%s ns/op, %s allocs/op**.\n\n", g.name, num(g.nsPerOp), num(g.allocs))
		}
		if p50, ok := g.metrics[lshBenchUnits]; ok && strings.HasPrefix(g.name, lshBench) {
			p("Semantic cache index lookup, LSH at 100,000 entries in one scope on redis-server (`%s`): **p50 %s ms, p99 %s ms** (target p50 under %s ms: %s).\n\n",
				g.name, num(p50), num(g.metrics["p99-ms"]), num(targetLSHP50), verdict(p50 < targetLSHP50))
		}
	}
	p("| Package | Benchmark | ns/op | B/op | allocs/op | Own figures |\n|---|---|---:|---:|---:|---|\n")
	for _, g := range benches {
		p("| %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(g.pkg, module+"/"), g.name, num(g.nsPerOp), num(g.bytesPerOp), num(g.allocs), metrics(g.metrics))
	}
	p("\nFrom %s, one run each, on the machine below.\n", source)
	return b.String()
}

// metrics lists a benchmark's own figures, by unit name.
func metrics(m map[string]float64) string {
	units := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(units))
	for i, u := range units {
		parts[i] = num(m[u]) + " " + u
	}
	return strings.Join(parts, ", ")
}

// num prints a benchmark figure: whole numbers with separators, small
// ones with up to two decimals, "—" when go test did not report it.
func num(v float64) string {
	switch {
	case v < 0:
		return "—"
	case v >= 100 || v == float64(int64(v)):
		return thousands(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
