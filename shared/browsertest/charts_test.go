package browsertest

import (
	"fmt"
	"runtime"
	"testing"
)

// recorder is a testing.TB that records whether a check failed.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func TestCheckCharts(t *testing.T) {
	const (
		drawn    = `<figure class="chart" data-view="models" data-metric="tokens" data-required="" data-points="14" data-state="drawn"><div class="uplot"></div></figure>`
		empty    = `<figure class="chart" data-view="keys" data-metric="cost" data-required="" data-points="0" data-state="empty"><p class="empty"></p></figure>`
		optional = `<figure class="chart" data-view="models" data-metric="savings" hidden="" data-points="0" data-state="empty"></figure>`
		failed   = `<figure class="chart" data-view="errors" data-metric="requests" data-state="failed" data-error="ReferenceError: uPlot is not defined"></figure>`
		done     = `<body data-charts="done">`
	)
	tests := []struct {
		name string
		dom  string
		min  int
		fail bool
	}{
		{"drawn, and an optional chart empty", done + drawn + optional, 2, false},
		{"the script did not finish", `<body>` + drawn, 1, true},
		{"a required chart without data", done + drawn + empty, 2, true},
		{"a chart whose drawing failed", done + drawn + failed, 2, true},
		{"fewer charts than wanted", done + drawn, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			ended := make(chan struct{})
			go func() {
				defer close(ended)
				CheckCharts(r, tt.dom, tt.min)
			}()
			<-ended
			if r.failed != tt.fail {
				t.Errorf("failed %v (%s), want %v", r.failed, r.msg, tt.fail)
			}
		})
	}
}
