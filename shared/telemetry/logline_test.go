package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/telemetry"
)

// hostile are values that make escaping and quoting matter.
var hostile = []string{
	"", "plain", "with space", "a=b", `say "hi"`, `back\slash`, "tab\there", "line\nbreak", "cr\r",
	"\x00\x01\x1f\x7f", "bell\b feed\f", "héllo wörld", "日本語", "emoji 🙂", "\u2028\u2029", "bad \xff utf8", "\xc3",
	"nbsp\u00a0", "zero\u200bwidth", "<script>&amp;</script>", "{\"json\":1}", "#!/bin/sh", "k8s/ns-1",
}

// accessLine writes rec through log and returns the line without its
// time, which the two writers take at different instants.
func accessLine(t *testing.T, log func(*bytes.Buffer) *slog.Logger, rec *telemetry.Request) string {
	t.Helper()
	var buf bytes.Buffer
	telemetry.NewAccessLog(log(&buf)).Request(context.Background(), rec)
	return timeField.ReplaceAllString(buf.String(), "")
}

var timeField = regexp.MustCompile(`^(\{"time":"[^"]+",|time=\S+ )`)

// sameLine reports whether two lines without their time say the same:
// text lines byte for byte; JSON lines as the same keys in the same order
// with the same values once decoded (escapes may be spelt differently,
// \b for \u0008).
func sameLine(t *testing.T, got, want string) bool {
	t.Helper()
	if !strings.HasPrefix(want, `"`) {
		return got == want
	}
	return slices.Equal(members(t, "{"+got), members(t, "{"+want))
}

// members lists a JSON object's keys and values in order.
func members(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	var out []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, fmt.Sprintf("%T:%v", tok, tok))
	}
}

// TestAccessLogLineMatchesSlog: NewLogger's access-log lines say what
// slog's own handlers write for the same record, in both formats,
// whatever the values hold: text byte for byte, JSON key for key.
func TestAccessLogLineMatchesSlog(t *testing.T) {
	formats := []struct {
		name   string
		format telemetry.Format
		slog   func(*bytes.Buffer) slog.Handler
	}{
		{"json", telemetry.JSON, func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"text", telemetry.Text, func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	}
	var recs []*telemetry.Request
	for _, s := range hostile {
		r := sample()
		r.ID, r.Consumer, r.Route, r.Model, r.Error, r.Prompt, r.Answer = s, s, s, s, s, s, s
		recs = append(recs, r)
	}
	failed := sample()
	failed.Status, failed.ErrorKind, failed.Stream, failed.Latency = 502, "upstream_error", false, -time.Millisecond
	recs = append(recs, failed, &telemetry.Request{})
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			for _, r := range recs {
				fast := accessLine(t, func(b *bytes.Buffer) *slog.Logger { return telemetry.NewLogger(b, f.format, nil) }, r)
				want := accessLine(t, func(b *bytes.Buffer) *slog.Logger { return slog.New(f.slog(b)) }, r)
				if !sameLine(t, fast, want) {
					t.Errorf("record %q:\n got %s\nwant %s", r.ID, fast, want)
				}
			}
		})
	}
}

// TestNewLoggerTime: the time is written as each slog handler writes it.
func TestNewLoggerTime(t *testing.T) {
	for _, tt := range []struct {
		format telemetry.Format
		re     string
	}{
		{telemetry.JSON, `^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)","level":"INFO","msg":"request",`},
		{telemetry.Text, `^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) level=INFO msg=request `},
	} {
		var buf bytes.Buffer
		telemetry.NewAccessLog(telemetry.NewLogger(&buf, tt.format, nil)).Request(context.Background(), sample())
		if !regexp.MustCompile(tt.re).Match(buf.Bytes()) {
			t.Errorf("format %d: %s", tt.format, buf.String())
		}
	}
}

// TestNewLoggerLevelsAndDerived: the access log keeps the logger's level,
// and a logger derived with attributes writes them on its lines.
func TestNewLoggerLevelsAndDerived(t *testing.T) {
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, telemetry.JSON, slog.LevelWarn)
	a := telemetry.NewAccessLog(log)
	a.Request(context.Background(), sample())
	if buf.Len() != 0 {
		t.Fatalf("an info line at level warn: %s", buf.String())
	}
	failed := sample()
	failed.Status = 503
	a.Request(context.Background(), failed)
	if !bytes.Contains(buf.Bytes(), []byte(`"level":"WARN","msg":"request","request_id":"req_1"`)) {
		t.Fatalf("warn line: %s", buf.String())
	}
	buf.Reset()
	telemetry.NewAccessLog(log.With("fn", "gateway")).Request(context.Background(), failed)
	if !bytes.Contains(buf.Bytes(), []byte(`"msg":"request","fn":"gateway","request_id":"req_1"`)) {
		t.Fatalf("derived logger: %s", buf.String())
	}
	buf.Reset()
	log.Warn("other line", "n", 1)
	if !bytes.Contains(buf.Bytes(), []byte(`"msg":"other line","n":1}`)) {
		t.Fatalf("slog line: %s", buf.String())
	}
}

// FuzzAccessLogLine: any value is written as slog writes it.
func FuzzAccessLogLine(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, text bool) {
		format, h := telemetry.JSON, func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }
		if text {
			format, h = telemetry.Text, func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }
		}
		r := sample()
		r.Model, r.Prompt = s, s
		fast := accessLine(t, func(b *bytes.Buffer) *slog.Logger { return telemetry.NewLogger(b, format, nil) }, r)
		want := accessLine(t, func(b *bytes.Buffer) *slog.Logger { return slog.New(h(b)) }, r)
		if !sameLine(t, fast, want) {
			t.Fatalf("\n got %s\nwant %s", fast, want)
		}
	})
}
