package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	"github.com/sluicegw/sluice/shared/telemetry"
)

// top is `sluice top`: a live view of the local process's /metrics,
// redrawn every interval until ctx ends (Ctrl-C). Rates are the
// difference of two scrapes over the time between them. size gives the
// terminal's columns and rows at each frame, so a resized or small
// terminal gets a view that fits: long names are cut, rows that do not
// fit are counted, not drawn.
type top struct {
	url      string // the /metrics URL
	interval time.Duration
	out      io.Writer
	size     func() (cols, rows int)
	client   *http.Client
}

// topRow is one route and backend's figures over the last interval.
type topRow struct {
	route, backend     string
	rps, tokensPerSec  float64
	p50, p99, avg      time.Duration
	errors, closed     float64 // 5xx and 499 per second
	requests, inTokens float64 // totals since start
}

// snapshot is the counters of one scrape, by route and backend.
type snapshot struct {
	at      time.Time
	series  map[[2]string]*counters
	latency map[[2]string]*dto.Histogram
}

type counters struct{ requests, errors, closed, tokens, input float64 }

func (t *top) run(ctx context.Context) error {
	prev, err := t.scrape(ctx)
	if err != nil {
		return err
	}
	t.draw(prev, prev)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(t.out, "\n")
			return nil
		case <-tick.C:
		}
		cur, err := t.scrape(ctx)
		if ctx.Err() != nil {
			fmt.Fprint(t.out, "\n")
			return nil
		}
		if err != nil {
			fmt.Fprintf(t.out, "\x1b[H\x1b[2J%v (retrying)\n", err)
			continue
		}
		t.draw(prev, cur)
		prev = cur
	}
}

func (t *top) scrape(ctx context.Context) (*snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read %s: %s (sluice top reads a local process's /metrics)", t.url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.url, err)
	}
	s := &snapshot{at: time.Now(), series: map[[2]string]*counters{}, latency: map[[2]string]*dto.Histogram{}}
	get := func(m *dto.Metric) (*counters, [2]string) {
		var k [2]string
		for _, l := range m.Label {
			switch l.GetName() {
			case "route":
				k[0] = l.GetValue()
			case "backend":
				k[1] = l.GetValue()
			}
		}
		if s.series[k] == nil {
			s.series[k] = &counters{}
		}
		return s.series[k], k
	}
	for _, m := range fams[telemetry.PromRequests].GetMetric() {
		c, _ := get(m)
		v := m.GetCounter().GetValue()
		c.requests += v
		for _, l := range m.Label {
			if l.GetName() == "status" {
				switch code, _ := strconv.Atoi(l.GetValue()); {
				case code == telemetry.StatusClientClosed:
					c.closed += v
				case code >= 500:
					c.errors += v
				}
			}
		}
	}
	for _, name := range []string{telemetry.PromInputTokens, telemetry.PromOutputTokens} {
		for _, m := range fams[name].GetMetric() {
			c, _ := get(m)
			c.tokens += m.GetCounter().GetValue()
			if name == telemetry.PromInputTokens {
				c.input += m.GetCounter().GetValue()
			}
		}
	}
	for _, m := range fams[telemetry.PromLatency].GetMetric() {
		_, k := get(m)
		s.latency[k] = m.GetHistogram()
	}
	return s, nil
}

// rows are the figures between two snapshots, busiest first.
func rows(prev, cur *snapshot) []topRow {
	secs := cur.at.Sub(prev.at).Seconds()
	var out []topRow
	for k, c := range cur.series {
		p := prev.series[k]
		if p == nil {
			p = &counters{}
		}
		r := topRow{route: k[0], backend: k[1], requests: c.requests, inTokens: c.input}
		if secs > 0 {
			r.rps = (c.requests - p.requests) / secs
			r.tokensPerSec = (c.tokens - p.tokens) / secs
			r.errors = (c.errors - p.errors) / secs
			r.closed = (c.closed - p.closed) / secs
		}
		r.p50, r.p99, r.avg = latencyBetween(prev.latency[k], cur.latency[k])
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b topRow) int {
		if a.rps != b.rps {
			if a.rps > b.rps {
				return -1
			}
			return 1
		}
		return strings.Compare(a.route+a.backend, b.route+b.backend)
	})
	return out
}

