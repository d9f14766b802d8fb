package bedrock

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
)

// DefaultEndpoint is Bedrock Runtime's endpoint in region.
func DefaultEndpoint(region string) string {
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// New returns the translator for a request to endpoint ep; client is the
// model the client named and upstream Bedrock's model id (or ARN). deps
// gives the clock and the ids of translated answers.
func New(ep api.Endpoint, client, upstream string, deps provider.Deps) (provider.Translator, error) {
	deps = deps.WithDefaults()
	b := base{client: client, model: upstream, now: deps.Now, newID: deps.ID}
	switch ep {
	case api.EndpointChatCompletions:
		return &fromOpenAI{base: b}, nil
	case api.EndpointMessages:
		return &fromAnthropic{base: b}, nil
	case api.EndpointEmbeddings:
		return &embedder{base: b}, nil
	}
	return nil, api.Errorf(api.ErrNotFound, "this endpoint is not served by bedrock backends")
}

// base holds what every Bedrock translator shares: names and the clock.
type base struct {
	client, model string
	now           func() time.Time
	newID         func() string
	stream        bool
}

// Header sets the content type, and the Accept header ConverseStream
// answers in AWS's event stream for.
func (b *base) Header(h http.Header) {
	h.Set("Content-Type", "application/json")
	if b.stream {
		h.Set("Accept", "application/vnd.amazon.eventstream")
	} else {
		h.Set("Accept", "application/json")
	}
}

// Error maps a Bedrock error response, keeping its status.
func (b *base) Error(status int, body []byte) error { return upstreamError(status, body) }

// Provider speaks to Bedrock Runtime. A backend with no endpoint is
// reached in its region (spec.region, else the process's); requests are
// signed with SigV4 for the region of the backend, its endpoint's, or the
// process's, unless the backend names a credential: a Bedrock API key, sent
// as a bearer token instead.
type Provider struct {
	deps provider.Deps
}

// NewProvider returns Bedrock, with deps' clock, ids, region and AWS
// credentials.
func NewProvider(deps provider.Deps) provider.Provider {
	return &Provider{deps: deps.WithDefaults()}
}

// Translator returns the translator for a request on endpoint ep.
func (p *Provider) Translator(b *route.Backend, ep api.Endpoint, model string) (provider.Translator, error) {
	return New(ep, model, b.UpstreamModel(model), p.deps)
}

// errNoRegion is the request-time error of a backend whose region nothing
// gives.
var errNoRegion = errors.New("bedrock: no region: set the AIBackend's spec.region or spec.endpoint, or AWS_REGION where the gateway runs")

// URL appends path to the backend's endpoint, or to Bedrock Runtime's in
// the backend's region when it names no endpoint.
func (p *Provider) URL(b *route.Backend, _, path string) (string, error) {
	if b.Endpoint != "" {
		return b.Endpoint + path, nil
	}
	region := b.Region
	if region == "" {
		region = p.deps.Region
	}
	if region == "" {
		return "", errNoRegion
	}
	return DefaultEndpoint(region) + path, nil
}

// Authorize sends a Bedrock API key as "Authorization: Bearer"; without
// one, Sign signs the request.
func (*Provider) Authorize(h http.Header, _ *route.Backend, credential string) {
	if credential != "" {
		h.Set("Authorization", "Bearer "+credential)
	}
}

// signingRegion picks the region a request to b is signed for: the
// backend's, its endpoint's, else the process's.
func (p *Provider) signingRegion(b *route.Backend) string {
	if b.Region != "" {
		return b.Region
	}
	if r := RegionOf(b.Endpoint); r != "" {
		return r
	}
	return p.deps.Region
}

// RegionOf reads the region from a Bedrock Runtime endpoint URL
// (bedrock-runtime.<region>.amazonaws.com, or its -fips form); "" when
// the host is not one.
func RegionOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && strings.HasPrefix(parts[0], "bedrock-runtime") && parts[2] == "amazonaws" {
		return parts[1]
	}
	return ""
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Signer   = (*Provider)(nil)

	_ provider.Translator    = (*fromOpenAI)(nil)
	_ provider.StreamDecoder = (*fromOpenAI)(nil)
	_ provider.StreamEnder   = (*fromOpenAI)(nil)
	_ provider.EventCounter  = (*fromOpenAI)(nil)

	_ provider.Translator    = (*fromAnthropic)(nil)
	_ provider.StreamDecoder = (*fromAnthropic)(nil)
	_ provider.StreamEnder   = (*fromAnthropic)(nil)
	_ provider.EventCounter  = (*fromAnthropic)(nil)

	_ provider.Translator = (*embedder)(nil)
	_ provider.Fanout     = (*embedder)(nil)

	_ provider.EventReader = (*EventReader)(nil)
)
