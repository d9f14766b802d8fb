package gatewayapi

import (
	"strings"
	"testing"
)

// TestProviderPresets: a named OpenAI-compatible provider, gemini and
// azure-openai are accepted; presets fill in their base URL; unknown
// providers and missing endpoints are refused with a clear message.
func TestProviderPresets(t *testing.T) {
	backend := func(name, spec string) string {
		return "apiVersion: sluice.dev/v1alpha1\nkind: AIBackend\nmetadata:\n  name: " + name + "\n  namespace: default\nspec:\n" + spec + "---\n"
	}
	tests := []struct {
		name, spec   string
		wantEndpoint string
		wantProblem  string
	}{
		{"groq preset", "  provider: groq\n", "https://api.groq.com/openai/v1", ""},
		{"gemini default", "  provider: gemini\n", "https://generativelanguage.googleapis.com/v1beta", ""},
		{"explicit endpoint wins", "  provider: deepseek\n  endpoint: https://proxy.example/v1/\n", "https://proxy.example/v1", ""},
		{"azure", "  provider: azure-openai\n  endpoint: https://res.openai.azure.com\n  apiVersion: 2025-04-01-preview\n  credentialRef: {name: az, type: bearer}\n", "https://res.openai.azure.com", ""},
		{"azure needs endpoint", "  provider: azure-openai\n", "", `spec.endpoint: required: provider "azure-openai" has no default base URL`},
		{"vertex needs endpoint", "  provider: vertex-ai\n", "", `spec.endpoint: required: provider "vertex-ai" has no default base URL`},
		{"vllm needs endpoint", "  provider: vllm\n", "", `spec.endpoint: required: provider "vllm" has no default base URL`},
		{"unknown", "  provider: pigeon\n", "", `unknown provider "pigeon" (known: openai, anthropic, bedrock, azure-openai, gemini, vertex-ai, vllm`},
		{"apiVersion outside azure", "  provider: openai\n  apiVersion: x\n", "", "spec.apiVersion: only azure-openai backends take an api-version"},
		{"vertex bearer", "  provider: gemini\n  endpoint: https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google\n  credentialRef: {name: g, type: bearer}\n", "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google", ""},
		{"vertex with an API key", "  provider: vertex-ai\n  endpoint: https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google\n  credentialRef: {name: g, type: apiKey}\n", "", "vertex-ai takes an OAuth access token"},
		{"bad credential type", "  provider: gemini\n  credentialRef: {name: g, type: oauth}\n", "", "spec.credentialRef.type: must be apiKey or bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, probs := Validate(map[string][]byte{"b.yaml": []byte(backend("b", tt.spec))})
			var msgs []string
			for _, p := range probs {
				msgs = append(msgs, p.String())
			}
			all := strings.Join(msgs, "\n")
			if tt.wantProblem != "" {
				if !strings.Contains(all, tt.wantProblem) {
					t.Fatalf("problems %q, want %q", all, tt.wantProblem)
				}
				return
			}
			if len(probs) > 0 {
				t.Fatalf("problems: %s", all)
			}
			for _, o := range objs {
				if o.Kind == "AIBackend" {
					b := aiBackend(o)
					if b.Endpoint != tt.wantEndpoint {
						t.Fatalf("endpoint %q, want %q", b.Endpoint, tt.wantEndpoint)
					}
				}
			}
		})
	}
}
