package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sluicegw/sluice/shared/store"
)

// results are all the figures of one bench run.
type results struct {
	cfg      config
	machine  machine
	redis    string
	latency1 pair // 1 connection, closed loop, whole answer
	// The same with keys that have limits: per-minute windows (one Redis
	// round trip) and a daily token quota (one DynamoDB conditional
	// update to reserve; the settle runs after the answer).
	limitedWindows, limitedBudget pair
	cacheHit                      pair // an exact cache hit, 1 connection: the gateway answers from Redis
	semanticHit                   pair // a semantic cache hit, 1 connection: mock embedding, vector lookup, answer from Redis
	latency                       pair // open loop at cfg.rate, whole answer, from when due
	load                          []loadRun
	ttfb1                         pair // streamed, 1 connection, first body byte
	ttfb                          pair // streamed, ttfbConns connections, first body byte
	ttfbConns                     int
	peakKB                        int64 // the measured gateway's VmHWM after every run
	starts                        []startRun
	initOnly                      []time.Duration // exec to exit of `local -h`: runtime and package init
	dynamoRTT                     summary         // DescribeTable round trips to DynamoDB Local
	translate                     translateRun    // pass-through and translating paths, streamed
	goBench                       []goBench       // go test -bench results
	goBenchSource                 string          // where they came from
	lambda                        []lambdaStart   // the gateway Lambda's cold starts under the emulator
	lambdaBinary                  string          // what was built for them: GOOS/GOARCH, size
	lambdaInits                   []initTrace     // the gateway Lambda's runtime and package init
}

// pair is one scenario run against the mock directly and through the gateway.
type pair struct{ direct, gateway summary }

// summary is the latency distribution of a run and the CPU time spent
// during it.
type summary struct {
	n, errors     int
	p50, p99, max time.Duration
	cpu           usage
}

func summarize(r runResult, pick func(sample) time.Duration) summary {
	d := make([]time.Duration, len(r.samples))
	for i, s := range r.samples {
		d[i] = pick(s)
	}
	slices.Sort(d)
	return summary{n: len(d), errors: r.errors, p50: percentile(d, 0.50), p99: percentile(d, 0.99), max: percentile(d, 1)}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func total(s sample) time.Duration { return s.total }
func first(s sample) time.Duration { return s.first }

// loadRun is a closed-loop throughput run through the gateway, with the
// same run against the mock directly for comparison.
type loadRun struct {
	conns     int
	requests  int
	errors    int
	rps       float64
	directRPS float64
	cpu       usage // over the measured window through the gateway
}

func (l loadRun) perCPUSecond() float64 {
	if l.cpu.gateway <= 0 {
		return 0
	}
	return float64(l.requests) / l.cpu.gateway
}

// usage is the CPU time, in seconds, processes spent over a wall time.
type usage struct {
	gateway, mock, loader float64
	machine               float64 // every process on the machine
	wall                  time.Duration
}

func (u usage) plus(o usage) usage {
	return usage{gateway: u.gateway + o.gateway, mock: u.mock + o.mock, loader: u.loader + o.loader,
		machine: u.machine + o.machine, wall: u.wall + o.wall}
}

// other is the CPU time of the processes that are not the bench's: noise.
func (u usage) other() float64 { return max(0, u.machine-u.gateway-u.mock-u.loader) }

// share is CPU seconds as a percentage of one core over the wall time.
func (u usage) share(cpuSeconds float64) float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * cpuSeconds / u.wall.Seconds()
}

// cpuNow reads the CPU counters of the bench's processes and the machine;
// wall is left zero.
func (e *env) cpuNow() (usage, error) {
	var u usage
	var errs [4]error
	u.gateway, errs[0] = cpuSeconds(strconv.Itoa(e.gw.pid()))
	u.mock, errs[1] = cpuSeconds(strconv.Itoa(e.mock.pid()))
	u.loader, errs[2] = cpuSeconds("self")
	u.machine, errs[3] = machineCPUSeconds()
	if err := errors.Join(errs[:]...); err != nil {
		return u, fmt.Errorf("CPU time: %w", err)
	}
	return u, nil
}

