package telemetry

import (
	"context"
	"log/slog"
	"time"
)

// AccessLog writes one line per request with the same keys every time,
// so that log queries and alerts can rely on them: a field that does not
// apply is empty or zero, never missing. Times are whole microseconds and
// cost whole millionths of a USD: slog writes integers without the
// allocations its floats cost. Key secrets are not in the record, so they
// cannot reach the log; prompts and answers are, redacted, only when a
// route's AccessLogPolicy put them there, and only then are their keys
// written.
type AccessLog struct {
	log *slog.Logger
}

// NewAccessLog returns an access log writing to log; nil discards.
func NewAccessLog(log *slog.Logger) *AccessLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AccessLog{log: log}
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
	attrs := [...]slog.Attr{
		slog.String("request_id", r.ID),
		slog.String("method", r.Method),
		slog.String("path", r.Path),
		slog.Int("status", r.Status),
		slog.String("error_kind", r.ErrorKind),
		slog.String("key_id", r.KeyID),
		slog.String("consumer", r.Consumer),
		slog.String("route", r.Route),
		slog.String("backend", r.Backend),
		slog.String("provider", r.Provider),
		slog.String("model", r.Model),
		slog.String("served_model", r.ServedModel),
		slog.Bool("stream", r.Stream),
		slog.String("cache", r.Cache),
		slog.Int64("input_tokens", r.InputTokens),
		slog.Int64("output_tokens", r.OutputTokens),
		slog.Int64("cached_tokens", r.CachedTokens),
		slog.Int64("reasoning_tokens", r.ReasoningTokens),
		slog.Int64("cost_micros", r.CostMicros),
		slog.Int64("latency_us", int64(r.Latency/time.Microsecond)),
		slog.Int64("ttft_us", int64(r.TTFT/time.Microsecond)),
		slog.Int("attempts", r.Attempts),
		slog.Int("fallbacks", r.Fallbacks),
		slog.Int("hedges", r.Hedges),
		slog.Int("skipped_events", r.SkippedEvents),
		slog.String("error", r.Error),
	}
	if r.Prompt != "" || r.Answer != "" {
		a.log.LogAttrs(ctx, level, "request", withTexts(attrs[:], r)...)
		return
	}
	a.log.LogAttrs(ctx, level, "request", attrs[:]...)
}

// withTexts adds the logged prompt and answer after the fixed keys.
func withTexts(attrs []slog.Attr, r *Request) []slog.Attr {
	all := append(make([]slog.Attr, 0, len(attrs)+2), attrs...)
	if r.Prompt != "" {
		all = append(all, slog.String("prompt", r.Prompt))
	}
	if r.Answer != "" {
		all = append(all, slog.String("answer", r.Answer))
	}
	return all
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d/time.Microsecond) / 1e3 }
