// Package azure speaks to Azure OpenAI: the OpenAI protocol on deployment
// paths (/openai/deployments/{deployment}/chat/completions?api-version=...),
// authenticated with an api-key header or an Entra ID bearer token.
//
// Only addressing and auth are Azure's: the translators are the OpenAI
// protocol family's own, so usage reading, stream_options and error mapping
// are the same, and every client protocol OpenAI's translators learn
// (Anthropic Messages among them) reaches Azure too.
//
// The deployment is the upstream model name, after the AIBackend's
// modelMap. With api-version "v1" Sluice uses Azure's version-less v1 API
// (/openai/v1/chat/completions, the model named in the body) instead.
package azure

import (
	"net/http"
	"net/url"

	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/openai"
	"github.com/sluicegw/sluice/shared/route"
)

// DefaultAPIVersion is the api-version sent when the AIBackend sets none:
// the latest generally available data-plane version when this was written.
const DefaultAPIVersion = "2024-10-21"

// Provider is the OpenAI protocol family on Azure's paths and auth.
type Provider struct {
	openai.Provider // the translators
}

// NewProvider returns Azure OpenAI; it needs none of deps.
func NewProvider(provider.Deps) provider.Provider { return Provider{} }

// URL puts the OpenAI path under the backend's deployment, with its
// api-version (spec.apiVersion, DefaultAPIVersion when empty).
func (Provider) URL(b *route.Backend, model, path string) (string, error) {
	version := b.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	if version == "v1" {
		return b.Endpoint + "/openai/v1" + path, nil
	}
	return b.Endpoint + "/openai/deployments/" + url.PathEscape(b.UpstreamModel(model)) + path + "?api-version=" + url.QueryEscape(version), nil
}

// Authorize sets the api-key header, or Authorization: Bearer for an
// Entra ID token (credentialRef.type bearer).
func (Provider) Authorize(h http.Header, b *route.Backend, credential string) {
	switch {
	case credential == "":
	case b.CredentialType == "bearer":
		h.Set("Authorization", "Bearer "+credential)
	default:
		h.Set("api-key", credential)
	}
}

var _ provider.Provider = Provider{}