// latencyBetween estimates the p50 and p99 of the requests between two
// histograms by the upper bound of the bucket each falls in, and their
// mean; zero when none came.
func latencyBetween(prev, cur *dto.Histogram) (p50, p99, avg time.Duration) {
	if cur == nil {
		return
	}
	n := float64(cur.GetSampleCount())
	sum := cur.GetSampleSum()
	prevCounts := map[float64]float64{}
	if prev != nil {
		n -= float64(prev.GetSampleCount())
		sum -= prev.GetSampleSum()
		for _, b := range prev.Bucket {
			prevCounts[b.GetUpperBound()] = float64(b.GetCumulativeCount())
		}
	}
	if n <= 0 {
		return
	}
	seconds := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	quantile := func(q float64) time.Duration {
		for _, b := range cur.Bucket {
			if float64(b.GetCumulativeCount())-prevCounts[b.GetUpperBound()] >= q*n {
				if math.IsInf(b.GetUpperBound(), 1) {
					break
				}
				return seconds(b.GetUpperBound())
			}
		}
		return seconds(sum / n) // beyond the last bound: the mean is all we know
	}
	return quantile(0.5), quantile(0.99), seconds(sum / n)
}

// draw writes one frame, cut to the terminal's size.
func (t *top) draw(prev, cur *snapshot) {
	cols, lines := t.size()
	cols, lines = max(cols, 20), max(lines, 3)
	rs := rows(prev, cur)
	var total topRow
	for _, r := range rs {
		total.rps += r.rps
		total.tokensPerSec += r.tokensPerSec
		total.errors += r.errors
		total.closed += r.closed
	}
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J") // home, clear
	line := func(s string) {
		if r := []rune(s); len(r) > cols {
			s = string(r[:cols-1]) + "…"
		}
		b.WriteString(s + "\n")
	}
	line(fmt.Sprintf("sluice top  %s  every %s  %.1f req/s  %.0f tok/s  %.1f 5xx/s  %.1f closed/s",
		cur.at.Format("15:04:05"), t.interval, total.rps, total.tokensPerSec, total.errors, total.closed))
	// Figures first, names last: a narrow terminal cuts names, not numbers.
	line(fmt.Sprintf("%8s %9s %8s %8s %8s %6s  %s", "REQ/S", "TOK/S", "P50", "P99", "AVG", "5XX/S", "ROUTE → BACKEND"))
	room := lines - 3 // the two header lines and the one the cursor rests on
	for i, r := range rs {
		if i == room-1 && len(rs) > room {
			line(fmt.Sprintf("… %d more", len(rs)-i))
			break
		}
		if i >= room {
			break
		}
		backend := r.backend
		if backend == "" {
			backend = "-"
		}
		line(fmt.Sprintf("%8.1f %9.0f %8s %8s %8s %6.1f  %s → %s", r.rps, r.tokensPerSec,
			short(r.p50), short(r.p99), short(r.avg), r.errors, orDash(r.route), backend))
	}
	io.WriteString(t.out, b.String())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short writes a latency in at most 8 columns.
func short(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// terminalSize is the size of the terminal on stdout; 80×24 when it is
// not a terminal.
func terminalSize() (cols, rows int) {
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 && ws.Row > 0 {
		return int(ws.Col), int(ws.Row)
	}
	return 80, 24
}

// runTop runs top until Ctrl-C or SIGTERM.
func runTop(ctx context.Context, endpoint string, interval time.Duration, out io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := &top{url: strings.TrimRight(endpoint, "/") + "/metrics", interval: interval, out: out, size: terminalSize,
		client: &http.Client{Timeout: 5 * time.Second}}
	return t.run(ctx)
}
