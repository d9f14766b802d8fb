package provider

import (
	"fmt"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/route"
)

// TestForPresetsGeminiAzure: named OpenAI-compatible services get the
// OpenAI translator; gemini and azure-openai their own; unknown names fail.
func TestForPresetsGeminiAzure(t *testing.T) {
	tests := []struct {
		provider string
		ep       api.Endpoint
		want     string
	}{
		{"groq", api.EndpointChatCompletions, "*openai.Translator"},
		{"dashscope", api.EndpointEmbeddings, "*openai.Translator"},
		{"vllm", api.EndpointChatCompletions, "*openai.Translator"},
		{"gemini", api.EndpointChatCompletions, "*gemini.FromOpenAI"},
		{"gemini", api.EndpointMessages, "*gemini.FromAnthropic"},
		{"gemini", api.EndpointEmbeddings, "*gemini.Embed"},
		{"azure-openai", api.EndpointChatCompletions, "*azure.Translator"},
		{"vertex-ai", api.EndpointMessages, "*gemini.FromAnthropic"},
		{"vertex-ai", api.EndpointEmbeddings, "*gemini.Embed"},
	}
	for _, tt := range tests {
		tr, err := For(&route.Backend{Name: "b", Provider: tt.provider}, tt.ep, "m")
		if err != nil {
			t.Fatalf("%s: %v", tt.provider, err)
		}
		if got := fmt.Sprintf("%T", tr); got != tt.want {
			t.Fatalf("%s: %s, want %s", tt.provider, got, tt.want)
		}
	}
	if _, err := For(&route.Backend{Name: "b", Provider: "pigeon"}, api.EndpointChatCompletions, "m"); err == nil {
		t.Fatal("unknown provider accepted")
	}
}