// metered runs f and reports the CPU time spent meanwhile.
func (e *env) metered(f func() runResult) (runResult, usage, error) {
	before, err := e.cpuNow()
	if err != nil {
		return runResult{}, usage{}, err
	}
	start := time.Now()
	r := f()
	wall := time.Since(start)
	after, err := e.cpuNow()
	return r, usage{gateway: after.gateway - before.gateway, mock: after.mock - before.mock, loader: after.loader - before.loader,
		machine: after.machine - before.machine, wall: wall}, err
}

// startRun is one cold start: exec to the first answered chat completion.
type startRun struct {
	ready time.Duration
	rssKB int64 // VmRSS right after the first answer
}

func measure(ctx context.Context, cfg config, e *env) (*results, error) {
	res := &results{cfg: cfg, machine: readMachine(), ttfbConns: 16, redis: "embedded (miniredis in the gateway process)"}
	if e.redis != nil {
		res.redis = "redis-server at " + e.redis.Addr
	}
	direct := endpoint{name: "mock", url: "http://" + e.mockAddr + "/v1/chat/completions"}
	gateway := endpoint{name: "gateway", url: e.gw.url("/v1/chat/completions"), key: e.gw.key}
	var err error
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.only == "starts" {
		return res, e.measureStarts(ctx, res)
	}
	if res.latency1, err = e.closedPair(ctx, direct, gateway, chatBody, 1, total); err != nil {
		return nil, err
	}
	if res.cacheHit, err = e.closedPair(ctx, direct, gateway, cachedBody, 1, total); err != nil {
		return nil, err
	}
	if res.semanticHit, err = e.closedPair(ctx, direct, gateway, semanticBody, 1, total); err != nil {
		return nil, err
	}
	if err := expectHit(ctx, gateway, semanticBody); err != nil {
		return nil, err
	}
	if cfg.only == "cache" {
		return res, nil
	}
	for _, k := range []struct {
		into   *pair
		limits map[string]int64
	}{
		{&res.limitedWindows, map[string]int64{"requestsPerMinute": 1e9, "tokensPerMinute": 1e12}},
		{&res.limitedBudget, map[string]int64{"tokensPerDay": 1e15}},
	} {
		key, err := e.createKey(ctx, k.limits)
		if err != nil {
			return nil, err
		}
		limited := gateway
		limited.key = key
		if *k.into, err = e.closedPair(ctx, direct, limited, chatBody, 1, total); err != nil {
			return nil, err
		}
	}
	if res.latency, err = e.openPair(ctx, direct, gateway, chatBody, cfg.rate); err != nil {
		return nil, err
	}
	for _, conns := range []int{16, 64} {
		l, err := e.loadRun(ctx, direct, gateway, conns)
		if err != nil {
			return nil, err
		}
		res.load = append(res.load, l)
	}
	if res.ttfb1, err = e.closedPair(ctx, direct, gateway, streamBody, 1, first); err != nil {
		return nil, err
	}
	if res.ttfb, err = e.closedPair(ctx, direct, gateway, streamBody, res.ttfbConns, first); err != nil {
		return nil, err
	}
	if res.translate, err = e.translateRun(ctx); err != nil {
		return nil, err
	}
	if res.peakKB, err = memKB(e.gw.pid(), "VmHWM"); err != nil {
		return nil, fmt.Errorf("peak RSS: %w", err)
	}
	if err := e.measureStarts(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// measureStarts times the local process's starts and the gateway Lambda's
// cold starts, with what explains them. The running gateway stops first.
func (e *env) measureStarts(ctx context.Context, res *results) error {
	n := e.cfg.starts
	e.gw.stop()
	var err error
	if res.starts, err = e.coldStarts(ctx, n); err != nil {
		return err
	}
	if res.initOnly, err = e.initOnly(ctx, n); err != nil {
		return err
	}
	if res.dynamoRTT, err = e.dynamoRoundTrips(ctx, 20); err != nil {
		return err
	}
	if fi, err := os.Stat(e.lambda); err == nil {
		res.lambdaBinary = fmt.Sprintf("%s/%s, %s", runtime.GOOS, runtime.GOARCH, mib(fi.Size()>>10))
	}
	if res.lambda, err = e.lambdaStarts(ctx, n); err != nil {
		return err
	}
	if res.lambdaInits, err = e.lambdaInits(ctx, n); err != nil {
		return err
	}
	return nil
}

// createKey makes an API key with limits through the gateway's admin API.
func (e *env) createKey(ctx context.Context, limits map[string]int64) (string, error) {
	token, err := os.ReadFile(filepath.Join(e.dataDir, "admin-token"))
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]any{"name": "bench-limited", "limits": limits})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.gw.url("/admin/v1/keys"), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("create a limited key: %w", err)
	}
	defer resp.Body.Close()
	var out struct{ Key string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create a limited key: status %d: %v", resp.StatusCode, err)
	}
	return out.Key, nil
}

