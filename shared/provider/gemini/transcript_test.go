package gemini

import (
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider/providertest"
)

// TestTranscripts runs the recorded exchanges of testdata/from_openai and
// testdata/from_anthropic (see package providertest): the body Gemini
// receives, and what the client gets back from Gemini's answer, its alt=sse
// streams (CRLF line ends, as Gemini sends them) whole and one byte at a
// time: text with thoughts, parallel calls, structured output, a cut and an
// error event.
func TestTranscripts(t *testing.T) {
	t.Run("from_openai", providertest.Suite{Dir: "testdata/from_openai", Endpoint: api.EndpointChatCompletions,
		Provider: NewProvider, Model: "my-gemini", Upstream: "models/gemini-2.5-flash"}.Run)
	t.Run("from_anthropic", providertest.Suite{Dir: "testdata/from_anthropic", Endpoint: api.EndpointMessages,
		Provider: NewProvider, Model: "claude-ish", Upstream: "gemini-2.5-pro"}.Run)
}
