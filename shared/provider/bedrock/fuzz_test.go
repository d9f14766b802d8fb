package bedrock

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEventReader feeds arbitrary bytes to the event-stream decoder: it
// must never panic, hang or return an event without a type, and must stop
// with an error or EOF. The seed corpus (testdata/fuzz/FuzzEventReader)
// holds every transcript's stream and corrupt variants; `go test -run
// TestFuzzCorpus -update` rewrites it.
func FuzzEventReader(f *testing.F) {
	f.Add([]byte{})
	f.Add(frame(f, map[string]string{":message-type": "event", ":event-type": "messageStart"}, `{"role":"assistant"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewEventReader(bytes.NewReader(data))
		for i := 0; i <= len(data)/16+1; i++ {
			ev, err := rd.Next()
			if err != nil {
				return
			}
			if ev.Type == "" {
				t.Fatalf("event without a type")
			}
		}
		t.Fatalf("more events than the input can hold")
	})
}

func TestFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the fuzz seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzEventReader")
	os.MkdirAll(dir, 0o755)
	files, _ := filepath.Glob("testdata/*/*/events.txt")
	for _, f := range files {
		text, _ := os.ReadFile(f)
		stream := encodeEvents(t, text)
		name := filepath.Base(filepath.Dir(filepath.Dir(f))) + "_" + filepath.Base(filepath.Dir(f))
		variants := map[string][]byte{name: stream, name + "_cut": stream[:len(stream)*2/3]}
		flipped := append([]byte(nil), stream...)
		flipped[len(flipped)/2] ^= 0x5a
		variants[name+"_flipped"] = flipped
		for n, b := range variants {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = io.EOF
}