// loop is one kind of run: send requests to ep over c for d.
type loop func(c *http.Client, ep endpoint, d time.Duration) runResult

// closedPair runs the same closed loop against the mock and the gateway.
func (e *env) closedPair(ctx context.Context, direct, gateway endpoint, body []byte, conns int, pick func(sample) time.Duration) (pair, error) {
	what := fmt.Sprintf("%d connection(s), %s", conns, kind(body))
	return e.pairRun(ctx, what, direct, gateway, conns, pick, func(c *http.Client, ep endpoint, d time.Duration) runResult {
		return closedLoop(ctx, c, ep, body, conns, d)
	})
}

// openPair runs the open loop at rate against the mock and the gateway.
func (e *env) openPair(ctx context.Context, direct, gateway endpoint, body []byte, rate float64) (pair, error) {
	what := fmt.Sprintf("open loop at %.0f requests/s, %s", rate, kind(body))
	return e.pairRun(ctx, what, direct, gateway, 64, total, func(c *http.Client, ep endpoint, d time.Duration) runResult {
		return openLoop(ctx, c, ep, body, rate, d)
	})
}

// pairRun runs a loop against the mock and the gateway (see turns).
func (e *env) pairRun(ctx context.Context, what string, direct, gateway endpoint, conns int, pick func(sample) time.Duration, run loop) (pair, error) {
	results, cpu, err := e.turns(ctx, what, []endpoint{direct, gateway}, conns, run)
	if err != nil {
		return pair{}, err
	}
	var out [2]summary
	for i := range out {
		out[i] = summarize(results[i], pick)
		out[i].cpu = cpu[i]
	}
	return pair{direct: out[0], gateway: out[1]}, nil
}

