package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
)

// clockAt is a clock that moves only when told.
type clockAt struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockAt) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clockAt) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestProgressSteps(t *testing.T) {
	var out bytes.Buffer
	c := &clockAt{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	p := &progress{w: &out, now: c.now}
	done := p.step("starting %s", "DynamoDB Local")
	c.add(2345 * time.Millisecond)
	done("DynamoDB Local is up at %s", "http://127.0.0.1:1")
	done("said twice")
	want := "sluice local: starting DynamoDB Local…\nsluice local: DynamoDB Local is up at http://127.0.0.1:1 (2.3s)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	// Without a writer, nothing is said and nothing breaks.
	var quiet *progress
	quiet.step("x")("y")
	(&progress{}).step("x")("y")
}

// syncBuffer is a buffer a heartbeat may write to while the test reads.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	lines chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.lines <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A slow step says, now and then, that it is still at it.
func TestProgressHeartbeat(t *testing.T) {
	out := &syncBuffer{lines: make(chan struct{}, 1)}
	c := &clockAt{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	p := &progress{w: out, now: c.now, every: time.Millisecond}
	done := p.step("starting DynamoDB Local")
	<-out.lines // the step's first line
	c.add(5 * time.Second)
	for !strings.Contains(out.String(), "still at it (5s)") {
		<-out.lines
	}
	done("up")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.Contains(out.String(), "sluice local: starting DynamoDB Local: still at it (5s)\n") ||
		lines[len(lines)-1] != "sluice local: up (5s)" {
		t.Errorf("progress:\n%s", out.String())
	}
}

func TestAppliedSummary(t *testing.T) {
	res := func(rs ...string) (out []admin.ObjectResult) {
		for _, r := range rs {
			out = append(out, admin.ObjectResult{Object: "x", Result: r})
		}
		return out
	}
	tests := []struct {
		name string
		resp admin.ApplyResponse
		want string
	}{
		{"first start", admin.ApplyResponse{Version: 1, Applied: []string{"a", "b"}, Results: res("created", "created")},
			"applied 2 objects (2 created) as route table version 1"},
		{"a changed manifest", admin.ApplyResponse{Version: 4, Applied: []string{"a", "b", "c"}, Results: res("unchanged", "configured", "created")},
			"applied 3 objects (1 created, 1 configured, 1 unchanged) as route table version 4"},
		{"a restart", admin.ApplyResponse{Version: 4, Unchanged: true, Applied: []string{"a"}, Results: res("unchanged")},
			"applied 1 objects (1 unchanged); route table version 4 stays current"},
	}
	for _, tt := range tests {
		if got := appliedSummary(tt.resp); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
