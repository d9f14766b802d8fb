package bedrock

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/provider/providertest"
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

// TestFuzzCorpus holds the seed corpus of FuzzEventReader to the
// transcripts: each streamed transcript's upstream frames, cut short and
// with a flipped byte.
// A stale or missing seed fails; -update rewrites them. Files the fuzzer
// adds (its crashers) are left alone.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzEventReader")
	if providertest.Update() {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob("testdata/from_*/*_stream.upstream")
	if len(files) == 0 {
		t.Fatal("no transcripts found")
	}
	for _, f := range files {
		stream, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The seed of testdata/from_openai/text_stream is openai_text_stream.
		name := strings.TrimPrefix(filepath.Base(filepath.Dir(f)), "from_") + "_" + strings.TrimSuffix(filepath.Base(f), ".upstream")
		variants := map[string][]byte{name: stream, name + "_cut": stream[:len(stream)*2/3]}
		flipped := append([]byte(nil), stream...)
		flipped[len(flipped)/2] ^= 0x5a
		variants[name+"_flipped"] = flipped
		for n, b := range variants {
			path := filepath.Join(dir, n)
			want := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b))
			if providertest.Update() {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run with -update to create it)", err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: run with -update to rewrite it", path)
			}
		}
	}
}
