package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
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

// top is `sluice top`: a live view of what the gateway does, redrawn
// every interval until ctx ends (Ctrl-C). Its source is the local
// process's /metrics or, for a deployed stack, the admin API's live
// figures from CloudWatch. size gives the terminal's columns and rows at
// each frame, so a resized or small terminal gets a view that fits: long
// names are cut, rows that do not fit are counted, not drawn.
type top struct {
	src      source
	interval time.Duration
	out      io.Writer
	size     func() (cols, rows int)
}

// source reads the figures of one frame.
type source interface {
	frame(ctx context.Context) (*frame, error)
}

// frame is what one redraw shows.
type frame struct {
	at    time.Time
	note  string // what the figures are, for the header
	rows  []topRow
	total topRow
	// The last two columns' headings: what counts as an error, and what
	// the rows are per.
	errHead, nameHead string
}

// topRow is one route and backend's figures over the last interval.
type topRow struct {
	name               string // what the row is per, as drawn
	route, backend     string
	rps, tokensPerSec  float64
	p50, p99, avg      time.Duration
	errors, closed     float64 // errors (5xx, or failed attempts) and 499 per second
	requests, inTokens float64 // totals since start
}

// metricsSource reads a local process's Prometheus /metrics. Rates are
// the difference of two scrapes over the time between them.
type metricsSource struct {
	url      string
	client   *http.Client
	interval time.Duration
	prev     *snapshot
}

func (m *metricsSource) frame(ctx context.Context) (*frame, error) {
	cur, err := m.scrape(ctx)
	if err != nil {
		return nil, err
	}
	prev := m.prev
	if prev == nil {
		prev = cur
	}
	m.prev = cur
	f := &frame{at: cur.at, note: "every " + m.interval.String(), rows: rows(prev, cur), errHead: "5XX/S", nameHead: routeBackendHead}
	for _, r := range f.rows {
		f.total.rps += r.rps
		f.total.tokensPerSec += r.tokensPerSec
		f.total.errors += r.errors
		f.total.closed += r.closed
	}
	return f, nil
}

// snapshot is the counters of one scrape, by route and backend.
type snapshot struct {
	at      time.Time
	series  map[[2]string]*counters
	latency map[[2]string]*dto.Histogram
}

type counters struct{ requests, errors, closed, tokens, input float64 }

func (t *top) run(ctx context.Context) error {
	f, err := t.src.frame(ctx)
	if err != nil {
		return err
	}
	t.draw(f)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprint(t.out, "\n")
			return nil
		case <-tick.C:
		}
		f, err := t.src.frame(ctx)
		if ctx.Err() != nil {
			fmt.Fprint(t.out, "\n")
			return nil
		}
		if err != nil {
			fmt.Fprintf(t.out, "\x1b[H\x1b[2J%v (retrying)\n", err)
			continue
		}
		t.draw(f)
	}
}

func (m *metricsSource) scrape(ctx context.Context) (*snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read %s: %s (a local process serves /metrics; for a deployed admin API use --source live)", m.url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.url, err)
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
		r := topRow{name: routeBackend(k[0], k[1]), route: k[0], backend: k[1], requests: c.requests, inTokens: c.input}
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
func (t *top) draw(f *frame) {
	cols, lines := t.size()
	cols, lines = max(cols, 20), max(lines, 3)
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J") // home, clear
	line := func(s string) {
		if r := []rune(s); len(r) > cols {
			s = string(r[:cols-1]) + "…"
		}
		b.WriteString(s + "\n")
	}
	line(fmt.Sprintf("sluice top  %s  %s  %.1f req/s  %.0f tok/s  %.1f %s  %.1f closed/s",
		f.at.Format("15:04:05"), f.note, f.total.rps, f.total.tokensPerSec, f.total.errors, strings.ToLower(f.errHead), f.total.closed))
	// Figures first, names last: a narrow terminal cuts names, not numbers.
	line(fmt.Sprintf("%8s %9s %8s %8s %8s %6s  %s", "REQ/S", "TOK/S", "P50", "P99", "AVG", f.errHead, f.nameHead))
	room := lines - 3 // the two header lines and the one the cursor rests on
	for i, r := range f.rows {
		if i == room-1 && len(f.rows) > room {
			line(fmt.Sprintf("… %d more", len(f.rows)-i))
			break
		}
		if i >= room {
			break
		}
		line(fmt.Sprintf("%8.1f %9.0f %8s %8s %8s %6.1f  %s", r.rps, r.tokensPerSec,
			short(r.p50), short(r.p99), short(r.avg), r.errors, r.name))
	}
	io.WriteString(t.out, b.String())
}

// routeBackend names a row as both sources draw it; routeBackendHead
// heads that column.
func routeBackend(route, backend string) string { return orDash(route) + " → " + orDash(backend) }

const routeBackendHead = "ROUTE → BACKEND"

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

// topOptions are `sluice top`'s flags.
type topOptions struct {
	source   string        // metrics, live, or empty: by the endpoint
	interval time.Duration // 0: by the source
	window   time.Duration // the live figures' window
}

// runTop runs top until Ctrl-C or SIGTERM. A loopback endpoint is a
// local process, read at /metrics; any other is a deployed admin API,
// read at /admin/v1/live.
func runTop(ctx context.Context, c *client, o topOptions, out io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	t, err := newTop(c, o, out)
	if err != nil {
		return err
	}
	return t.run(ctx)
}

func newTop(c *client, o topOptions, out io.Writer) (*top, error) {
	if o.source == "" {
		o.source = "live"
		if u, err := url.Parse(c.endpoint); err == nil && isLoopback(u) {
			o.source = "metrics"
		}
	}
	t := &top{out: out, size: terminalSize, interval: o.interval}
	switch o.source {
	case "metrics":
		if t.interval == 0 {
			t.interval = 2 * time.Second
		}
		hc := c.http
		if hc == nil {
			hc = &http.Client{Timeout: 5 * time.Second}
		}
		t.src = &metricsSource{url: strings.TrimRight(c.endpoint, "/") + "/metrics", client: hc, interval: t.interval}
	case "live":
		if t.interval == 0 {
			t.interval = 30 * time.Second
		}
		t.src = &liveSource{c: c, window: o.window, interval: t.interval}
	default:
		return nil, usagef("--source %q: want metrics or live", o.source)
	}
	return t, nil
}
