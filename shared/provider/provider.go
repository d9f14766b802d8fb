// Package provider is the contract between the gateway and model providers.
// One Translator per request converts the client's protocol to a backend's
// and back; a Provider makes those translators for one protocol family and
// addresses and authenticates what is sent, apart from the schema. Optional
// abilities are one-method interfaces the gateway finds by type assertion.
//
// One sub-package per protocol family implements the contract and imports
// this one; nothing here imports them. The mains build the Registry (package
// builtin) with the dependencies they resolved, and the gateway looks the
// backend's provider up in it: it never names a provider.
package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

// Translator converts one exchange between the client's schema and the
// provider's. A value serves one request and is not safe for concurrent
// use; stream state lives in it.
type Translator interface {
	// Request returns the path (for the Provider to address) and the body
	// to send upstream for the client's body.
	Request(body []byte) (path string, out []byte, err error)
	// Header sets the protocol's headers on the upstream request (content
	// type, API version, Accept); never credentials, which are the
	// Provider's.
	Header(h http.Header)
	// Response translates a complete non-streaming response body.
	Response(body []byte) ([]byte, error)
	// StreamEvent appends to dst what the client must receive for one
	// upstream event; nothing, if the event has no client counterpart.
	StreamEvent(dst []byte, ev sse.Event) ([]byte, error)
	// StreamError appends the client-protocol error event that ends a stream
	// which failed after its first byte.
	StreamError(dst []byte, err error) []byte
	// Error turns an upstream error response into a client-safe error.
	Error(status int, body []byte) error
	// Usage is what the provider has reported so far for this exchange:
	// after Response, or after the stream's last event (or its cut).
	Usage() api.Usage
}

// Upstream is how a protocol family's requests reach a backend: the URL a
// translated request goes to, and how the backend's credential is sent.
// Kept apart from Translator so that one schema serves several addressing
// and auth schemes (OpenAI's on Azure's deployment paths, Gemini's on
// Vertex AI).
type Upstream interface {
	// URL is the address of a request the translator addressed to path, on
	// backend b, for the model the client named.
	URL(b *route.Backend, model, path string) (string, error)
	// Authorize sets credential on h the way backend b takes it; an empty
	// credential sets nothing.
	Authorize(h http.Header, b *route.Backend, credential string)
}

// Provider is one protocol family: it makes each request's Translator and
// is the Upstream of what they send. One value serves every request and
// is safe for concurrent use.
type Provider interface {
	Upstream
	// Translator returns the translator for a request that came in on
	// endpoint ep for model (the client's name) and goes to backend b.
	Translator(b *route.Backend, ep api.Endpoint, model string) (Translator, error)
}

// Signer is implemented by providers that authenticate a request by
// signing it (Bedrock's SigV4). The gateway calls Sign last, once every
// header is set, with the exact body it sends.
type Signer interface {
	Sign(ctx context.Context, req *http.Request, b *route.Backend, body []byte) error
}

// EventReader reads a provider's stream one event at a time. *sse.Reader is
// one; Bedrock's binary event stream has its own.
type EventReader interface {
	Next() (sse.Event, error)
}

// Buffered is implemented by event readers that can tell whether their
// next event is already read from the network (*sse.Reader). The gateway
// then writes events that arrived together in one write.
type Buffered interface {
	Ready() bool
}

// The server-sent events reader, which cannot import this package.
var (
	_ EventReader = (*sse.Reader)(nil)
	_ Buffered    = (*sse.Reader)(nil)
)

// StreamDecoder is implemented by translators whose provider streams in a
// framing other than server-sent events. The gateway then reads the
// upstream body with the EventReader it returns, whatever its content type.
type StreamDecoder interface {
	NewEventReader(body io.Reader) EventReader
}

