package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/local/lambdaemu"
	"github.com/sluicegw/sluice/shared/store"
)

// targetLambdaStart is the target for the gateway Lambda's cold
// start under the emulator, judged at the median.
const targetLambdaStart = 50 * time.Millisecond

// lambdaMemoryMB is the gateway function's memory size in the CDK stack's
// defaults; the function sizes its Go memory limit from it.
const lambdaMemoryMB = 1024

// lambdaStart is one cold start of the gateway Lambda under the emulator.
type lambdaStart struct {
	lambdaemu.ColdStart
	cpu time.Duration // CPU time the bootstrap had used once its first answer was read
}

// buildLambda builds the gateway Lambda as `make build` does, but for this
// machine's OS and CPU, at dir/gateway/bootstrap (the emulator names the
// function after the folder), and returns the path.
func buildLambda(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "gateway", "bootstrap")
	progress("building ./functions/gateway (the gateway Lambda, for this machine)")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc,"+goTags, "-o", out, "./functions/gateway")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./functions/gateway: %w\n%s", err, b)
	}
	return out, nil
}

// lambdaEnv is the gateway Lambda's environment as `go run ./local -lambda`
// gives it: the stores the bench runs, a streamed front door, and the bench's
// log level.
func (e *env) lambdaEnv() []string {
	env := []string{
		"SLUICE_ROUTES_TABLE=" + store.DefaultRoutesTable,
		"SLUICE_LEDGER_TABLE=" + store.DefaultLedgerTable,
		"SLUICE_DYNAMODB_ENDPOINT=" + e.dynamo.URL("http"),
		"SLUICE_LAMBDA_STREAM=true",
		"SLUICE_LOG_LEVEL=" + e.cfg.logLevel,
	}
	if e.redis != nil {
		env = append(env, "SLUICE_REDIS_URL="+e.redis.URL("redis"))
	}
	return env
}

// lambdaStarts times n cold starts of the gateway Lambda. Each is a fresh
// emulator, whose first request starts a sandbox: one chat completion is
// sent through the front door, and the emulator reports when it executed the
// bootstrap and when the first byte of the answer came back from it, so the
// bench's client is not in the figure.
func (e *env) lambdaStarts(ctx context.Context, n int) ([]lambdaStart, error) {
	progress("%d gateway Lambda cold starts under the emulator", n)
	out, err := os.Create(filepath.Join(e.tmp, "lambda.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	logs, err := os.Create(filepath.Join(e.tmp, "lambdaemu.log"))
	if err != nil {
		return nil, err
	}
	defer logs.Close()
	log := slog.New(slog.NewTextHandler(logs, nil))

	// One front door for all: it serves through the emulator of the moment.
	var current atomic.Pointer[lambdaemu.Emulator]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/v1/chat/completions"
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

	fail := func(err error) error {
		return fmt.Errorf("gateway Lambda cold start: %w\n%s\n%s", err, tail(logs.Name(), 5), tail(out.Name(), 10))
	}
	var runs []lambdaStart
	for range n {
		colds := make(chan lambdaemu.ColdStart, 1)
		emu, err := lambdaemu.New(ctx, lambdaemu.Config{
			Bootstrap: e.lambda, Env: e.lambdaEnv(), Concurrency: 1, Timeout: 10 * time.Second,
			MemoryMB: lambdaMemoryMB, Output: out, Logger: log,
			OnColdStart: func(c lambdaemu.ColdStart) { colds <- c },
		})
		if err != nil {
			return nil, err
		}
		current.Store(emu)
		run, err := func() (lambdaStart, error) {
			defer emu.Close()
			status, err := post(ctx, client, url, e.gw.key, chatBody)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("answered %d", status)
			}
			if err != nil {
				return lambdaStart{}, err
			}
			var run lambdaStart
			select {
			case run.ColdStart = <-colds:
			case <-time.After(10 * time.Second):
				return run, errors.New("the emulator reported no cold start")
			}
			run.cpu, err = threadsCPU(run.Pid)
			return run, err
		}()
		if err != nil {
			return nil, fail(err)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// threadsCPU is the time a process's threads have run on a CPU, to the
// nanosecond, from /proc/PID/task/*/schedstat (the CPU times in
// /proc/PID/stat count whole clock ticks, too coarse for a start). Threads
// that have exited are not counted; a Go program's seldom do.
func threadsCPU(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no threads of process %d in /proc", pid)
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			return 0, err
		}
		ns, err := parseSchedstat(string(b))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t, err)
		}
		sum += ns
	}
	return sum, nil
}

