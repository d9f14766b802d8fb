// Package gatewayapi reads Gateway API manifests (and Sluice's own kinds),
// checks them as a Gateway API implementation would, and compiles them into
// the route table the gateway matches against.
package gatewayapi

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group and version of Sluice's own kinds.
const (
	SluiceGroup      = "sluice.dev"
	SluiceAPIVersion = "sluice.dev/v1alpha1"
	GatewayGroup     = "gateway.networking.k8s.io"
	ControllerName   = "sluice.dev/gateway-controller"
)

// AIBackend declares a model provider endpoint: its protocol, base URL,
// the name of its credential (never the credential itself) and models.
type AIBackend struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AIBackendSpec `json:"spec"`
}

// AIBackendSpec is the desired state of an AIBackend.
type AIBackendSpec struct {
	// Provider is the protocol the backend speaks ("openai", "anthropic",
	// "bedrock", "azure-openai", "gemini", "vertex-ai") or an
	// OpenAI-compatible service known by name ("groq", "deepseek"...): see
	// shared/provider/preset.
	Provider string `json:"provider"`
	// Endpoint is the base URL requests are sent under, e.g.
	// https://api.openai.com/v1. A provider with a default base URL may
	// leave it out; bedrock defaults to
	// https://bedrock-runtime.<region>.amazonaws.com.
	Endpoint string `json:"endpoint,omitempty"`
	// Region is the AWS region of a bedrock backend: requests are signed
	// for it and the default endpoint is in it. Empty: the region of the
	// endpoint's host, else the gateway's own (AWS_REGION where it runs).
	Region string `json:"region,omitempty"`
	// APIVersion is Azure OpenAI's api-version query parameter
	// (default 2024-10-21; "v1" selects Azure's version-less v1 API).
	APIVersion string `json:"apiVersion,omitempty"`
	// CredentialRef names the credential: a key of the provider secret in
	// AWS, SLUICE_CREDENTIAL_<NAME> in the local process.
	CredentialRef *CredentialRef `json:"credentialRef,omitempty"`
	// Models lists the models this backend serves, for /v1/models.
	Models []string `json:"models,omitempty"`
	// ModelMap renames client model names to the provider's names.
	ModelMap map[string]string `json:"modelMap,omitempty"`
	// MaxConcurrency bounds the requests in flight to this backend from one
	// gateway instance; zero means no bound. An InferencePool is saturated
	// when every member is at its bound.
	MaxConcurrency int `json:"maxConcurrency,omitempty"`
}

// CredentialRef names a credential.
type CredentialRef struct {
	Name string `json:"name"`
	// Type is how the credential is sent: "apiKey" (the default: the
	// provider's key header) or "bearer" (an OAuth/Entra ID token sent as
	// Authorization: Bearer: Entra ID for azure-openai, OAuth for gemini;
	// vertex-ai always takes a bearer token).
	Type string `json:"type,omitempty"`
}
