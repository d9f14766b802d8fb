package gemini

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/sse"
)

// FuzzStream feeds arbitrary upstream streams to both chat translators: they
// must never panic, and whatever they write must be whole SSE events, an
// error event last when the stream did not end cleanly.
func FuzzStream(f *testing.F) {
	streams, _ := filepath.Glob("testdata/from_*/*_stream.upstream")
	for _, name := range streams {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(sseOf(`{"error":{"code":429,"message":"x","status":"RESOURCE_EXHAUSTED"}}`))
	f.Add("data: {\"candidates\":[{\"index\":3,\"finishReason\":\"MALFORMED_FUNCTION_CALL\"}]}\n\n")
	f.Add("data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, tr := range []provider.Translator{&FromOpenAI{client: "c"}, &FromAnthropic{client: "c"}} {
			out, _ := runStream(tr, in, false)
			if out != "" && !strings.HasSuffix(out, "\n\n") {
				t.Fatalf("unterminated output %q", out)
			}
			if !utf8.ValidString(in) {
				continue
			}
			rd := sse.NewReader(strings.NewReader(out))
			for {
				if _, err := rd.Next(); err != nil {
					if err.Error() != "EOF" {
						t.Fatalf("output is not SSE: %v\n%q", err, out)
					}
					break
				}
			}
		}
	})
}
