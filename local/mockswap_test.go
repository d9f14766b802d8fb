package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/route"
)

// TestMockSwap: in a table being loaded, backends whose credential is not
// configured and whose endpoint is a provider's public API point at the
// mock of their protocol, credential dropped; a backend at an endpoint of
// one's own, or with its credential set, is left as it is.
func TestMockSwap(t *testing.T) {
	const mockURL = "http://127.0.0.1:9"
	tests := []struct {
		name   string
		b      route.Backend
		aws    bool   // AWS credentials configured
		want   string // the endpoint after the swap
		why    string // empty: not mocked
		region string // after the swap, when it matters
	}{
		{"OpenAI, no credential", route.Backend{Provider: "openai", Endpoint: "https://api.openai.com/v1", Credential: "openai"}, false,
			mockURL + "/v1", "SLUICE_CREDENTIAL_OPENAI is not set", ""},
		{"OpenAI, credential set", route.Backend{Provider: "openai", Endpoint: "https://api.openai.com/v1", Credential: "set"}, false,
			"https://api.openai.com/v1", "", ""},
		{"Groq through provider openai", route.Backend{Provider: "openai", Endpoint: "https://api.groq.com/openai/v1", Credential: "groq"}, false,
			mockURL + "/v1", "SLUICE_CREDENTIAL_GROQ is not set", ""},
		{"preset name", route.Backend{Provider: "together", Endpoint: "https://api.together.xyz/v1", Credential: "together"}, false,
			mockURL + "/v1", "SLUICE_CREDENTIAL_TOGETHER is not set", ""},
		{"local vLLM", route.Backend{Provider: "vllm", Endpoint: "http://127.0.0.1:8000/v1", Credential: "vllm"}, false,
			"http://127.0.0.1:8000/v1", "", ""},
		{"local Ollama as provider openai", route.Backend{Provider: "openai", Endpoint: "http://localhost:11434/v1", Credential: "openai"}, false,
			"http://localhost:11434/v1", "", ""},
		{"a proxy of one's own", route.Backend{Provider: "anthropic", Endpoint: "https://llm.corp.example/anthropic/v1", Credential: "anthropic"}, false,
			"https://llm.corp.example/anthropic/v1", "", ""},
		{"no credential asked", route.Backend{Provider: "openai", Endpoint: "https://api.openai.com/v1"}, false,
			"https://api.openai.com/v1", "", ""},
		{"Anthropic", route.Backend{Provider: "anthropic", Endpoint: "https://api.anthropic.com/v1", Credential: "anthropic"}, false,
			mockURL + "/anthropic/v1", "SLUICE_CREDENTIAL_ANTHROPIC is not set", ""},
		{"Gemini", route.Backend{Provider: "gemini", Endpoint: "https://generativelanguage.googleapis.com/v1beta", Credential: "gemini-key"}, false,
			mockURL + "/gemini/v1beta", "SLUICE_CREDENTIAL_GEMINI_KEY is not set", ""},
		{"Vertex AI", route.Backend{Provider: "vertex-ai", Endpoint: "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google", Credential: "vertex"}, false,
			mockURL + "/gemini/v1/projects/mock/locations/us-central1/publishers/google", "SLUICE_CREDENTIAL_VERTEX is not set", ""},
		{"Azure OpenAI resource", route.Backend{Provider: "azure-openai", Endpoint: "https://res.openai.azure.com", Credential: "azure-key"}, false,
			mockURL + "/v1", "SLUICE_CREDENTIAL_AZURE_KEY is not set", ""},
		{"Azure OpenAI behind one's own proxy", route.Backend{Provider: "azure-openai", Endpoint: "https://gw.corp.example/azure", Credential: "azure-key"}, false,
			"https://gw.corp.example/azure", "", ""},
		{"Bedrock, no AWS credentials", route.Backend{Provider: "bedrock"}, false,
			mockURL, "no AWS credentials are configured", "us-east-1"},
		{"Bedrock in a region", route.Backend{Provider: "bedrock", Region: "eu-west-1"}, false,
			mockURL, "no AWS credentials are configured", "eu-west-1"},
		{"Bedrock Runtime endpoint", route.Backend{Provider: "bedrock", Endpoint: "https://bedrock-runtime.eu-west-1.amazonaws.com"}, false,
			mockURL, "no AWS credentials are configured", "us-east-1"},
		{"Bedrock API key unset", route.Backend{Provider: "bedrock", Credential: "bedrock-key"}, false,
			mockURL, "SLUICE_CREDENTIAL_BEDROCK_KEY is not set and no AWS credentials are configured", "us-east-1"},
		{"Bedrock API key set", route.Backend{Provider: "bedrock", Credential: "set"}, false,
			"", "", ""},
		{"Bedrock with AWS credentials", route.Backend{Provider: "bedrock"}, true,
			"", "", ""},
		{"Bedrock-compatible server of one's own", route.Backend{Provider: "bedrock", Endpoint: "http://localhost:4566"}, false,
			"http://localhost:4566", "", ""},
		{"a Service", route.Backend{Kind: route.KindService, Endpoint: "https://api.openai.com", Credential: "openai"}, false,
			"https://api.openai.com", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			b.Name = "ns/b"
			cred := b.Credential
			table := &route.Table{Version: 3, Backends: []route.Backend{b}}
			m := &mockSwap{url: mockURL, creds: gateway.CredentialMap{"set": "v"}, aws: tt.aws, log: slog.New(slog.DiscardHandler)}
			got := m.swap(table)
			after := table.Backends[0]
			if after.Endpoint != tt.want {
				t.Errorf("endpoint %q, want %q", after.Endpoint, tt.want)
			}
			switch {
			case tt.why == "" && len(got) != 0:
				t.Errorf("mocked: %v", got)
			case tt.why != "" && (len(got) != 1 || got[0] != mocked{"ns/b", tt.why}):
				t.Errorf("mocked %v, want [ns/b: %s]", got, tt.why)
			}
			if tt.region != "" && after.Region != tt.region {
				t.Errorf("region %q, want %q", after.Region, tt.region)
			}
			if want := map[bool]string{true: "", false: cred}[tt.why != ""]; after.Credential != want {
				t.Errorf("credential %q, want %q", after.Credential, want)
			}
		})
	}
}

