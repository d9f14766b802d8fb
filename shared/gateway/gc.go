package gateway

import (
	"os"
	"runtime/debug"
)

// GCPercent is the GOGC value TuneGC sets. A gateway's live heap is small
// (a few MiB: the route table, the key cache, requests in flight) while it
// allocates a few KiB per request, so at Go's default of 100 it collects
// many times a second under load; at 400 it collects a quarter as often.
const GCPercent = 400

// TuneGC sets the collector of a gateway process: GOGC to GCPercent, and a
// soft memory limit of limit bytes (when positive) so that the larger
// heap goal cannot grow the process past it: near the limit the collector
// runs as often as it must. GOGC or GOMEMLIMIT set in the environment win.
// Mains call it once at start.
func TuneGC(limit int64) {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(GCPercent)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok && limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}
