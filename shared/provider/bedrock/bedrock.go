package bedrock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/sse"
)

// Translator is provider.Translator, declared here so the package does
// not import its consumer; provider checks the two stay the same.
type Translator interface {
	Request(body []byte) (path string, out []byte, err error)
	Header(h http.Header, credential string)
	Response(body []byte) ([]byte, error)
	StreamEvent(dst []byte, ev sse.Event) ([]byte, error)
	StreamError(dst []byte, err error) []byte
	Error(status int, body []byte) error
	Usage() api.Usage
}

// Abilities are the optional provider abilities every Bedrock translator
// has: provider.Signer, provider.StreamDecoder and provider.StreamEnder.
type Abilities interface {
	Sign(ctx context.Context, req *http.Request, body []byte) error
	NewEventReader(body io.Reader) interface{ Next() (sse.Event, error) }
	StreamEnd(dst []byte) ([]byte, error)
}

// Config is what a translator needs besides the request. Zero fields take
// the defaults documented on each.
type Config struct {
	// Endpoint is the backend's base URL; the signing region is read from
	// it when Region is empty (bedrock-runtime.<region>.amazonaws.com).
	Endpoint string
	// Region signs requests; empty: from Endpoint, then AWS_REGION, then
	// AWS_DEFAULT_REGION.
	Region string
	// Credentials sign requests; nil: DefaultCredentials, the SDK's chain
	// (the Lambda role's in AWS, env or profile credentials locally).
	Credentials aws.CredentialsProvider
	// Now is the clock for signatures and "created" fields; nil: time.Now.
	Now func() time.Time
	// ID makes response ids; nil: random hex.
	ID func() string
}

// DefaultEndpoint is Bedrock Runtime's endpoint in region.
func DefaultEndpoint(region string) string {
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// New returns the translator for a request to endpoint ep; client is the
// model the client named and upstream Bedrock's model id (or ARN).
func New(ep api.Endpoint, client, upstream string, cfg Config) (Translator, error) {
	b := newBase(client, upstream, cfg)
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

// base holds what every Bedrock translator shares: names, signing and
// the clock.
type base struct {
	client, model string
	signer        signer
	now           func() time.Time
	newID         func() string
	stream        bool
	bearer        bool // a Bedrock API key authenticates instead of SigV4
}

func newBase(client, upstream string, cfg Config) base {
	b := base{client: client, model: upstream, now: cfg.Now, newID: cfg.ID}
	if b.now == nil {
		b.now = time.Now
	}
	if b.newID == nil {
		b.newID = randomID
	}
	b.signer = signer{region: signingRegion(cfg), creds: cfg.Credentials, now: b.now}
	return b
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// signingRegion picks the region requests are signed for.
func signingRegion(cfg Config) string {
	if cfg.Region != "" {
		return cfg.Region
	}
	if r := RegionOf(cfg.Endpoint); r != "" {
		return r
	}
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return os.Getenv("AWS_DEFAULT_REGION")
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

// Header sets the content type and, when the backend names a credential,
// Bedrock API-key (bearer) auth, which then replaces SigV4.
func (b *base) Header(h http.Header, credential string) {
	h.Set("Content-Type", "application/json")
	h.Set("Accept", b.accept())
	if credential != "" {
		h.Set("Authorization", "Bearer "+credential)
		b.bearer = true
	}
}

func (b *base) accept() string {
	if b.stream {
		return "application/vnd.amazon.eventstream"
	}
	return "application/json"
}

// Error maps a Bedrock error response, keeping its status.
func (b *base) Error(status int, body []byte) error { return upstreamError(status, body) }

var (
	_ Abilities = (*fromOpenAI)(nil)
	_ Abilities = (*fromAnthropic)(nil)
	_ Abilities = (*embedder)(nil)
)
