package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/telemetry"
)

// frames collects what top draws and cancels it after n frames.
type frames struct {
	mu     sync.Mutex
	got    []string
	n      int
	cancel context.CancelFunc
}

func (f *frames) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := string(p); strings.HasPrefix(s, "\x1b[H\x1b[2J") {
		f.got = append(f.got, strings.TrimPrefix(s, "\x1b[H\x1b[2J"))
		if len(f.got) == f.n {
			f.cancel()
		}
	}
	return len(p), nil
}

// TestTop: top reads a real /metrics (the telemetry's Prometheus output
// over HTTP) as it changes, draws frames that fit a small terminal, and
// returns cleanly when its context ends, as on Ctrl-C.
func TestTop(t *testing.T) {
	prom := telemetry.NewPrometheus()
	var mu sync.Mutex
	served := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		// Every scrape sees ten more requests on each of six routes, one of
		// them failed, and one client that went away.
		for i := range 6 {
			for j := range 10 {
				status := 200
				if j == 0 {
					status = 502
				}
				prom.Request(r.Context(), &telemetry.Request{Route: fmt.Sprintf("default/route-with-a-long-name-%d", i),
					Backend: "default/openai", Status: status, InputTokens: 10, OutputTokens: 5, Latency: 40 * time.Millisecond})
			}
		}
		prom.Request(r.Context(), &telemetry.Request{Route: "default/route-with-a-long-name-0", Backend: "default/openai", Status: 499})
		served++
		prom.ServeHTTP(w, r)
	}))
	defer srv.Close()

	for _, size := range [][2]int{{40, 6}, {120, 30}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &frames{n: 3, cancel: cancel}
			tp := &top{src: &metricsSource{url: srv.URL + "/metrics", client: srv.Client(), interval: time.Millisecond},
				interval: time.Millisecond, out: out, size: func() (int, int) { return size[0], size[1] }}
			if err := tp.run(ctx); err != nil {
				t.Fatal(err)
			}
			out.mu.Lock()
			defer out.mu.Unlock()
			if len(out.got) < 3 {
				t.Fatalf("%d frames", len(out.got))
			}
			for i, f := range out.got {
				lines := strings.Split(strings.TrimSuffix(f, "\n"), "\n")
				if len(lines) > size[1]-1 {
					t.Errorf("frame %d: %d lines for %d rows:\n%s", i, len(lines), size[1], f)
				}
				for _, l := range lines {
					if utf8.RuneCountInString(l) > size[0] {
						t.Errorf("frame %d: line of %d columns for %d: %q", i, utf8.RuneCountInString(l), size[0], l)
					}
				}
			}
			last := out.got[len(out.got)-1]
			sc := bufio.NewScanner(strings.NewReader(last))
			sc.Scan()
			if !strings.HasPrefix(sc.Text(), "sluice top") {
				t.Errorf("header %q", sc.Text())
			}
			if size[1] == 6 && !strings.Contains(last, "more") {
				t.Errorf("a small terminal should count the rows it cannot show:\n%s", last)
			}
			if size[1] == 30 {
				for i := range 6 {
					if !strings.Contains(last, fmt.Sprintf("route-with-a-long-name-%d → default/openai", i)) {
						t.Errorf("route %d missing:\n%s", i, last)
					}
				}
				if !strings.Contains(last, "50.0ms") {
					t.Errorf("no latency bucket 50.0ms:\n%s", last)
				}
			}
		})
	}
}

// TestRowsRates: rates are the difference of two scrapes over the time
// between them.
func TestRowsRates(t *testing.T) {
	k := [2]string{"r", "b"}
	prev := &snapshot{at: time.Unix(100, 0), series: map[[2]string]*counters{k: {requests: 10, errors: 1, tokens: 100}}}
	cur := &snapshot{at: time.Unix(102, 0), series: map[[2]string]*counters{k: {requests: 30, errors: 5, closed: 2, tokens: 500}}}
	rs := rows(prev, cur)
	if len(rs) != 1 || rs[0].rps != 10 || rs[0].errors != 2 || rs[0].closed != 1 || rs[0].tokensPerSec != 200 {
		t.Errorf("rows %+v", rs)
	}
}
