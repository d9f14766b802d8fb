package azure

import (
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
)

// chatFeatures uses most of Chat Completions (system, multi-turn, tools,
// tool choice, parallel calls and their results, images by URL and base64,
// a JSON schema, stop, sampling, max tokens, reasoning).
const chatFeatures = `{"model":"gpt","messages":[{"role":"system","content":"Be brief."},` +
	`{"role":"user","content":[{"type":"text","text":"Weather here?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},` +
	`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}},` +
	`{"id":"c2","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
	`{"role":"tool","tool_call_id":"c1","content":"sunny"},{"role":"tool","tool_call_id":"c2","content":"snow"}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"required",` +
	`"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}},"stop":["END"],` +
	`"temperature":0.2,"top_p":0.9,"max_completion_tokens":300,"reasoning_effort":"low"}`

// TestChatFeaturesPassThrough: from OpenAI clients Azure receives the body
// as sent, the deployment as its model.
func TestChatFeaturesPassThrough(t *testing.T) {
	tr, _ := NewProvider(provider.Deps{}).Translator(deployment(""), api.EndpointChatCompletions, "gpt")
	_, out, err := tr.Request([]byte(chatFeatures))
	if err != nil || string(out) != strings.Replace(chatFeatures, `"model":"gpt"`, `"model":"prod-gpt-4o"`, 1) {
		t.Fatalf("Request = %s, %v", out, err)
	}
}

// TestMessagesTranscriptsAsOpenAI replays the OpenAI translator's Anthropic
// Messages transcripts (shared/provider/openai/testdata/from_anthropic:
// text, tools, thinking, media, refusal, filter, error, cut streams...)
// through Azure's provider: the request Azure receives and what the
// Anthropic client gets back must be the OpenAI provider's goldens, byte
// for byte, whole and one byte at a time; the path goes to the
// deployment.
func TestMessagesTranscriptsAsOpenAI(t *testing.T) {
	providertest.Suite{Dir: "../openai/testdata/from_anthropic", Endpoint: api.EndpointMessages, Provider: NewProvider,
		Backend: route.Backend{Provider: "azure-openai"}, Model: "claude-client", Upstream: "gpt-upstream", ReadOnly: true}.Run(t)
	// Every golden request goes to /chat/completions: on Azure, the
	// deployment's.
	b := &route.Backend{Provider: "azure-openai", ModelMap: map[string]string{"claude-client": "gpt-upstream"}}
	if u, err := NewProvider(provider.Deps{}).URL(b, "claude-client", "/chat/completions"); err != nil ||
		u != "/openai/deployments/gpt-upstream/chat/completions?api-version="+DefaultAPIVersion {
		t.Fatalf("URL = %s, %v", u, err)
	}
}
