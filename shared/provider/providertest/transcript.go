package providertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

var update = flag.Bool("update", false, "rewrite the golden files of the transcript tests")

// Update reports whether the run rewrites golden files (go test -update).
func Update() bool { return *update }

// Suite is one provider's transcripts for one client protocol.
type Suite struct {
	// Dir is the folder of the transcripts, testdata/from_<client>.
	Dir string
	// Endpoint is the client's endpoint.
	Endpoint api.Endpoint
	// Provider makes the translators; each run gets a provider of its
	// own on Deps, so ids count from the start in every run.
	Provider provider.Constructor
	// Backend is the backend the requests go to; its model map is the
	// suite's.
	Backend route.Backend
	// Model is the model the client names, and Upstream the provider's
	// name for it ("" is Model).
	Model, Upstream string
	// ReadOnly compares with the goldens and never rewrites them: for a
	// provider held to another's transcripts.
	ReadOnly bool
}

// Run runs every transcript in the suite's folder as a subtest.
func (s Suite) Run(t *testing.T) {
	t.Helper()
	cases, _ := filepath.Glob(filepath.Join(s.Dir, "*.request.json"))
	if len(cases) == 0 {
		t.Fatalf("no transcripts in %s", s.Dir)
	}
	for _, c := range cases {
		base := strings.TrimSuffix(c, ".request.json")
		t.Run(filepath.Base(base), func(t *testing.T) { s.run(t, base) })
	}
}

func (s Suite) run(t *testing.T, base string) {
	req := read(t, base+".request.json")
	upstream := read(t, base+".upstream")
	model := s.Upstream
	if model == "" {
		model = s.Model
	}
	if m, err := os.ReadFile(base + ".model"); err == nil {
		model = strings.TrimSpace(string(m))
	}
	b := s.Backend
	b.ModelMap = map[string]string{s.Model: model}
	// requested is a new translator that has seen the client's request.
	requested := func() (provider.Translator, string, []byte) {
		tr, err := s.Provider(Deps()).Translator(&b, s.Endpoint, s.Model)
		if err != nil {
			t.Fatalf("translator: %v", err)
		}
		path, out, err := tr.Request(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		return tr, path, out
	}
	tr, path, out := requested()
	h := http.Header{}
	tr.Header(h)
	s.golden(t, base+".upstream_request", requestText(path, h, out))

	var streamed struct {
		Stream bool `json:"stream"`
	}
	json.Unmarshal(req, &streamed)
	if !streamed.Stream {
		got, err := tr.Response(upstream)
		s.golden(t, base+".golden", report(tr, indented(got), err))
		return
	}
	got, err := Stream(tr, bytes.NewReader(upstream))
	whole := report(tr, got, err)
	tr, _, _ = requested()
	got, err = Stream(tr, iotest.OneByteReader(bytes.NewReader(upstream)))
	if byByte := report(tr, got, err); byByte != whole {
		t.Errorf("one byte at a time:\n%s\nwhole:\n%s", byByte, whole)
	}
	s.golden(t, base+".golden", whole)
}

// Stream does with an upstream stream what the gateway does: each event
// read (with the translator's own decoder, if it has one) and translated,
// the end or the failure reported in the client's protocol. It returns what
// the client receives and the error the stream ended with.
func Stream(tr provider.Translator, body io.Reader) ([]byte, error) {
	var rd provider.EventReader
	if d, ok := tr.(provider.StreamDecoder); ok {
		rd = d.NewEventReader(body)
	} else {
		rd = sse.NewReader(body)
	}
	var out []byte
	for {
		n0 := len(out)
		ev, err := rd.Next()
		if err == io.EOF {
			if end, ok := tr.(provider.StreamEnder); ok {
				if out, err = end.StreamEnd(out); err != nil {
					out = tr.StreamError(out[:n0], err)
				}
			}
			return out, err
		}
		if err != nil {
			var cause error = api.Errorf(api.ErrUpstream, "the backend stream failed mid-response")
			if ae := (*api.Error)(nil); errors.As(err, &ae) {
				cause = ae
			}
			return tr.StreamError(out, cause), err
		}
		if out, err = tr.StreamEvent(out, ev); err != nil {
			return tr.StreamError(out[:n0], err), err
		}
	}
}

// report is a golden transcript's text: what the client received, then
// the usage the translator reports, its count of skipped events, if it
// counts them, and the error the exchange ended with, if any.
func report(tr provider.Translator, got []byte, err error) string {
	var b strings.Builder
	b.Write(got)
	fmt.Fprintf(&b, "-- usage --\n%+v\n", tr.Usage())
	if c, ok := tr.(provider.EventCounter); ok {
		fmt.Fprintf(&b, "-- skipped events --\n%d\n", c.SkippedEvents())
	}
	if err != nil {
		fmt.Fprintf(&b, "-- error --\n%v\n", err)
	}
	return b.String()
}

// requestText is the request a provider receives, as an HTTP request
// reads: method and path, headers in order, a blank line, the body.
func requestText(path string, h http.Header, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s\n", path)
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteByte('\n')
	b.Write(indented(body))
	return b.String()
}

// indented is a JSON body indented and ended by a newline; another body
// as it is.
func indented(body []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, body, "", "  ") != nil {
		return body
	}
	return append(out.Bytes(), '\n')
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with the file at path, or rewrites the file with
// -update unless the suite is read-only.
func (s Suite) golden(t *testing.T, path, got string) {
	t.Helper()
	if *update && !s.ReadOnly {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
