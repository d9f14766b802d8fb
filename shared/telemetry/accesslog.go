package telemetry

import (
	"context"
	"log/slog"
	"time"
)

// AccessLog writes one line per request with the same keys every time,
// so that log queries and alerts can rely on them: a field that does not
// apply is empty or zero, never missing. Times are whole microseconds and
// cost whole millionths of a USD, integers a reader need not round. Key
// secrets are not in the record, so they cannot reach the log; prompts
// and answers are, redacted, only when a route's AccessLogPolicy put them
// there, and only then are their keys written.
type AccessLog struct {
	log   *slog.Logger
	lines *lineHandler // when log is NewLogger's
}

// NewAccessLog returns an access log writing to log; nil discards.
func NewAccessLog(log *slog.Logger) *AccessLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &AccessLog{log: log}
	a.lines, _ = log.Handler().(*lineHandler)
	return a
}

// Level is the level a request is logged at: failures of the gateway or
// its backends warn, everything else (client errors, clients that went
// away) is information.
func Level(r *Request) slog.Level {
	if r.Status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// Request logs r.
func (a *AccessLog) Request(ctx context.Context, r *Request) {
	level := Level(r)
	if !a.log.Enabled(ctx, level) {
		return
	}
	if a.lines != nil {
		a.lines.writeLine(level, r)
		return
	}
	attrs := make(attrList, 0, 28)
	requestFields(&attrs, r)
	a.log.LogAttrs(ctx, level, "request", attrs...)
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d/time.Microsecond) / 1e3 }
