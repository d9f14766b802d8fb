package bedrock

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
)

var update = flag.Bool("update", false, "rewrite the golden files of the transcript tests")

// A transcript is a folder testdata/<pair>/<case>/ holding:
//
//	request.json  what the client sends
//	model         the Bedrock model id, when not the default Claude
//	              Sonnet 4 (models differ in what Converse offers them)
//	converse.json the Converse request Bedrock must receive (golden)
//	path          the request path (golden)
//	response.json Bedrock's plain answer, for plain cases
//	events.txt    Bedrock's stream, one event a line ("<event-type> <json>",
//	              or "!exception <type> <json>"), encoded in the test with
//	              the SDK's event-stream encoder, for streamed cases
//	client.json   what the client must receive, plain (golden)
//	client.sse    what the client must receive, streamed (golden); the
//	              stream is fed to the decoder whole and one byte at a time
//	usage.json    the usage the ledger learns (golden)

func testConfig() provider.Deps {
	return provider.Deps{Region: "us-east-1", Now: func() time.Time { return time.Unix(1750000000, 0) }, ID: func() string { return "test" }}
}

func TestTranscripts(t *testing.T) {
	for _, pair := range []struct {
		name string
		ep   api.Endpoint
	}{{"openai", api.EndpointChatCompletions}, {"anthropic", api.EndpointMessages}} {
		dirs, _ := filepath.Glob(filepath.Join("testdata", pair.name, "*"))
		if len(dirs) == 0 {
			t.Fatalf("no transcripts for %s", pair.name)
		}
		for _, dir := range dirs {
			t.Run(pair.name+"/"+filepath.Base(dir), func(t *testing.T) {
				runTranscript(t, pair.ep, dir)
			})
		}
	}
}

func runTranscript(t *testing.T, ep api.Endpoint, dir string) {
	model := "anthropic.claude-sonnet-4-20250514-v1:0"
	if m, ok := maybe(dir, "model"); ok {
		model = strings.TrimSpace(string(m))
	}
	req := read(t, dir, "request.json")
	newT := func() provider.Translator {
		tr, err := New(ep, "claude", model, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	tr := newT()
	path, out, err := tr.Request(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	golden(t, dir, "path", []byte(path+"\n"))
	golden(t, dir, "converse.json", indent(t, out))
	if resp, ok := maybe(dir, "response.json"); ok {
		got, err := tr.Response(resp)
		if err != nil {
			t.Fatalf("response: %v", err)
		}
		golden(t, dir, "client.json", indent(t, got))
		golden(t, dir, "usage.json", usageJSON(tr.Usage()))
	}
	if evs, ok := maybe(dir, "events.txt"); ok {
		upstream := encodeEvents(t, evs)
		var whole []byte
		for i, rd := range []io.Reader{bytes.NewReader(upstream), iotest.OneByteReader(bytes.NewReader(upstream))} {
			tr := newT()
			if _, _, err := tr.Request(req); err != nil {
				t.Fatal(err)
			}
			got := relay(tr, rd)
			if i == 0 {
				whole = got
				golden(t, dir, "client.sse", got)
				golden(t, dir, "usage.json", usageJSON(tr.Usage()))
			} else if !bytes.Equal(got, whole) {
				t.Fatalf("byte by byte:\n%s\nwhole:\n%s", got, whole)
			}
		}
	}
}

// relay does what the gateway does with a stream: decode, translate, end
// or fail in the client's protocol.
func relay(tr provider.Translator, body io.Reader) []byte {
	rd := tr.(provider.StreamDecoder).NewEventReader(body)
	var out []byte
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			end, err := tr.(provider.StreamEnder).StreamEnd(out)
			if err != nil {
				return tr.StreamError(out, err)
			}
			return end
		}
		if err != nil {
			var ae *api.Error
			if !errors.As(err, &ae) {
				err = api.Errorf(api.ErrUpstream, "the backend stream failed mid-response")
			}
			return tr.StreamError(out, err)
		}
		if out, err = tr.StreamEvent(out, ev); err != nil {
			return tr.StreamError(out, err)
		}
	}
}

// encodeEvents builds the binary stream Bedrock would send.
func encodeEvents(t *testing.T, text []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		typ, payload, _ := strings.Cut(line, " ")
		var hs eventstream.Headers
		if typ == "!exception" {
			exc, p, _ := strings.Cut(payload, " ")
			hs.Set(":exception-type", eventstream.StringValue(exc))
			hs.Set(":content-type", eventstream.StringValue("application/json"))
			hs.Set(":message-type", eventstream.StringValue("exception"))
			payload = p
		} else {
			hs.Set(":event-type", eventstream.StringValue(typ))
			hs.Set(":content-type", eventstream.StringValue("application/json"))
			hs.Set(":message-type", eventstream.StringValue("event"))
		}
		if !json.Valid([]byte(payload)) {
			t.Fatalf("events.txt: bad JSON in %q", line)
		}
		if err := enc.Encode(&buf, eventstream.Message{Headers: hs, Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func usageJSON(u api.Usage) []byte {
	b, _ := json.MarshalIndent(map[string]any{"input": u.InputTokens, "output": u.OutputTokens, "cached": u.CachedTokens,
		"reasoning": u.ReasoningTokens, "reported": u.Reported}, "", "  ")
	return append(b, '\n')
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return append(out.Bytes(), '\n')
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func maybe(dir, name string) ([]byte, bool) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return b, err == nil
}

func golden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", p, got, want)
	}
}
