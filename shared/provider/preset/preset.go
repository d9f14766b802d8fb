// Package preset names the providers an AIBackend's spec.provider may give:
// the protocols Sluice speaks, and OpenAI-compatible services known by name,
// each with the base URL used when the AIBackend sets no endpoint. It is
// the one place provider names are spelled: validation, the provider
// registry and the local process's mocks all read them here.
package preset

import "strings"

// Protocol families, each also the name of its own preset.
const (
	OpenAI      = "openai"       // OpenAI Chat Completions, bearer auth
	AzureOpenAI = "azure-openai" // OpenAI on Azure deployment paths, api-key or Entra ID bearer
	Gemini      = "gemini"       // Google's Gemini API, x-goog-api-key
	VertexAI    = "vertex-ai"    // Gemini on Vertex AI, OAuth bearer token
	Anthropic   = "anthropic"    // Anthropic Messages, x-api-key
	Bedrock     = "bedrock"      // Amazon Bedrock Converse, SigV4 (or a Bedrock API key)
)

// Preset is one provider name.
type Preset struct {
	Name     string
	Protocol string // the family Sluice speaks to it
	Endpoint string // default base URL; empty: the AIBackend must set one
}

// table is kept in the order the README lists it.
var table = []Preset{
	{OpenAI, OpenAI, "https://api.openai.com/v1"},
	{Anthropic, Anthropic, "https://api.anthropic.com/v1"},
	{Bedrock, Bedrock, ""}, // Bedrock Runtime in spec.region, else the gateway's region
	{AzureOpenAI, AzureOpenAI, ""},
	{Gemini, Gemini, "https://generativelanguage.googleapis.com/v1beta"},
	{VertexAI, VertexAI, ""},
	{"vllm", OpenAI, ""},
	{"ollama", OpenAI, ""},
	{"deepseek", OpenAI, "https://api.deepseek.com/v1"},
	{"groq", OpenAI, "https://api.groq.com/openai/v1"},
	{"mistral", OpenAI, "https://api.mistral.ai/v1"},
	{"together", OpenAI, "https://api.together.xyz/v1"},
	{"fireworks", OpenAI, "https://api.fireworks.ai/inference/v1"},
	{"openrouter", OpenAI, "https://openrouter.ai/api/v1"},
	{"xai", OpenAI, "https://api.x.ai/v1"},
	{"dashscope", OpenAI, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"},
	{"moonshot", OpenAI, "https://api.moonshot.ai/v1"},
}

// Lookup finds a provider name.
func Lookup(name string) (Preset, bool) {
	for _, p := range table {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// All lists every preset, in the README's order.
func All() []Preset { return append([]Preset(nil), table...) }

// Names lists the provider names, comma separated, for error messages.
func Names() string {
	names := make([]string, len(table))
	for i, p := range table {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
