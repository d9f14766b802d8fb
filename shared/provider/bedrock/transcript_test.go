package bedrock

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
)

// testConfig is the providers' fixed dependencies, in us-east-1.
func testConfig() provider.Deps {
	deps := providertest.Deps()
	deps.Region = "us-east-1"
	return deps
}

// TestTranscripts runs the recorded exchanges of testdata/from_openai and
// testdata/from_anthropic (see package providertest): the Converse request
// Bedrock receives, and what the client gets back from Bedrock's answer,
// its streams in event-stream frames, decoded whole and one byte at a
// time. A case's .model names the Bedrock model when it is not Claude
// Sonnet 4 (models differ in what Converse offers them). A new streamed
// case's .upstream is written with encodeEvents, from its events one a
// line; TestFuzzCorpus then asks for its fuzz seeds with -update.
func TestTranscripts(t *testing.T) {
	for _, s := range []providertest.Suite{
		{Dir: "testdata/from_openai", Endpoint: api.EndpointChatCompletions},
		{Dir: "testdata/from_anthropic", Endpoint: api.EndpointMessages},
	} {
		s.Provider, s.Backend = NewProvider, route.Backend{Provider: "bedrock", Region: "us-east-1"}
		s.Model, s.Upstream = "claude", "anthropic.claude-sonnet-4-20250514-v1:0"
		t.Run(strings.TrimPrefix(s.Dir, "testdata/"), s.Run)
	}
}

// encodeEvents builds the binary stream Bedrock would send for events
// written one a line: "<event-type> <json>", or "!exception <type> <json>".
func encodeEvents(t testing.TB, text []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
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
			t.Fatalf("bad JSON in %q", line)
		}
		if err := enc.Encode(&buf, eventstream.Message{Headers: hs, Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}
