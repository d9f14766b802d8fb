//go:build !pprof

package main

import "log/slog"

// servePprof says that this build has no profiler: -pprof (SLUICE_PPROF)
// needs go build -tags pprof (pprof.go).
func servePprof(addr string, log *slog.Logger) {
	log.Warn("pprof asked for (-pprof or SLUICE_PPROF) but this build has none: build with -tags pprof", "addr", addr)
}
