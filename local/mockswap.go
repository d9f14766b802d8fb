package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider/bedrock"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
)

// mockPaths is where the mock server serves each provider protocol, under
// its URL; other protocols get the OpenAI mock at /v1.
var mockPaths = map[string]string{
	preset.Anthropic: "/anthropic/v1",
	preset.Gemini:    "/gemini/v1beta",
	preset.VertexAI:  "/gemini/v1/projects/mock/locations/us-central1/publishers/google",
	preset.Bedrock:   "", // Bedrock Runtime paths start at the root
}

// mockProviders serves every mock provider on one server, at mockPaths.
func mockProviders() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/anthropic/", http.StripPrefix("/anthropic", &mock.Anthropic{}))
	mux.Handle("/gemini/", http.StripPrefix("/gemini", &mock.Gemini{}))
	mux.Handle("/model/", &mock.Bedrock{}) // Bedrock Runtime paths start at the root
	// Azure's deployment paths end as OpenAI's do: the OpenAI mock serves them.
	mux.Handle("/", &mock.OpenAI{})
	return mux
}

// mockSwap chooses, in each route table the local gateway loads, the AI
// backends a mock provider stands in for: those whose credential is not
// configured and whose endpoint is a provider's public API. So `make local`
// answers offline whatever stored the table (its own apply, `sluice
// apply`, a rollback), while a backend at an endpoint of the user's own (a
// local vLLM or Ollama) is always reached for real.
type mockSwap struct {
	url   string // the mock providers' server
	creds gateway.Credentials
	aws   bool // AWS credentials are configured: Bedrock is reached for real
	log   *slog.Logger

	mu   sync.Mutex
	last []mocked // in the newest table swapped
}

// mocked is a backend a mock provider serves, and why.
type mocked struct{ backend, why string }

func (m mocked) String() string { return m.backend + ": " + m.why }

// swap points t's backends that cannot be reached for want of a credential
// at the mock providers, in place, and logs the backends whose mocking
// changed since the last table. t must be freshly loaded: nothing else
// may hold it yet.
func (m *mockSwap) swap(t *route.Table) []mocked {
	var out []mocked
	for i := range t.Backends {
		b := &t.Backends[i]
		why := m.reason(b)
		if why == "" {
			continue
		}
		p, _ := preset.Lookup(b.Provider)
		path, ok := mockPaths[p.Protocol]
		if !ok {
			path = "/v1"
		}
		b.Endpoint = m.url + path
		b.Credential, b.CredentialType = "", ""
		if p.Protocol == preset.Bedrock && b.Region == "" {
			b.Region = "us-east-1" // the mock checks the signature names some region
		}
		out = append(out, mocked{b.Name, why})
	}
	m.mu.Lock()
	last := m.last
	m.last = out
	m.mu.Unlock()
	for _, x := range out {
		if !slices.Contains(last, x) {
			m.log.Warn("backend served by the mock provider", "backend", x.backend, "why", x.why, "table_version", t.Version)
		}
	}
	for _, x := range last {
		if !slices.ContainsFunc(out, func(y mocked) bool { return y.backend == x.backend }) {
			m.log.Info("backend no longer served by the mock provider", "backend", x.backend, "table_version", t.Version)
		}
	}
	return out
}

// current is the mocked backends of the newest table swapped.
func (m *mockSwap) current() []mocked {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// reason says why b is to be served by a mock provider, or "" when it is
// reached for real.
func (m *mockSwap) reason(b *route.Backend) string {
	if b.Kind != "" && b.Kind != route.KindAIBackend || !publicEndpoint(b.Provider, b.Endpoint) {
		return ""
	}
	p, _ := preset.Lookup(b.Provider)
	_, haveCred := m.creds.Credential(b.Credential)
	if p.Protocol == preset.Bedrock {
		// A Bedrock API key, or else AWS credentials to sign with.
		if b.Credential != "" && haveCred || m.aws {
			return ""
		}
		if b.Credential != "" {
			return gateway.CredentialEnvName(b.Credential) + " is not set and no AWS credentials are configured"
		}
		return "no AWS credentials are configured"
	}
	if b.Credential == "" || haveCred {
		return ""
	}
	return gateway.CredentialEnvName(b.Credential) + " is not set"
}

// publicEndpoint reports whether endpoint is a provider's public API: the
// default of a provider name (any of them: an example may reach Groq as
// provider openai), or the per-account hosts of the clouds' own services.
// An empty endpoint is the provider's default, resolved per request.
func publicEndpoint(provider, endpoint string) bool {
	if endpoint == "" {
		return true
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	for _, p := range preset.All() {
		if d, err := url.Parse(p.Endpoint); err == nil && p.Endpoint != "" && d.Hostname() == host {
			return true
		}
	}
	switch p, _ := preset.Lookup(provider); p.Protocol {
	case preset.Bedrock:
		return bedrock.RegionOf(endpoint) != ""
	case preset.AzureOpenAI:
		return strings.HasSuffix(host, ".openai.azure.com") || strings.HasSuffix(host, ".cognitiveservices.azure.com") ||
			strings.HasSuffix(host, ".services.ai.azure.com")
	case preset.VertexAI:
		return host == "aiplatform.googleapis.com" || strings.HasSuffix(host, "-aiplatform.googleapis.com")
	}
	return false
}

// mockedTables is the gateway's TableStore in the local process: every
// table it loads has been through the mock swap.
type mockedTables struct {
	gateway.TableStore
	mocks *mockSwap
}

// LatestTable loads the newest table and swaps in the mock providers.
func (m mockedTables) LatestTable(ctx context.Context) (*route.Table, error) {
	t, err := m.TableStore.LatestTable(ctx)
	if t != nil && err == nil {
		m.mocks.swap(t)
	}
	return t, err
}

// placeholderAWS signs the requests of mocked Bedrock backends when no AWS
// credentials are configured: the mock checks a signature's form, not its
// key.
func placeholderAWS() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: placeholderKeyID, SecretAccessKey: placeholderSecret, Source: "sluice local mock providers"}, nil
	})
}

const placeholderKeyID, placeholderSecret = "SLUICELOCALMOCK", "sluice-local-mock"

// awsCredentials reports whether the SDK's default chain has something to
// load locally: env keys, a profile, web identity or a shared file.
func awsCredentials() bool {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	for _, f := range []string{os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config")} {
		if _, err := os.Stat(f); f != "" && err == nil {
			return true
		}
	}
	return false
}
