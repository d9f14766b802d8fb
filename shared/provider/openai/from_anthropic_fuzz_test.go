package openai

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicegw/sluice/shared/sse"
)

// FuzzFromAnthropicStream feeds arbitrary upstream streams to the
// Anthropic translation: it must never panic, every event it writes must
// carry JSON data, and the stream must end with message_stop or an error
// event, never with neither.
func FuzzFromAnthropicStream(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/from_anthropic/*_stream.upstream")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	req := []byte(`{"model":"m","max_tokens":9,"stream":true,"stop_sequences":["x"],"messages":[{"role":"user","content":"hi"}]}`)
	f.Fuzz(func(t *testing.T, upstream []byte) {
		tr := mustRequested(t, req)
		out := runStream(tr, bytes.NewReader(upstream))
		rd := sse.NewReader(bytes.NewReader(out))
		var last string
		for {
			ev, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("output is not an event stream: %v\n%q", err, out)
			}
			if !json.Valid(ev.Data) {
				t.Fatalf("event %s has data that is not JSON: %q", ev.Type, ev.Data)
			}
			last = ev.Type
		}
		if last != "message_stop" && last != "error" {
			t.Fatalf("stream ended with %q:\n%s", last, out)
		}
	})
}
