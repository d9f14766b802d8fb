// Package azure speaks to Azure OpenAI: the OpenAI protocol on deployment
// paths (/openai/deployments/{deployment}/chat/completions?api-version=...),
// authenticated with an api-key header or an Entra ID bearer token.
//
// Everything but the path and the auth header is the OpenAI translator's:
// the translator here wraps it, so usage reading, stream_options and error
// mapping are the same, and every client protocol the OpenAI translator
// learns (Anthropic Messages among them) reaches Azure too.
//
// The deployment is the upstream model name, after the AIBackend's
// modelMap. With api-version "v1" Sluice uses Azure's version-less v1 API
// (/openai/v1/chat/completions, the model named in the body) instead.
package azure

import (
	"net/http"
	"net/url"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider/openai"
)

// DefaultAPIVersion is the api-version sent when the AIBackend sets none:
// the latest generally available data-plane version when this was written.
const DefaultAPIVersion = "2024-10-21"

// Translator is the OpenAI translator on Azure's paths and auth.
type Translator struct {
	*openai.Translator
	deployment string
	version    string
	bearer     bool
}

// New returns the translator for endpoint ep. upstream is the deployment;
// version the api-version (DefaultAPIVersion when empty); bearer says the
// credential is an Entra ID token rather than an API key.
func New(ep api.Endpoint, client, upstream, version string, bearer bool) (*Translator, error) {
	inner, err := openai.New(ep, client, upstream)
	if err != nil {
		return nil, err
	}
	if version == "" {
		version = DefaultAPIVersion
	}
	return &Translator{Translator: inner, deployment: upstream, version: version, bearer: bearer}, nil
}

// Request is the OpenAI request on the deployment's path.
func (t *Translator) Request(body []byte) (string, []byte, error) {
	p, out, err := t.Translator.Request(body)
	if err != nil {
		return "", nil, err
	}
	if t.version == "v1" {
		return "/openai/v1" + p, out, nil
	}
	return "/openai/deployments/" + url.PathEscape(t.deployment) + p + "?api-version=" + url.QueryEscape(t.version), out, nil
}

// Header sets the api-key header, or Authorization: Bearer for a token.
func (t *Translator) Header(h http.Header, credential string) {
	h.Set("Content-Type", "application/json")
	if credential == "" {
		return
	}
	if t.bearer {
		h.Set("Authorization", "Bearer "+credential)
		return
	}
	h.Set("api-key", credential)
}
