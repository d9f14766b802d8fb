package azure

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/openai"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
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
// through Azure's provider: the request Azure receives, on the deployment's
// path, and what the Anthropic client gets back must be the OpenAI
// provider's, byte for byte, whole and one byte at a time.
func TestMessagesTranscriptsAsOpenAI(t *testing.T) {
	azure, oai := NewProvider(provider.Deps{}), openai.NewProvider(provider.Deps{})
	b := &route.Backend{Provider: "azure-openai", ModelMap: map[string]string{"claude-client": "gpt-upstream"}}
	cases, _ := filepath.Glob("../openai/testdata/from_anthropic/*.request.json")
	if len(cases) < 8 {
		t.Fatalf("%d transcripts", len(cases))
	}
	for _, c := range cases {
		base := strings.TrimSuffix(c, ".request.json")
		t.Run(filepath.Base(base), func(t *testing.T) {
			req, err := os.ReadFile(c)
			if err != nil {
				t.Fatal(err)
			}
			upstream, err := os.ReadFile(base + ".upstream")
			if err != nil {
				t.Fatal(err)
			}
			az, err := azure.Translator(b, api.EndpointMessages, "claude-client")
			if err != nil {
				t.Fatal(err)
			}
			oa, _ := oai.Translator(b, api.EndpointMessages, "claude-client")
			path, azOut, err := az.Request(req)
			_, oaOut, _ := oa.Request(req)
			u, _ := azure.URL(b, "claude-client", path)
			if err != nil || u != "/openai/deployments/gpt-upstream/chat/completions?api-version="+DefaultAPIVersion || !bytes.Equal(azOut, oaOut) {
				t.Fatalf("Request = %s %s, %v; want %s", u, azOut, err, oaOut)
			}
			var azGot, oaGot []byte
			if bytes.Contains(req, []byte(`"stream":true`)) {
				azGot = relay(az, bytes.NewReader(upstream))
				oaGot = relay(oa, bytes.NewReader(upstream))
				az2, _ := azure.Translator(b, api.EndpointMessages, "claude-client")
				az2.Request(req)
				if one := relay(az2, iotest.OneByteReader(bytes.NewReader(upstream))); !bytes.Equal(one, azGot) {
					t.Fatalf("one byte at a time:\n%s\nwhole:\n%s", one, azGot)
				}
			} else {
				azGot, err = az.Response(upstream)
				oaGot, _ = oa.Response(upstream)
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(azGot, oaGot) || az.Usage() != oa.Usage() || len(azGot) == 0 {
				t.Fatalf("Azure gave\n%s\nOpenAI gave\n%s\nusage %+v vs %+v", azGot, oaGot, az.Usage(), oa.Usage())
			}
		})
	}
}

// relay drives a translator as the gateway's relayStream does.
func relay(t provider.Translator, r io.Reader) []byte {
	tr := t.(interface {
		provider.Translator
		provider.StreamEnder
	})
	rd := sse.NewReader(r)
	var out []byte
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			if out, err = tr.StreamEnd(out); err != nil {
				out = tr.StreamError(out, err)
			}
			return out
		}
		if err != nil {
			return tr.StreamError(out, api.Errorf(api.ErrUpstream, "the backend stream failed mid-response"))
		}
		if out, err = tr.StreamEvent(out, ev); err != nil {
			return tr.StreamError(out, err)
		}
	}
}
