package azure

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

func TestRequestPathAndHeaders(t *testing.T) {
	tests := []struct {
		name      string
		ep        api.Endpoint
		version   string
		bearer    bool
		body      string
		wantPath  string
		wantAuth  string
		wantKey   string
		wantInOut string
	}{
		{"chat, default version, api-key", api.EndpointChatCompletions, "", false,
			`{"model":"gpt","messages":[]}`, "/openai/deployments/prod-gpt-4o/chat/completions?api-version=2024-10-21", "", "secret", `"model":"prod-gpt-4o"`},
		{"embeddings, pinned version, Entra token", api.EndpointEmbeddings, "2025-04-01-preview", true,
			`{"model":"gpt","input":"x"}`, "/openai/deployments/prod-gpt-4o/embeddings?api-version=2025-04-01-preview", "Bearer secret", "", `"input":"x"`},
		{"v1 API", api.EndpointChatCompletions, "v1", false,
			`{"model":"gpt","messages":[]}`, "/openai/v1/chat/completions", "", "secret", `"model":"prod-gpt-4o"`},
		{"stream asks for usage as OpenAI does", api.EndpointChatCompletions, "", false,
			`{"model":"gpt","stream":true,"messages":[]}`, "/openai/deployments/prod-gpt-4o/chat/completions?api-version=2024-10-21", "", "secret", `"stream_options":{"include_usage":true}`},
	}
	p := NewProvider(provider.Deps{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := deployment(tt.version)
			if tt.bearer {
				b.CredentialType = "bearer"
			}
			tr, err := p.Translator(b, tt.ep, "gpt")
			if err != nil {
				t.Fatal(err)
			}
			path, out, err := tr.Request([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if u, err := p.URL(b, "gpt", path); err != nil || u != tt.wantPath || !strings.Contains(string(out), tt.wantInOut) {
				t.Fatalf("URL %s body %s, %v", u, out, err)
			}
			h := http.Header{}
			tr.Header(h)
			p.Authorize(h, b, "secret")
			if h.Get("Authorization") != tt.wantAuth || h.Get("api-key") != tt.wantKey || h.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", h)
			}
		})
	}
	if _, err := p.Translator(deployment(""), api.EndpointModels, "gpt"); err == nil {
		t.Fatal("an endpoint the OpenAI translator does not serve must be refused")
	}
}

// deployment is an Azure backend on no host that maps model gpt to the
// deployment prod-gpt-4o.
func deployment(version string) *route.Backend {
	return &route.Backend{Provider: "azure-openai", APIVersion: version, ModelMap: map[string]string{"gpt": "prod-gpt-4o"}}
}

// TestPassThroughSemantics: responses, usage and errors are the OpenAI
// translator's, including hiding the usage chunk Sluice asked for.
func TestPassThroughSemantics(t *testing.T) {
	tr, _ := NewProvider(provider.Deps{}).Translator(deployment(""), api.EndpointChatCompletions, "gpt")
	tr.Request([]byte(`{"model":"gpt","stream":true,"messages":[]}`))
	out, _ := tr.StreamEvent(nil, sse.Event{Data: []byte(`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}`), Raw: []byte("data: x\n\n")})
	if len(out) != 0 || tr.Usage().OutputTokens != 4 {
		t.Fatalf("usage chunk %q, usage %+v", out, tr.Usage())
	}
	err := tr.Error(429, []byte(`{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded call rate limit"}}`))
	if api.Status(err) != 429 {
		t.Fatalf("error %v", err)
	}
	err = tr.Error(400, []byte(`{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`))
	if e := err.(*api.Error); e.Code != "context_length_exceeded" || api.Status(err) != 400 {
		t.Fatalf("error %+v", e)
	}
}
