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
	"github.com/sluicegw/sluice/shared/provider/openai"
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
	tr, _ := New(api.EndpointChatCompletions, "gpt", "prod-gpt-4o", "", false)
	_, out, err := tr.Request([]byte(chatFeatures))
	if err != nil || string(out) != strings.Replace(chatFeatures, `"model":"gpt"`, `"model":"prod-gpt-4o"`, 1) {
		t.Fatalf("Request = %s, %v", out, err)
	}
}

// TestMessagesTranscriptsAsOpenAI replays the OpenAI translator's Anthropic
// Messages transcripts (shared/provider/openai/testdata/from_anthropic:
// text, tools, thinking, media, refusal, filter, error, cut streams...)
// through the Azure translator: the request Azure receives and what the
// Anthropic client gets back must be the OpenAI translator's, byte for
// byte, whole and one byte at a time.
func TestMessagesTranscriptsAsOpenAI(t *testing.T) {
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
			az, err := New(api.EndpointMessages, "claude-client", "gpt-upstream", "", false)
			if err != nil {
				t.Fatal(err)
			}
			oa, _ := openai.New(api.EndpointMessages, "claude-client", "gpt-upstream")
			path, azOut, err := az.Request(req)
			_, oaOut, _ := oa.Request(req)
			if err != nil || path != "/openai/deployments/gpt-upstream/chat/completions?api-version="+DefaultAPIVersion || !bytes.Equal(azOut, oaOut) {
				t.Fatalf("Request = %s %s, %v; want %s", path, azOut, err, oaOut)
			}
			var azGot, oaGot []byte
			if bytes.Contains(req, []byte(`"stream":true`)) {
				azGot = relay(az, bytes.NewReader(upstream))
				oaGot = relay(oa, bytes.NewReader(upstream))
				az2, _ := New(api.EndpointMessages, "claude-client", "gpt-upstream", "", false)
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

type streamTranslator interface {
	StreamEvent(dst []byte, ev sse.Event) ([]byte, error)
	StreamError(dst []byte, err error) []byte
	StreamEnd(dst []byte) ([]byte, error)
}

// relay drives a translator as the gateway's relayStream does.
func relay(tr streamTranslator, r io.Reader) []byte {
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
