package azure

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(tt.ep, "gpt", "prod-gpt-4o", tt.version, tt.bearer)
			if err != nil {
				t.Fatal(err)
			}
			path, out, err := tr.Request([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath || !strings.Contains(string(out), tt.wantInOut) {
				t.Fatalf("path %s body %s", path, out)
			}
			h := http.Header{}
			tr.Header(h, "secret")
			if h.Get("Authorization") != tt.wantAuth || h.Get("api-key") != tt.wantKey {
				t.Fatalf("headers %v", h)
			}
		})
	}
	if _, err := New(api.EndpointModels, "gpt", "d", "", false); err == nil {
		t.Fatal("an endpoint the OpenAI translator does not serve must be refused")
	}
}

// TestPassThroughSemantics: responses, usage and errors are the OpenAI
// translator's, including hiding the usage chunk Sluice asked for.
func TestPassThroughSemantics(t *testing.T) {
	tr, _ := New(api.EndpointChatCompletions, "gpt", "dep", "", false)
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