// parseSchedstat reads the first of schedstat's three numbers: nanoseconds
// on a CPU, then waiting for one, then time slices.
func parseSchedstat(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return 0, fmt.Errorf("unexpected schedstat %q", s)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat: %w", err)
	}
	return time.Duration(ns), nil
}

// initTrace is what GODEBUG=inittrace=1 tells of a Go program's start.
type initTrace struct {
	main     time.Duration // the runtime's start to the end of the last package init: main begins
	packages time.Duration // the package init functions' own time, summed
}

// parseInitTrace reads the runtime's "init PKG @T ms, C ms clock, ..." lines
// from a program's stderr, ignoring the rest.
func parseInitTrace(stderr string) (initTrace, error) {
	var tr initTrace
	n := 0
	for line := range strings.Lines(stderr) {
		if !strings.HasPrefix(line, "init ") {
			continue
		}
		var pkg string
		var at, clock float64
		if _, err := fmt.Sscanf(line, "init %s @%f ms, %f ms clock,", &pkg, &at, &clock); err != nil {
			return initTrace{}, fmt.Errorf("inittrace line %q: %w", strings.TrimSpace(line), err)
		}
		ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
		tr.main = max(tr.main, ms(at+clock))
		tr.packages += ms(clock)
		n++
	}
	if n == 0 {
		return initTrace{}, errors.New("no inittrace lines")
	}
	return tr, nil
}

// lambdaInits runs the gateway Lambda n times on its own with
// GODEBUG=inittrace=1 and the bench's environment but no Runtime API, so
// that it wires itself up and exits in lambda.Start, and reads when its
// main began. Separate runs, as printing the trace slows a start a little.
func (e *env) lambdaInits(ctx context.Context, n int) ([]initTrace, error) {
	env := append(e.lambdaEnv(), "GODEBUG=inittrace=1", "PATH="+os.Getenv("PATH"))
	var out []initTrace
	for range n {
		cmd := exec.CommandContext(ctx, e.lambda)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cmd.Run() // it fails without a Runtime API, as meant
		tr, err := parseInitTrace(stderr.String())
		if err != nil {
			return nil, fmt.Errorf("gateway Lambda with GODEBUG=inittrace=1: %w\n%s", err, stderr.String())
		}
		out = append(out, tr)
	}
	return out, nil
}

// lambdaStats are the medians and maxima of each part of the cold starts.
type lambdaStats struct {
	init, handOff, invocation, total, cpu [2]time.Duration // median, max
	toMain, packages                      [2]time.Duration // from the inittrace runs
}

func statsOf(runs []lambdaStart, inits []initTrace) lambdaStats {
	return lambdaStats{
		init:       medianMax(runs, func(r lambdaStart) time.Duration { return r.Init() }),
		handOff:    medianMax(runs, func(r lambdaStart) time.Duration { return r.HandOff() }),
		invocation: medianMax(runs, func(r lambdaStart) time.Duration { return r.Invocation() }),
		total:      medianMax(runs, func(r lambdaStart) time.Duration { return r.Total() }),
		cpu:        medianMax(runs, func(r lambdaStart) time.Duration { return r.cpu }),
		toMain:     medianMax(inits, func(t initTrace) time.Duration { return t.main }),
		packages:   medianMax(inits, func(t initTrace) time.Duration { return t.packages }),
	}
}

// medianMax is the median and the maximum of a figure over runs.
func medianMax[T any](runs []T, f func(T) time.Duration) [2]time.Duration {
	if len(runs) == 0 {
		return [2]time.Duration{}
	}
	d := make([]time.Duration, len(runs))
	for i, r := range runs {
		d[i] = f(r)
	}
	return [2]time.Duration{medianOf(d), slices.Max(d)}
}

