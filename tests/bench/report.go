package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// machine describes where the bench ran.
type machine struct {
	cpu, memory, kernel, goVersion, commit, date string
	loadavg                                      string // when the runs began
	cores                                        int
}

func readMachine() machine {
	m := machine{cpu: "unknown", memory: "unknown", kernel: "unknown", cores: runtime.NumCPU(),
		goVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		date:      time.Now().UTC().Format("2006-01-02 15:04 MST")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.cpu = cpuModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64); err == nil {
					m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.loadavg = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m.commit = strings.TrimSpace(string(out))
	}
	return m
}

// cpuModel reads the processor's name from /proc/cpuinfo (x86 "model
// name", some Arm kernels "Hardware" or "Processor").
func cpuModel(cpuinfo string) string {
	for _, key := range []string{"model name", "Hardware", "Processor", "cpu model"} {
		for line := range strings.Lines(cpuinfo) {
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.TrimSpace(k) == key {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown"
}

// Targets from the handbook, and the best Go peer measured on such a machine.
const (
	targetAddedP50 = 80 * time.Microsecond
	// targetCacheHitP50 is issue 15's bound on an exact hit, end to end on loopback.
	targetCacheHitP50 = 500 * time.Microsecond
	targetPerCPU      = 15000.0
	targetTTFBOver    = 500 * time.Microsecond
	targetPeakMiB     = 40.0
	targetStart       = 20 * time.Millisecond
	peerAddedLatency  = "0.31 ms"
	peerPerCPU        = "6,000"
	peerRSS           = "113 MB"
	peerStart         = "80 ms"
)

// noisyShare is how much of a core other processes may use during a run,
// in percent, before the report calls the machine noisy.
const noisyShare = 25.0

// noisiest is the largest share of a core that other processes used
// during any measured run.
func (r *results) noisiest() float64 {
	var most float64
	for _, p := range []pair{r.latency1, r.limitedWindows, r.limitedBudget, r.cacheHit, r.semanticHit, r.latency, r.ttfb1, r.ttfb} {
		for _, u := range []usage{p.direct.cpu, p.gateway.cpu} {
			most = max(most, u.share(u.other()))
		}
	}
	for _, l := range r.load {
		most = max(most, l.cpu.share(l.cpu.other()))
	}
	most = max(most, r.translate.cpu.share(r.translate.cpu.other()))
	return most
}

// row is one line of the summary table.
type row struct{ metric, measured, target, verdict, peer string }

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (r *results) rows() []row {
	added := func(p pair, pick func(summary) time.Duration) time.Duration {
		return pick(p.gateway) - pick(p.direct)
	}
	p50 := func(s summary) time.Duration { return s.p50 }
	p99 := func(s summary) time.Duration { return s.p99 }
	rate := fmt.Sprintf("%.0f req/s", r.cfg.rate)
	rows := []row{
		{"Added latency p50, 1 connection", dur(added(r.latency1, p50)), "≤ " + dur(targetAddedP50), verdict(added(r.latency1, p50) <= targetAddedP50), peerAddedLatency},
		{"Added latency p99, 1 connection", dur(added(r.latency1, p99)), "", "", ""},
		{"Added latency p50, 1 connection, key with per-minute limits (Redis windows)", dur(added(r.limitedWindows, p50)), "", "", ""},
		{"Added latency p50, 1 connection, key with a daily token quota (DynamoDB reservation)", dur(added(r.limitedBudget, p50)), "", "", ""},
		r.cacheRow(),
		r.semanticRow(),
		{"Added latency p50, open loop at " + rate, dur(added(r.latency, p50)), "", "", ""},
		{"Added latency p99, open loop at " + rate, dur(added(r.latency, p99)), "", "", ""},
	}
	for _, l := range r.load {
		rows = append(rows, row{fmt.Sprintf("Requests/s through the gateway, %d connections", l.conns), thousands(l.rps), "", "", ""})
	}
	for _, l := range r.load {
		rw := row{metric: fmt.Sprintf("Requests per gateway CPU-second, %d connections", l.conns), measured: thousands(l.perCPUSecond())}
		if l.conns == 64 {
			rw.target, rw.verdict, rw.peer = "≥ "+thousands(targetPerCPU), verdict(l.perCPUSecond() >= targetPerCPU), peerPerCPU
		}
		rows = append(rows, rw)
	}
	ttfb50, ttfb99 := added(r.ttfb, p50), added(r.ttfb, p99)
	rows = append(rows,
		row{"Streaming time to first byte over direct, p50, 1 connection", dur(added(r.ttfb1, p50)), "", "", ""},
		row{fmt.Sprintf("Streaming time to first byte over direct, p50, %d connections", r.ttfbConns), dur(ttfb50), "≤ " + dur(targetTTFBOver), verdict(ttfb50 <= targetTTFBOver), ""},
		row{fmt.Sprintf("Streaming time to first byte over direct, p99, %d connections", r.ttfbConns), dur(ttfb99), "", "", ""},
	)
	if cost, _, ok := translationCost(r.goBench); ok && r.translate.first[gatewayTranslate].n > 0 {
		c := r.translate.checks(cost)[1] // last byte, p50
		rows = append(rows, row{"Translating path (OpenAI in, Anthropic out, streamed): added time to last byte, p50, 1 connection",
			dur(c.translate), "≤ pass-through + translation cost + tolerance: " + dur(c.bound), verdict(c.met()), ""})
	}
	rows = append(rows,
		row{"Peak RSS of the gateway process (VmHWM)", mib(r.peakKB), fmt.Sprintf("≤ %.0f MiB", targetPeakMiB), verdict(float64(r.peakKB)/1024 <= targetPeakMiB), peerRSS},
	)
	return append(rows, r.startRows()...)
}

// startRows are the rows of the local process's start and, beside it, the
// gateway Lambda's cold start.
func (r *results) startRows() []row {
	var rows []row
	if len(r.starts) > 0 {
		med, worst := r.startStats()
		rows = append(rows,
			row{fmt.Sprintf("Process start to first answered request, median of %d", len(r.starts)), dur(med), "≤ " + dur(targetStart), verdict(med <= targetStart), peerStart},
			row{fmt.Sprintf("Process start to first answered request, max of %d", len(r.starts)), dur(worst), "", "", ""},
		)
	}
	return append(rows, r.lambdaRows()...)
}

func (r *results) startStats() (median, worst time.Duration) {
	d := make([]time.Duration, len(r.starts))
	for i, s := range r.starts {
		d[i] = s.ready
	}
	return medianOf(d), slices.Max(d)
}

// medianOf is the median of durations, the mean of the middle two for an
// even count.
func medianOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Sorted(slices.Values(d))
	n := len(d)
	if n%2 == 0 {
		return (d[n/2-1] + d[n/2]) / 2
	}
	return d[n/2]
}

// render is the whole report in markdown; for a partial run (-only), the
// part measured.
func render(r *results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Sluice benchmarks\n\n")
	if r.cfg.only == "cache" {
		p("A partial run (`-only cache`), to check a measurement, not to publish.\n\n")
		added := r.latency1.gateway.p50 - r.latency1.direct.p50
		b.WriteString(renderTable([]row{
			{"Added latency p50, 1 connection (no cache)", dur(added), "≤ " + dur(targetAddedP50), verdict(added <= targetAddedP50), peerAddedLatency},
			r.cacheRow(),
			r.semanticRow(),
		}))
		p("\n| Run | Mock p50 | Gateway p50 | Gateway p99 |\n|---|---:|---:|---:|\n")
		p("| Chat completion, 1 connection | %s | %s | %s |\n", dur(r.latency1.direct.p50), dur(r.latency1.gateway.p50), dur(r.latency1.gateway.p99))
		p("| Exact cache hit, 1 connection | %s | %s | %s |\n", dur(r.cacheHit.direct.p50), dur(r.cacheHit.gateway.p50), dur(r.cacheHit.gateway.p99))
		p("| Semantic cache hit, 1 connection | %s | %s | %s |\n", dur(r.semanticHit.direct.p50), dur(r.semanticHit.gateway.p50), dur(r.semanticHit.gateway.p99))
		return b.String()
	}
	if r.cfg.only != "" {
		p("A partial run (`-only %s`), to check a measurement, not to publish.\n\n", r.cfg.only)
		b.WriteString(renderTable(r.startRows()))
		b.WriteString(renderStarts(r))
		b.WriteString(renderLambda(r))
		return b.String()
	}
	p("The local gateway process (`go run ./local`) against a mock OpenAI provider with no delays (and, for the translating path, a mock Anthropic one), on loopback.\n")
	p("Written by `go run ./tests/bench` (`make bench`); targets from the handbook. Best Go peer: the best Go gateway measured on such a machine.\n\n")
	b.WriteString(renderTable(r.rows()))
	p("\nAdded latency is the gateway's percentile minus the mock's at the same percentile, for the same request. The streaming target is judged at p50.\n")
	if busy := r.noisiest(); busy > noisyShare {
		p("\n**Noisy machine:** processes other than the bench's used up to %.0f%% of a core during a run (Others' CPU below); rerun on a quiet machine for firm figures.\n", busy)
	}

	p("\n## Latency, raw\n\n| Run | Requests | Mock p50 | Mock p99 | Gateway p50 | Gateway p99 | Gateway max | Gateway CPU | Others' CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range []struct {
		name string
		p    pair
	}{
		{"Chat completion, 1 connection (closed loop)", r.latency1},
		{"Same, key with per-minute limits (Redis windows)", r.limitedWindows},
		{"Same, key with a daily token quota (DynamoDB reservation)", r.limitedBudget},
		{"Exact cache hit, 1 connection (the mock column: the same request sent to the mock)", r.cacheHit},
		{"Semantic cache hit, 1 connection (the mock column: the same request sent to the mock)", r.semanticHit},
		{fmt.Sprintf("Chat completion, open loop at %.0f req/s, from when due", r.cfg.rate), r.latency},
		{"Streamed, time to first byte, 1 connection", r.ttfb1},
		{fmt.Sprintf("Streamed, time to first byte, %d connections", r.ttfbConns), r.ttfb},
	} {
		u, du := l.p.gateway.cpu, l.p.direct.cpu
		p("| %s | %d / %d | %s | %s | %s | %s | %s | %.0f%% | %.0f%% / %.0f%% |\n", l.name, l.p.direct.n, l.p.gateway.n,
			dur(l.p.direct.p50), dur(l.p.direct.p99), dur(l.p.gateway.p50), dur(l.p.gateway.p99), dur(l.p.gateway.max),
			u.share(u.gateway), du.share(du.other()), u.share(u.other()))
	}
	p("\nRequests: mock / gateway. Others' CPU: what processes other than the bench's (and kernel work charged to none, such as ksoftirqd) used during the mock run / the gateway run, in %% of one core; much of it means the figures are noisy.\n")

	p("\n## Throughput and CPU\n\n| Connections | Gateway req/s | Mock direct req/s | Gateway CPU | Mock CPU | Load generator CPU | Others' CPU | Req per gateway CPU-s | Errors |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range r.load {
		u := l.cpu
		p("| %d | %s | %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %s | %d |\n", l.conns, thousands(l.rps), thousands(l.directRPS),
			u.share(u.gateway), u.share(u.mock), u.share(u.loader), u.share(u.other()), thousands(l.perCPUSecond()), l.errors)
	}
	p("\nCPU columns are user + system time over the gateway's measured window (/proc/PID/stat, /proc/stat for the machine), in %% of one core; all share the machine's %d cores.\n", r.machine.cores)

	b.WriteString(renderTranslate(r))
	b.WriteString(renderTelemetry(r.goBench))
	b.WriteString(renderStarts(r))
	b.WriteString(renderLambda(r))
	b.WriteString(renderGoBench(r.goBench, r.goBenchSource))

	m := r.machine
	p("\n## Machine\n\n")
	p("- CPU: %s, %d cores\n- Memory: %s\n- Kernel: %s\n- Go: %s\n- Commit: %s\n- Date: %s\n- Load average when the runs began: %s\n",
		m.cpu, m.cores, m.memory, m.kernel, m.goVersion, dash(m.commit), m.date, dash(m.loadavg))

	p("\n## How it was run\n\n")
	p("- Processes: the gateway (`local` built with `go build`, `-dynamodb` pointed at a shared DynamoDB Local in memory, Redis: %s), the mock provider (this program re-executed with `-serve-mock`), and the load generator (this program), all on loopback.\n", r.redis)
	p("- Gateway log level: `SLUICE_LOG_LEVEL=%s`.\n", r.cfg.logLevel)
	p("- Keys: the local process's own key (no limits: admission does no I/O; usage is settled to DynamoDB in the background after each answer), and two made for the limited runs through the admin API.\n")
	p("- Request: a small non-streamed chat completion (%d bytes) for model `mock-gpt`; streaming runs add `\"stream\": true`. The translating path sends the same streamed request for model `mock-claude`, which the gateway routes to the Anthropic mock (the mock process serves OpenAI at `/v1` and Anthropic at `/anthropic/v1`).\n", len(chatBody))
	p("- Load generator: Go `net/http`, HTTP/1.1 keep-alive, one goroutine per connection in closed loops; the open loop paces requests with nanosleep on a locked thread and times each from when it was due (no coordinated omission), so the pacer's own wake-up delay is in both the mock and gateway figures.\n")
	p("- Each run: %s warm-up on the same connections, then %s measured; in the mock-versus-gateway comparisons the two take turns in %d rounds, so load from elsewhere weighs on both alike.\n", r.cfg.warmup, r.cfg.duration, max(r.cfg.rounds, 1))
	p("- Peak RSS: VmHWM of the measured gateway process after all load runs.\n")
	p("- Start: exec of the local binary with `-manifests \"\"` (loads the stored route table, as a cold start does) to the first 200 answer to a chat completion, polled every 200 µs; it includes the local process's own start work (table check, Redis ping, API key check).\n")
	return b.String()
}

// cacheRow is the summary row of an exact cache hit: the whole request
// through the gateway, answered from Redis without reaching the provider.
func (r *results) cacheRow() row {
	p50 := r.cacheHit.gateway.p50
	return row{"Exact cache hit p50, end to end, 1 connection (Redis round trip included)", dur(p50),
		"≤ " + dur(targetCacheHitP50), verdict(p50 <= targetCacheHitP50), ""}
}

// semanticRow is the summary row of a semantic cache hit: the question
// embedded by the mock provider, its neighbour found in the LSH index,
// the answer read from Redis. The issue sets no bound on it.
func (r *results) semanticRow() row {
	return row{"Semantic cache hit p50, end to end, 1 connection (mock embedding, LSH lookup, Redis)",
		dur(r.semanticHit.gateway.p50), "", "", ""}
}

// renderTable is the summary table.
func renderTable(rows []row) string {
	var b strings.Builder
	b.WriteString("| Metric | Measured | Target | Verdict | Best Go peer |\n|---|---:|---:|:---:|---:|\n")
	for _, rw := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", rw.metric, rw.measured, dash(rw.target), dash(rw.verdict), dash(rw.peer))
	}
	return b.String()
}

// renderStarts is the section on the local process's start.
func renderStarts(r *results) string {
	if len(r.starts) == 0 {
		return ""
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## Start to first answered request\n\n")
	var ds, rss []string
	for _, s := range r.starts {
		ds = append(ds, dur(s.ready))
		rss = append(rss, mib(s.rssKB))
	}
	p("Each: %s.  \nRSS right after the first answer: %s.\n", strings.Join(ds, ", "), strings.Join(rss, ", "))
	if len(r.initOnly) > 0 {
		p("\nWhere the time goes: exec to exit of `local -h` (Go runtime and package init, no I/O) takes %s (median of %d); "+
			"a DynamoDB Local round trip (DescribeTable) takes %s at p50 and %s at worst (%d calls). A restart reads the saved API key and "+
			"the route table at once (two round trips side by side, the SDK client's first, on cold code), and makes the tables only when "+
			"those reads find none; then the first request checks the key again and dials the provider.\n",
			dur(medianOf(r.initOnly)), len(r.initOnly), dur(r.dynamoRTT.p50), dur(r.dynamoRTT.max), r.dynamoRTT.n)
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// dur prints a duration in µs below a millisecond, else in ms to at most
// two decimals.
func dur(d time.Duration) string {
	if d > -time.Millisecond && d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	ms := strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
	return strings.TrimSuffix(strings.TrimRight(ms, "0"), ".") + " ms"
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// thousands prints a whole number with comma separators.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
