package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// check is one readiness condition: nil when it holds.
type check struct {
	name string
	run  func(ctx context.Context) error
}

// healthz answers liveness: the process serves HTTP.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers readiness: 200 when every check holds, else 503 with
// the failures, one per line. Checks run at once, each within a second, so
// that a stuck store cannot hold a probe.
func readyz(checks []check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		errs := make([]error, len(checks))
		done := make(chan int, len(checks))
		for i, c := range checks {
			go func() { errs[i] = c.run(ctx); done <- i }()
		}
		for range checks {
			<-done
		}
		var b strings.Builder
		for i, err := range errs {
			if err != nil {
				fmt.Fprintf(&b, "%s: %v\n", checks[i].name, err)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if b.Len() > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(b.String()))
			return
		}
		w.Write([]byte("ready\n"))
	}
}
