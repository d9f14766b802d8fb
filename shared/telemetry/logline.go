package telemetry

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/rawjson"
)

// Format is a log line's format, as slog's two handlers write it.
type Format int

const (
	JSON Format = iota // slog.JSONHandler's
	Text               // slog.TextHandler's
)

// NewLogger returns a process's logger: slog's JSON or text handler on w
// at level. Every line but the access log's goes through slog as usual;
// the access log writes its lines itself, in the same format to the same
// writer, because its fixed keys make slog's general path (a record, the
// caller's frame, every value's kind switched on) most of the
// telemetry's cost per request.
func NewLogger(w io.Writer, f Format, level slog.Leveler) *slog.Logger {
	out := &lockedWriter{w: w}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(out, opts)
	if f == Text {
		h = slog.NewTextHandler(out, opts)
	}
	return slog.New(&lineHandler{Handler: h, out: out, format: f})
}

// lineHandler is slog's handler with what the access log needs to write
// beside it. Loggers derived with attributes or groups get slog's own
// handler, so their lines carry them.
type lineHandler struct {
	slog.Handler
	out    *lockedWriter
	format Format
}

// lockedWriter keeps slog's lines and the access log's whole: each is
// one Write under one lock.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lines holds line encoders; a line with logged texts can be large, so
// only encoders of ordinary size go back.
var lines = sync.Pool{New: func() any { return &lineEncoder{b: make([]byte, 0, 1024)} }}

const maxPooledLine = 16 << 10

// writeLine writes r's access-log line through h's writer.
func (h *lineHandler) writeLine(level slog.Level, r *Request) {
	e := lines.Get().(*lineEncoder)
	e.b, e.text = e.b[:0], h.format == Text
	e.head(time.Now(), level, "request")
	requestFields(e, r)
	e.end()
	e.b = append(e.b, '\n')
	h.out.Write(e.b)
	if cap(e.b) <= maxPooledLine {
		lines.Put(e)
	}
}

// fieldWriter receives a request's access-log fields; the line encoder
// and the slog attributes of other loggers are the two.
type fieldWriter interface {
	str(key, v string)
	num(key string, v int64)
	flag(key string, v bool)
}

// requestFields is the access log's one list of keys, in their order.
func requestFields(w fieldWriter, r *Request) {
	w.str("request_id", r.ID)
	w.str("method", r.Method)
	w.str("path", r.Path)
	w.num("status", int64(r.Status))
	w.str("error_kind", r.ErrorKind)
	w.str("key_id", r.KeyID)
	w.str("consumer", r.Consumer)
	w.str("route", r.Route)
	w.str("backend", r.Backend)
	w.str("provider", r.Provider)
	w.str("model", r.Model)
	w.str("served_model", r.ServedModel)
	w.flag("stream", r.Stream)
	w.str("cache", r.Cache)
	w.num("input_tokens", r.InputTokens)
	w.num("output_tokens", r.OutputTokens)
	w.num("cached_tokens", r.CachedTokens)
	w.num("reasoning_tokens", r.ReasoningTokens)
	w.num("cost_micros", r.CostMicros)
	w.num("latency_us", int64(r.Latency/time.Microsecond))
	w.num("ttft_us", int64(r.TTFT/time.Microsecond))
	w.num("attempts", int64(r.Attempts))
	w.num("fallbacks", int64(r.Fallbacks))
	w.num("hedges", int64(r.Hedges))
	w.num("skipped_events", int64(r.SkippedEvents))
	w.str("error", r.Error)
	if r.Prompt != "" {
		w.str("prompt", r.Prompt)
	}
	if r.Answer != "" {
		w.str("answer", r.Answer)
	}
}

// attrList collects the fields as slog attributes, for loggers whose
// handler is not NewLogger's.
type attrList []slog.Attr

func (a *attrList) str(key, v string)       { *a = append(*a, slog.String(key, v)) }
func (a *attrList) num(key string, v int64) { *a = append(*a, slog.Int64(key, v)) }
func (a *attrList) flag(key string, v bool) { *a = append(*a, slog.Bool(key, v)) }

// lineEncoder appends a line as slog's JSON or text handler writes it.
// Keys are the package's own, plain ASCII, so only values are escaped.
type lineEncoder struct {
	b    []byte
	text bool
}

func (e *lineEncoder) head(t time.Time, level slog.Level, msg string) {
	if e.text {
		e.b = append(e.b, "time="...)
		e.b = appendTextTime(e.b, t)
		e.b = append(e.b, " level="...)
		e.b = append(e.b, level.String()...)
		e.str("msg", msg)
		return
	}
	e.b = append(e.b, `{"time":"`...)
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, `","level":"`...)
	e.b = append(e.b, level.String()...)
	e.b = append(e.b, `","msg":`...)
	e.b = appendJSONString(e.b, msg)
}

func (e *lineEncoder) key(k string) {
	if e.text {
		e.b = append(e.b, ' ')
		e.b = append(e.b, k...)
		e.b = append(e.b, '=')
		return
	}
	e.b = append(e.b, ',', '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *lineEncoder) str(k, v string) {
	e.key(k)
	switch {
	case !e.text:
		e.b = appendJSONString(e.b, v)
	case needsQuoting(v):
		e.b = strconv.AppendQuote(e.b, v)
	default:
		e.b = append(e.b, v...)
	}
}

func (e *lineEncoder) num(k string, v int64) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *lineEncoder) flag(k string, v bool) {
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
}

// end closes a JSON line; text lines need nothing.
func (e *lineEncoder) end() {
	if !e.text {
		e.b = append(e.b, '}')
	}
}

// appendTextTime writes t as the text handler does: RFC 3339 to the
// millisecond, truncated, always three digits.
func appendTextTime(b []byte, t time.Time) []byte {
	return t.Truncate(time.Millisecond).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
}

// appendJSONString appends s as a JSON string, escaped as slog's JSON
// handler and encoding/json escape it (no HTML escaping).
func appendJSONString(b []byte, s string) []byte { return rawjson.AppendString(b, s, false) }

// needsQuoting says whether the text handler quotes a value: when it is
// empty or has a space, '=', '"', a control byte, or a rune that is not
// printable or not valid UTF-8.
func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
