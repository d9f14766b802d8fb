package anthropic

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

// FuzzStreams feeds arbitrary upstream streams to both translators: they
// may fail, but never panic, and every failure or end is reported in the
// client's protocol.
func FuzzStreams(f *testing.F) {
	log := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	f.Cleanup(func() { slog.SetDefault(log) })
	files, _ := filepath.Glob(filepath.Join("testdata", "*.anthropic.sse"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		tr := NewFromOpenAI("c", "c")
		tr.includeUsage = true
		out, err := relay(tr, bytes.NewReader(stream))
		if err == nil && !strings.HasSuffix(out, "data: [DONE]\n\n") {
			t.Fatalf("clean end without [DONE]: %q", out)
		}
		if err != nil && !strings.Contains(out, `{"error":`) {
			t.Fatalf("failure without an error event: %q", out)
		}
		pt := NewFromAnthropic(api.EndpointMessages, "c", "c")
		if _, err := relay(pt, bytes.NewReader(stream)); err == nil && !pt.stopped {
			t.Fatal("clean end without message_stop")
		}
	})
}