// turns runs a loop against each endpoint: a warm-up on each, then the
// measured time in rounds in which they take turns, so that whatever else
// the machine does weighs on all alike. It fails when a run has too many
// errors.
func (e *env) turns(ctx context.Context, what string, eps []endpoint, conns int, run loop) ([]runResult, []usage, error) {
	names := make([]string, len(eps))
	for i, ep := range eps {
		names[i] = ep.name
	}
	progress("%s, %s", strings.Join(names, " / "), what)
	clients := make([]*http.Client, len(eps))
	for i, ep := range eps {
		clients[i] = newClient(conns)
		defer clients[i].CloseIdleConnections()
		run(clients[i], ep, e.cfg.warmup)
	}
	rounds := max(e.cfg.rounds, 1)
	results := make([]runResult, len(eps))
	cpu := make([]usage, len(eps))
	for range rounds {
		for i, ep := range eps {
			r, u, err := e.metered(func() runResult { return run(clients[i], ep, e.cfg.duration/time.Duration(rounds)) })
			if err != nil {
				return nil, nil, err
			}
			results[i].add(r)
			cpu[i] = cpu[i].plus(u)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for i, ep := range eps {
		if err := results[i].check(ep.name + ", " + what); err != nil {
			return nil, nil, err
		}
	}
	return results, cpu, nil
}

// loadRun measures throughput at conns connections and the CPU time the
// gateway, the mock and the load generator spent on it.
func (e *env) loadRun(ctx context.Context, direct, gateway endpoint, conns int) (loadRun, error) {
	l := loadRun{conns: conns}
	progress("%s, %d connections, throughput", direct.name, conns)
	c := newClient(conns)
	closedLoop(ctx, c, direct, chatBody, conns, e.cfg.warmup)
	r := closedLoop(ctx, c, direct, chatBody, conns, e.cfg.duration)
	c.CloseIdleConnections()
	if err := r.check("mock throughput"); err != nil {
		return l, err
	}
	l.directRPS = float64(len(r.samples)) / r.elapsed.Seconds()

	progress("%s, %d connections, throughput", gateway.name, conns)
	c = newClient(conns)
	closedLoop(ctx, c, gateway, chatBody, conns, e.cfg.warmup)
	r, cpu, err := e.metered(func() runResult { return closedLoop(ctx, c, gateway, chatBody, conns, e.cfg.duration) })
	c.CloseIdleConnections()
	if err == nil {
		err = r.check("gateway throughput")
	}
	if err != nil {
		return l, err
	}
	l.requests, l.errors, l.cpu = len(r.samples), r.errors, cpu
	l.rps = float64(l.requests) / r.elapsed.Seconds()
	return l, ctx.Err()
}

// coldStarts starts the gateway n times with no manifests, as a Lambda
// cold start loads the stored route table, and times exec to the first
// answered chat completion.
func (e *env) coldStarts(ctx context.Context, n int) ([]startRun, error) {
	progress("%d cold starts", n)
	key := e.gw.key
	var runs []startRun
	for range n {
		g, err := e.startGateway(ctx, "", key, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
		rss, err := memKB(g.pid(), "VmRSS")
		g.stop()
		if err != nil {
			return nil, err
		}
		runs = append(runs, startRun{ready: g.ready.Sub(g.started), rssKB: rss})
	}
	return runs, nil
}

func kind(body []byte) string {
	switch string(body) {
	case string(streamBody), string(claudeStreamBody), string(anthropicStreamBody):
		return "streamed"
	}
	return "plain"
}

// initOnly times exec to exit of `local -h`, which parses its flags and
// exits: the part of a start spent in the Go runtime and package init.
func (e *env) initOnly(ctx context.Context, n int) ([]time.Duration, error) {
	var out []time.Duration
	for range n {
		cmd := exec.CommandContext(ctx, e.local, "-h")
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s -h: %w", e.local, err)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// dynamoRoundTrips times DescribeTable calls to DynamoDB Local, the kind of
// call the local process makes several of as it starts.
func (e *env) dynamoRoundTrips(ctx context.Context, n int) (summary, error) {
	var r runResult
	for range n {
		start := time.Now()
		_, err := e.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(store.DefaultRoutesTable)})
		if err != nil {
			return summary{}, fmt.Errorf("DynamoDB Local: %w", err)
		}
		r.samples = append(r.samples, sample{total: time.Since(start)})
	}
	return summarize(r, total), nil
}

// expectHit checks that body, sent to the gateway once more, is answered
// from the cache: a run of misses would time the provider, not the cache.
func expectHit(ctx context.Context, gateway endpoint, body []byte) error {
	req, err := newRequest(ctx, gateway.url, gateway.key, body)
	if err != nil {
		return err
	}
	c := newClient(1)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if got := resp.Header.Get("X-Sluice-Cache"); got != "hit" {
		return fmt.Errorf("the cached run was not answered from the cache: x-sluice-cache %q, status %d", got, resp.StatusCode)
	}
	return nil
}
