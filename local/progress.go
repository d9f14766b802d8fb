package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
)

// progress tells whoever waits on `make local` what the process is doing,
// one line on stderr per step begun and ended, and a line now and then
// while a slow step (DynamoDB Local's first start) goes on. Unlike the log,
// it speaks to a person: it says nothing once the process is ready.
type progress struct {
	w io.Writer // nil: say nothing
	// every is how often a step still under way says so; 0: never.
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
}

// newProgress returns a progress writing to w.
func newProgress(w io.Writer) *progress {
	return &progress{w: w, every: 5 * time.Second, now: time.Now}
}

// say prints one line.
func (p *progress) say(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "sluice local: "+format+"\n", args...)
}

// step says what begins, and returns the function that says how it ended,
// with the time it took.
func (p *progress) step(format string, args ...any) (done func(format string, args ...any)) {
	if p == nil || p.w == nil {
		return func(string, ...any) {}
	}
	what := fmt.Sprintf(format, args...)
	p.say("%s…", what)
	start := p.now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if p.every > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(p.every)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					p.say("%s: still at it (%s)", what, p.now().Sub(start).Round(time.Second))
				}
			}
		}()
	}
	var once sync.Once
	return func(format string, args ...any) {
		once.Do(func() {
			close(stop)
			wg.Wait()
			p.say("%s (%s)", fmt.Sprintf(format, args...), p.now().Sub(start).Round(100*time.Millisecond))
		})
	}
}

// appliedSummary says what an apply did, for the progress line:
// "applied 12 objects (3 created, 9 unchanged) as route table version 4".
func appliedSummary(resp admin.ApplyResponse) string {
	counts := map[string]int{}
	for _, r := range resp.Results {
		counts[r.Result]++
	}
	var parts []string
	for _, r := range []string{admin.ResultCreated, admin.ResultConfigured, admin.ResultUnchanged} {
		if counts[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[r], r))
		}
	}
	s := fmt.Sprintf("applied %d objects", len(resp.Applied))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if resp.Unchanged {
		return s + fmt.Sprintf("; route table version %d stays current", resp.Version)
	}
	return s + fmt.Sprintf(" as route table version %d", resp.Version)
}