// lambdaRows are the summary table's rows for the Lambda's cold start.
func (r *results) lambdaRows() []row {
	if len(r.lambda) == 0 {
		return nil
	}
	s := statsOf(r.lambda, nil)
	n := len(r.lambda)
	return []row{
		{fmt.Sprintf("Gateway Lambda cold start under the local emulator (exec to first answer byte), median of %d", n), dur(s.total[0]), "≤ " + dur(targetLambdaStart), verdict(s.total[0] <= targetLambdaStart), ""},
		{fmt.Sprintf("Gateway Lambda cold start under the local emulator, max of %d", n), dur(s.total[1]), "", "", ""},
	}
}

// renderLambda is the section on the Lambda's cold start.
func renderLambda(r *results) string {
	if len(r.lambda) == 0 {
		return ""
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	s := statsOf(r.lambda, r.lambdaInits)
	p("\n## Gateway Lambda cold start under the local emulator\n\n")
	p("The real gateway Lambda (`functions/gateway`, built as `make build` builds it but for this machine: %s) run by the emulator `go run ./local -lambda` uses (`local/lambdaemu`), with its environment (DynamoDB Local already running and holding the tables, the route table and the key; Redis: %s; streamed responses; the CDK stack's %s MB memory setting). "+
		"Each cold start is a fresh sandbox: one chat completion through the emulator's API Gateway front door starts it.\n\n", r.lambdaBinary, r.redis, thousands(lambdaMemoryMB))
	type part struct {
		name string
		d    [2]time.Duration
	}
	parts := []part{{"Init: exec of the bootstrap to its first `GET /next`", s.init}}
	if len(r.lambdaInits) > 0 {
		parts = append(parts,
			part{fmt.Sprintf("… of which the Go runtime and package init, to main (from %d separate runs with `GODEBUG=inittrace=1`)", len(r.lambdaInits)), s.toMain},
			part{"… of which the package init functions' own time (the same runs)", s.packages})
	}
	parts = append(parts,
		part{"Hand-off: that `/next` to the event handed over in its answer (the emulator)", s.handOff},
		part{"First invocation: the event handed over to the first byte of the response", s.invocation},
		part{"**Cold start: exec to the first byte**", s.total},
		part{"CPU time the bootstrap had used by the end of its first invocation", s.cpu})
	p("| Part | Median | Max |\n|---|---:|---:|\n")
	for _, pt := range parts {
		p("| %s | %s | %s |\n", pt.name, dur(pt.d[0]), dur(pt.d[1]))
	}
	var each []string
	for _, l := range r.lambda {
		each = append(each, dur(l.Total()))
	}
	p("\nEach cold start: %s. Median and max of %d; the medians of the parts need not add up to the median cold start.\n", strings.Join(each, ", "), len(r.lambda))
	p("\nMeasured inside the emulator (its `OnColdStart` hook, on its monotonic clock): from just before it forks and executes the bootstrap to when the first byte of the first invocation's response body (the streamed prelude: status and headers) arrives from the runtime over the Runtime API. "+
		"The bench's request, the event's making and the front door's relay of the answer are outside it. "+
		"Init is the Go runtime and package init (the inittrace runs time it: the bootstrap run on its own, without a Runtime API, so that it exits in `lambda.Start`; their clock starts with the runtime's, just after exec) and the main's wiring up to `lambda.Start`: the DynamoDB client, the route table read from DynamoDB Local (a Query on the SDK client's first connection), the Redis client (made, not dialed). "+
		"The first invocation checks the key (a DynamoDB read: the key cache is empty), routes, sends the request to the mock provider on a new connection and, once it answers, writes the response's head; the usage it then settles comes after the first byte. "+
		"The CPU time (user + system, all threads, from /proc) covers init and the whole first invocation; close to the cold start, it says the start is bound by CPU, not by waiting. "+
		"What AWS adds before exec (placing the sandbox, fetching the code) no local run shows, and a %s MB function there gets about %.2f of a vCPU, which stretches the CPU-bound parts.\n",
		thousands(lambdaMemoryMB), lambdaMemoryMB/1769.0)
	return b.String()
}
