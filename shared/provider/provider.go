// Package provider is the seam between the gateway and model providers: one
// Translator per request converts the client's protocol to a backend's and
// back. The gateway never names a provider; For picks the translator.
package provider

import (
	"context"
	"io"
	"net/http"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider/anthropic"
	"github.com/sluicegw/sluice/shared/provider/azure"
	"github.com/sluicegw/sluice/shared/provider/bedrock"
	"github.com/sluicegw/sluice/shared/provider/gemini"
	"github.com/sluicegw/sluice/shared/provider/openai"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

// Translator converts one exchange. A value serves one request and is not
// safe for concurrent use; stream state lives in it.
type Translator interface {
	// Request returns the path (appended to the backend's endpoint) and the
	// body to send upstream for the client's body.
	Request(body []byte) (path string, out []byte, err error)
	// Header sets the upstream request's headers, credentials included.
	Header(h http.Header, credential string)
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

// Signer is implemented by translators whose provider authenticates each
// request by signing it (Bedrock's SigV4). The gateway calls Sign after
// Header, with the exact body it sends.
type Signer interface {
	Sign(ctx context.Context, req *http.Request, body []byte) error
}

// EventReader reads a provider's stream one event at a time. *sse.Reader is
// one; Bedrock's binary event stream has its own. It is an alias of an
// unnamed interface so provider packages can implement StreamDecoder
// without importing this one.
type EventReader = interface {
	Next() (sse.Event, error)
}

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
// events with no counterpart in the client's protocol. The gateway logs a
// non-zero count on the request's log line, so no event goes unseen.
type EventCounter interface {
	SkippedEvents() int
}

// Fanout is implemented by translators that need several upstream calls
// for one client request (Bedrock's Titan embeddings take one input per
// call). When More is not empty after Request, the gateway sends each of
// its bodies to the same path, with the same headers and signing, after
// the first call succeeds, and passes every answer, in order, to Join
// instead of Response.
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

// Providers Sluice speaks. An AIBackend's spec.provider names one.
// OpenAI-compatible services known by name (groq, deepseek...) speak
// OpenAI; package preset lists them with their base URLs.
const (
	OpenAI      = "openai"
	Anthropic   = "anthropic"
	Bedrock     = "bedrock"
	AzureOpenAI = "azure-openai"
	Gemini      = "gemini"
	VertexAI    = "vertex-ai"
)

// For returns the translator for a request to endpoint ep served by b.
func For(b *route.Backend, ep api.Endpoint, model string) (Translator, error) {
	switch b.Provider {
	case OpenAI, "":
		return openai.New(ep, model, b.UpstreamModel(model))
	case Bedrock:
		return bedrock.New(ep, model, b.UpstreamModel(model), bedrock.Config{Endpoint: b.Endpoint, Region: b.Region})
	case Anthropic:
		return anthropic.New(ep, model, b.UpstreamModel(model))
	case Gemini:
		return gemini.New(ep, model, b.UpstreamModel(model), b.CredentialType == "bearer")
	case VertexAI:
		return gemini.NewVertex(ep, model, b.UpstreamModel(model))
	case AzureOpenAI:
		return azure.New(ep, model, b.UpstreamModel(model), b.APIVersion, b.CredentialType == "bearer")
	}
	if p, ok := preset.Lookup(b.Provider); ok && p.Protocol == preset.OpenAI {
		return openai.New(ep, model, b.UpstreamModel(model))
	}
	return nil, api.Errorf(api.ErrNoBackend, "backend %s: provider %q is not supported", b.Name, b.Provider)
}

var (
	_ Translator       = (*openai.Translator)(nil)
	_ Translator       = bedrock.Translator(nil)
	_ bedrockAbilities = bedrock.Abilities(nil)

	_ StreamEnder        = (*anthropic.FromOpenAI)(nil)
	_ StreamEnder        = (*anthropic.FromAnthropic)(nil)
	_ ClientHeaderReader = (*anthropic.FromOpenAI)(nil)
	_ ClientHeaderReader = (*anthropic.FromAnthropic)(nil)

	_ Translator  = (*azure.Translator)(nil)
	_ Translator  = (*gemini.FromOpenAI)(nil)
	_ Translator  = (*gemini.FromAnthropic)(nil)
	_ Translator  = (*gemini.Embed)(nil)
	_ StreamEnder = (*gemini.FromOpenAI)(nil)
	_ StreamEnder = (*gemini.FromAnthropic)(nil)
)

// bedrockAbilities is what every Bedrock translator offers besides
// Translator: SigV4 signing, the event-stream decoder and stream ends.
type bedrockAbilities interface {
	Signer
	StreamDecoder
	StreamEnder
}
