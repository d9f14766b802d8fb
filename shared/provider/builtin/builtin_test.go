package builtin

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
)

// TestRegistry: every preset name has a provider; named OpenAI-compatible
// services get the OpenAI translators, the other protocols their own, and
// unknown names are refused.
func TestRegistry(t *testing.T) {
	reg := Registry(provider.Deps{})
	for _, p := range preset.All() {
		if _, err := reg.Lookup(&route.Backend{Provider: p.Name}); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
	}
	tests := []struct {
		provider string
		ep       api.Endpoint
		want     string
	}{
		{"", api.EndpointChatCompletions, "*openai.PassThrough"},
		{"groq", api.EndpointChatCompletions, "*openai.PassThrough"},
		{"dashscope", api.EndpointEmbeddings, "*openai.PassThrough"},
		{"vllm", api.EndpointMessages, "*openai.fromAnthropic"},
		{"anthropic", api.EndpointChatCompletions, "*anthropic.FromOpenAI"},
		{"bedrock", api.EndpointMessages, "*bedrock.fromAnthropic"},
		{"gemini", api.EndpointChatCompletions, "*gemini.FromOpenAI"},
		{"gemini", api.EndpointMessages, "*gemini.FromAnthropic"},
		{"gemini", api.EndpointEmbeddings, "*gemini.Embed"},
		{"azure-openai", api.EndpointChatCompletions, "*openai.PassThrough"},
		{"vertex-ai", api.EndpointMessages, "*gemini.FromAnthropic"},
		{"vertex-ai", api.EndpointEmbeddings, "*gemini.Embed"},
	}
	for _, tt := range tests {
		b := &route.Backend{Name: "b", Provider: tt.provider}
		p, err := reg.Lookup(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.provider, err)
		}
		tr, err := p.Translator(b, tt.ep, "m")
		if err != nil {
			t.Fatalf("%s: %v", tt.provider, err)
		}
		if got := fmt.Sprintf("%T", tr); got != tt.want {
			t.Errorf("%s %v: %s, want %s", tt.provider, tt.ep, got, tt.want)
		}
	}
	if _, err := reg.Lookup(&route.Backend{Name: "b", Provider: "pigeon"}); err == nil {
		t.Fatal("unknown provider accepted")
	}
}

// TestAWSCredentials: the credential chain is loaded when first asked.
func TestAWSCredentials(t *testing.T) {
	creds := AWSCredentials()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLAZY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "lazy-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	c, err := creds.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKIDLAZY" {
		t.Fatalf("credentials %q, %v", c.AccessKeyID, err)
	}
}
