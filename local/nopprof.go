//go:build !pprof

package main

import "log/slog"

// servePprof says that this build has no profiler: SLUICE_PPROF needs
// go build -tags pprof (pprof.go).
func servePprof(addr string, log *slog.Logger) {
	log.Warn("SLUICE_PPROF is set but this build has no pprof: build with -tags pprof", "addr", addr)
}
