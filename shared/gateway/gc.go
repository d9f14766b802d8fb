package gateway

import "runtime/debug"

// DefaultGCPercent is the GOGC value a gateway Lambda runs at. A gateway's
// live heap is small (a few MiB: the route table, the key cache, requests
// in flight) while it allocates a few KiB per request, so at Go's default
// of 100 it collects many times a second under load; at 400 it collects a
// quarter as often.
const DefaultGCPercent = 400

// TuneGC sets the collector of a gateway process: GOGC to percent, and a
// soft memory limit of limit bytes so that a larger heap goal cannot grow
// the process past it (near the limit the collector runs as often as it
// must). Either is left as it is when not positive. Mains call it once at
// start with Config's GCPercent and MemoryLimit.
func TuneGC(percent int, limit int64) {
	if percent > 0 {
		debug.SetGCPercent(percent)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}