// StreamEnder is implemented by translators that must close the client's
// stream themselves (OpenAI's "data: [DONE]", Anthropic's message_stop)
// or that can tell a cut stream from a finished one. The gateway calls
// StreamEnd when the upstream stream ends cleanly; an error means the
// upstream ended early, and the gateway then sends StreamError instead.
type StreamEnder interface {
	StreamEnd(dst []byte) ([]byte, error)
}

// EventCounter is implemented by translators that may skip upstream
// events, parts or blocks with no counterpart in the client's protocol.
// The gateway puts a non-zero count on the request's log line, once per
// request, so nothing is dropped unseen.
type EventCounter interface {
	SkippedEvents() int
}

// Fanout is implemented by translators that need several upstream calls
// for one client request (Bedrock's Titan embeddings take one input per
// call). When More is not empty after Request, the gateway sends each of
// its bodies to the same path, with the same headers and signing, after
// the first call succeeds, and passes every answer, in order, to Join
// instead of Response. It has two methods because the two halves are
// one ability: a translator that fans out must also join.
type Fanout interface {
	More() [][]byte
	Join(bodies [][]byte) ([]byte, error)
}

// ClientHeaderReader is implemented by translators that carry some of the
// client's request headers upstream (Anthropic's anthropic-beta, which
// turns on beta features). The gateway calls ClientHeader before Header.
type ClientHeaderReader interface {
	ClientHeader(h http.Header)
}

// RetryAfterError is implemented by errors from Translator.Error whose
// provider says in the body when to retry (Gemini's RetryInfo); the
// gateway sends it as Retry-After when the response had no such header.
type RetryAfterError interface {
	RetryAfter() string
}

// Deps are what providers need from the process, resolved once in main:
// never read from the environment or package state by a provider.
type Deps struct {
	// Now is the clock for signatures and the "created" times of
	// translated answers; nil: time.Now.
	Now func() time.Time
	// ID makes the ids of translated answers the upstream gave none; nil:
	// RandomID.
	ID func() string
	// Region is the AWS region for Bedrock backends that name none, in
	// spec.region or their endpoint (in AWS, the gateway's own region).
	Region string
	// Credentials sign Bedrock requests with SigV4. They are retrieved
	// when a request is signed, not before, so a process that never signs
	// never loads them; nil: SigV4 requests fail with an error saying so.
	Credentials aws.CredentialsProvider
}

// WithDefaults returns d with its nil clock and id source replaced by
// time.Now and RandomID.
func (d Deps) WithDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ID == nil {
		d.ID = RandomID
	}
	return d
}

// RandomID is 24 random hex digits.
func RandomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Constructor makes a protocol family's Provider from the process's
// dependencies.
type Constructor func(Deps) Provider

// Registry maps the provider names an AIBackend's spec.provider may give to
// their Provider. It is built once, by the main, and only read after.
type Registry struct {
	byName map[string]Provider
}

// NewRegistry builds a registry from the constructor of each protocol
// family (keyed by preset protocol name), each given deps with its
// defaults. Every name of package preset whose protocol has a constructor
// is registered, so the OpenAI-compatible presets are served by OpenAI's;
// the empty name is OpenAI too, as route tables written by hand leave it.
func NewRegistry(deps Deps, protocols map[string]Constructor) *Registry {
	deps = deps.WithDefaults()
	built := make(map[string]Provider, len(protocols))
	for name, c := range protocols {
		built[name] = c(deps)
	}
	r := &Registry{byName: map[string]Provider{}}
	for _, p := range preset.All() {
		if v, ok := built[p.Protocol]; ok {
			r.byName[p.Name] = v
		}
	}
	if v, ok := built[preset.OpenAI]; ok {
		r.byName[""] = v
	}
	return r
}

// Lookup returns the provider of backend b, or a client-safe error when
// the registry has none by that name.
func (r *Registry) Lookup(b *route.Backend) (Provider, error) {
	if p, ok := r.byName[b.Provider]; ok {
		return p, nil
	}
	return nil, api.Errorf(api.ErrNoBackend, "backend %s: provider %q is not supported", b.Name, b.Provider)
}