// TestMockSwapLogsChanges: each load logs the backends that became mocked
// and those no longer mocked, and nothing when the set is the same.
func TestMockSwapLogsChanges(t *testing.T) {
	var logs bytes.Buffer
	m := &mockSwap{url: "http://mock", creds: gateway.CredentialMap{}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	table := func(v int64, names ...string) *route.Table {
		t := &route.Table{Version: v}
		for _, n := range names {
			t.Backends = append(t.Backends, route.Backend{Name: n, Provider: "openai", Endpoint: "https://api.openai.com/v1", Credential: "openai"})
		}
		return t
	}
	m.swap(table(1, "a/x"))
	m.swap(table(2, "a/x"))
	m.swap(table(3, "a/y"))
	got := logs.String()
	for _, want := range []string{
		`msg="backend served by the mock provider" backend=a/x why="SLUICE_CREDENTIAL_OPENAI is not set" table_version=1`,
		`msg="backend served by the mock provider" backend=a/y why="SLUICE_CREDENTIAL_OPENAI is not set" table_version=3`,
		`msg="backend no longer served by the mock provider" backend=a/x table_version=3`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "table_version=2") {
		t.Errorf("an unchanged set was logged:\n%s", got)
	}
	if cur := m.current(); len(cur) != 1 || cur[0].backend != "a/y" {
		t.Errorf("current %v", cur)
	}
}

// TestMockProvidersServeSwappedEndpoints: the mock server answers each
// protocol where the swap points its backends.
func TestMockProvidersServeSwappedEndpoints(t *testing.T) {
	srv := httptest.NewServer(mockProviders())
	defer srv.Close()
	m := &mockSwap{url: srv.URL, creds: gateway.CredentialMap{}, log: slog.New(slog.DiscardHandler)}
	table := &route.Table{Backends: []route.Backend{
		{Name: "a/anthropic", Provider: "anthropic", Endpoint: "https://api.anthropic.com/v1", Credential: "anthropic"},
		{Name: "a/openai", Provider: "openai", Endpoint: "https://api.openai.com/v1", Credential: "openai"},
		{Name: "a/gemini", Provider: "gemini", Endpoint: "https://generativelanguage.googleapis.com/v1beta", Credential: "gemini"},
	}}
	if got := m.swap(table); len(got) != 3 {
		t.Fatalf("mocked %v", got)
	}
	post := func(url, body string, h map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(table.Backends[0].Endpoint+"/messages", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"anthropic-version": "2023-06-01"})
	if status != 200 || !strings.Contains(body, `"type":"message"`) {
		t.Fatalf("anthropic mock: %d %s", status, body)
	}
	status, body = post(table.Backends[1].Endpoint+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, nil)
	if status != 200 || !strings.Contains(body, `"chat.completion"`) {
		t.Fatalf("openai mock: %d %s", status, body)
	}
	status, body = post(table.Backends[2].Endpoint+"/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
		map[string]string{"x-goog-api-key": "k"})
	if status != 200 || !strings.Contains(body, `"candidates"`) {
		t.Fatalf("gemini mock: %d %s", status, body)
	}
}
