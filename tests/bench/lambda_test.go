package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/local/lambdaemu"
)

// coldStart is a cold start whose parts take the given milliseconds.
func coldStart(init, handOff, invocation, cpu float64) lambdaStart {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	exec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	next := exec.Add(ms(init))
	invoked := next.Add(ms(handOff))
	return lambdaStart{
		ColdStart: lambdaemu.ColdStart{Sandbox: 1, Pid: 42, Exec: exec, Next: next, Invoked: invoked, FirstByte: invoked.Add(ms(invocation))},
		cpu:       ms(cpu),
	}
}

func TestLambdaRows(t *testing.T) {
	tests := []struct {
		name                 string
		runs                 []lambdaStart
		median, max, verdict string
	}{
		{"none", nil, "", "", ""},
		{"under the target", []lambdaStart{coldStart(10, 0.01, 4, 9), coldStart(12, 0.02, 6, 11), coldStart(9, 0.01, 3, 8)},
			"14.01 ms", "18.02 ms", "PASS"},
		{"median over the target", []lambdaStart{coldStart(40, 0, 12, 30), coldStart(45, 0, 10, 30), coldStart(10, 0, 4, 9), coldStart(41, 0, 10, 30)},
			"51.5 ms", "55 ms", "MISS"},
		{"only the max over", []lambdaStart{coldStart(10, 0, 4, 9), coldStart(90, 0, 10, 30), coldStart(11, 0, 4, 9)},
			"15 ms", "100 ms", "PASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &results{lambda: tt.runs}
			rows := r.lambdaRows()
			if tt.median == "" {
				if len(rows) != 0 || renderLambda(r) != "" {
					t.Fatalf("no cold starts, yet rows %v", rows)
				}
				return
			}
			if len(rows) != 2 {
				t.Fatalf("%d rows, want 2", len(rows))
			}
			if got := rows[0]; got.measured != tt.median || got.target != "≤ 50 ms" || got.verdict != tt.verdict || !strings.Contains(got.metric, "median of") {
				t.Errorf("median row %+v, want %s %s", got, tt.median, tt.verdict)
			}
			if got := rows[1]; got.measured != tt.max || got.verdict != "" || !strings.Contains(got.metric, "max of") {
				t.Errorf("max row %+v, want %s", got, tt.max)
			}
		})
	}
}

// TestLambdaSection checks the parts' medians and maxima and where the
// rows sit: beside the local process's start.
func TestLambdaSection(t *testing.T) {
	r := &results{
		lambda:       []lambdaStart{coldStart(10, 0.01, 4, 9), coldStart(12, 0.02, 6, 11), coldStart(9, 0.01, 3, 8)},
		lambdaBinary: "linux/amd64, 13.1 MiB",
		lambdaInits:  []initTrace{{main: 4 * time.Millisecond, packages: 3 * time.Millisecond}, {main: 5 * time.Millisecond, packages: 3500 * time.Microsecond}},
		starts:       []startRun{{ready: 18 * time.Millisecond}},
		redis:        "redis-server at 127.0.0.1:1",
	}
	s := renderLambda(r)
	for _, want := range []string{
		"| Init: exec of the bootstrap to its first `GET /next` | 10 ms | 12 ms |",
		"| … of which the Go runtime and package init, to main (from 2 separate runs with `GODEBUG=inittrace=1`) | 4.5 ms | 5 ms |",
		"| … of which the package init functions' own time (the same runs) | 3.25 ms | 3.5 ms |",
		"| Hand-off: that `/next` to the event handed over in its answer (the emulator) | 10 µs | 20 µs |",
		"| First invocation: the event handed over to the first byte of the response | 4 ms | 6 ms |",
		"| **Cold start: exec to the first byte** | 14.01 ms | 18.02 ms |",
		"| CPU time the bootstrap had used by the end of its first invocation | 9 ms | 11 ms |",
		"Each cold start: 14.01 ms, 18.02 ms, 12.01 ms. Median and max of 3;",
		"linux/amd64, 13.1 MiB",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
	rows := r.startRows()
	if len(rows) != 4 || !strings.HasPrefix(rows[1].metric, "Process start") || !strings.HasPrefix(rows[2].metric, "Gateway Lambda cold start") {
		t.Errorf("start rows %+v", rows)
	}
	r.cfg.only = "starts"
	if out := render(r); !strings.Contains(out, "Gateway Lambda cold start under the local emulator (exec to first answer byte), median of 3 | 14.01 ms | ≤ 50 ms | PASS") ||
		strings.Contains(out, "Added latency") {
		t.Errorf("partial report:\n%s", out)
	}
}

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"89360109 103190353 337\n", 89360109, true},
		{"0 0 0", 0, true},
		{"89360109 103190353\n", 0, false},
		{"x 1 2", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSchedstat(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSchedstat(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseInitTrace(t *testing.T) {
	trace := `init internal/bytealg @0 ms, 0 ms clock, 0 bytes, 0 allocs
init runtime @0.014 ms, 0.051 ms clock, 0 bytes, 0 allocs
init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @2.8 ms, 0.52 ms clock, 586696 bytes, 3151 allocs
init github.com/aws/aws-sdk-go-v2/config @14 ms, 0.050 ms clock, 4728 bytes, 15 allocs
init net/netip @3.8 ms, 0.2 ms clock, 744 bytes, 18 allocs
{"level":"ERROR","msg":"gateway cold start failed"}
`
	got, err := parseInitTrace(trace)
	if err != nil {
		t.Fatal(err)
	}
	if want := (initTrace{main: 14050 * time.Microsecond, packages: 821 * time.Microsecond}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for name, bad := range map[string]string{
		"no trace":  `{"level":"ERROR"}` + "\n",
		"malformed": "init runtime at 0.014 ms\n",
	} {
		if _, err := parseInitTrace(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
