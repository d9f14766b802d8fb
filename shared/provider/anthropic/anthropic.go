// Package anthropic speaks Anthropic's Messages API (POST /v1/messages) to
// Anthropic backends. Two client protocols reach it, one file each:
//
//   - from_openai.go: OpenAI Chat Completions in, Messages out, translated
//     both ways, streamed responses event by event;
//   - from_anthropic.go: Messages in, Messages out: the body passes through
//     with the model renamed, events are forwarded as received.
//
// Auth is Anthropic's: "x-api-key: <credential>" and "anthropic-version".
// The backend's endpoint is the API base including its version segment
// (https://api.anthropic.com/v1); the translators append "/messages".
package anthropic

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/rawjson"
	"github.com/sluicegw/sluice/shared/route"
)

// DefaultEndpoint is the base URL of Anthropic's API.
const DefaultEndpoint = "https://api.anthropic.com/v1"

// Paths under the endpoint.
const (
	pathMessages    = "/messages"
	pathCountTokens = "/messages/count_tokens"
)

// New returns the translator for a request that came in on endpoint ep;
// client is the model the client named, upstream the name Anthropic knows.
func New(ep api.Endpoint, client, upstream string) (provider.Translator, error) {
	return newTranslator(ep, client, upstream, nil)
}

// newTranslator is New with the clock of translated answers (nil:
// time.Now).
func newTranslator(ep api.Endpoint, client, upstream string, now func() time.Time) (provider.Translator, error) {
	switch ep {
	case api.EndpointChatCompletions:
		t := NewFromOpenAI(client, upstream)
		t.Now = now
		return t, nil
	case api.EndpointMessages, api.EndpointCountTokens:
		return NewFromAnthropic(ep, client, upstream), nil
	case api.EndpointEmbeddings:
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "model",
			Message: "embeddings are not supported by the anthropic provider (Anthropic has no embeddings API)"}
	}
	return nil, api.Errorf(api.ErrNotFound, "this endpoint is not served by anthropic backends")
}

// Provider speaks Anthropic's Messages API: the backend's endpoint plus the
// translator's path, and the credential in x-api-key.
type Provider struct {
	now func() time.Time
}

// NewProvider returns the Anthropic protocol family, on deps' clock.
func NewProvider(deps provider.Deps) provider.Provider {
	return &Provider{now: deps.WithDefaults().Now}
}

// Translator returns the translator for a request on endpoint ep.
func (p *Provider) Translator(b *route.Backend, ep api.Endpoint, model string) (provider.Translator, error) {
	return newTranslator(ep, model, b.UpstreamModel(model), p.now)
}

// URL appends path to the backend's endpoint.
func (*Provider) URL(b *route.Backend, _, path string) (string, error) { return b.Endpoint + path, nil }

// Authorize sends the credential in x-api-key.
func (*Provider) Authorize(h http.Header, _ *route.Backend, credential string) {
	if credential != "" {
		h.Set("X-Api-Key", credential)
	}
}

var (
	_ provider.Provider = (*Provider)(nil)

	_ provider.Translator         = (*FromOpenAI)(nil)
	_ provider.StreamEnder        = (*FromOpenAI)(nil)
	_ provider.EventCounter       = (*FromOpenAI)(nil)
	_ provider.ClientHeaderReader = (*FromOpenAI)(nil)

	_ provider.Translator         = (*FromAnthropic)(nil)
	_ provider.StreamEnder        = (*FromAnthropic)(nil)
	_ provider.ClientHeaderReader = (*FromAnthropic)(nil)
)

// betas carries the client's anthropic-beta header (the beta features it
// turns on) to Anthropic. The gateway hands it the client's headers.
type betas struct{ values []string }

// ClientHeader keeps the client's anthropic-beta values.
func (b *betas) ClientHeader(h http.Header) { b.values = h.Values("Anthropic-Beta") }

// setHeader sets the protocol's headers every request to Anthropic
// carries.
func setHeader(h http.Header, b *betas) {
	h.Set("Content-Type", "application/json")
	h.Set("Anthropic-Version", messages.Version)
	for _, v := range b.values {
		h.Add("Anthropic-Beta", v)
	}
}

// apiError turns an Anthropic error response into a client-safe error,
// keeping the status and Anthropic's error type. A prompt that does not
// fit the model's context gets the code context_length_exceeded, the one
// OpenAI clients and tools look for.
func apiError(status int, body []byte) error {
	var e messages.ErrorResponse
	kind := kindOf(status)
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return &api.Error{Kind: kind, Status: status, Message: "upstream returned status " + statusText(status)}
	}
	out := &api.Error{Kind: kind, Status: status, Message: e.Error.Message, Type: e.Error.Type}
	if status == http.StatusBadRequest && contextExceeded(e.Error.Message) {
		out.Code = "context_length_exceeded"
	}
	return out
}

func statusText(status int) string {
	if status == 529 {
		return "Overloaded"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return strconv.Itoa(status)
}

// contextExceeded recognises Anthropic's messages for a prompt too long
// for the model ("prompt is too long: 210000 tokens > 200000 maximum") and
// for input plus max_tokens over the context window.
func contextExceeded(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "prompt is too long") ||
		strings.Contains(m, "exceed context limit") ||
		strings.Contains(m, "context window")
}

// kindOf is api.UpstreamKind, with 413 kept as too large (Anthropic's
// request_too_large); 500 api_error and 529 overloaded_error are upstream
// failures.
func kindOf(status int) error {
	if status == http.StatusRequestEntityTooLarge {
		return api.ErrTooLarge
	}
	return api.UpstreamKind(status)
}

// eventError builds the error an upstream "error" event stands for. Such
// events carry no status; Anthropic's error type gives it.
func eventError(b *messages.ErrorBody) *api.Error {
	if b == nil {
		return &api.Error{Kind: api.ErrUpstream, Message: "the anthropic stream reported an error"}
	}
	status := http.StatusInternalServerError
	switch b.Type {
	case messages.ErrOverloaded:
		status = 529
	case messages.ErrRateLimit:
		status = http.StatusTooManyRequests
	case messages.ErrInvalidRequest:
		status = http.StatusBadRequest
	case messages.ErrRequestTooLarge:
		status = http.StatusRequestEntityTooLarge
	case "timeout_error":
		status = http.StatusGatewayTimeout
	}
	msg := b.Message
	if msg == "" {
		msg = "the anthropic stream reported " + b.Type
	}
	return &api.Error{Kind: kindOf(status), Status: status, Type: b.Type, Message: msg}
}

// usageOf reads Anthropic's usage: the whole prompt (uncached, cache reads
// and cache writes) is input. Anthropic does not count thinking tokens
// apart from the output.
func usageOf(u *messages.Usage) api.Usage {
	return api.Usage{
		InputTokens:      u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		OutputTokens:     u.OutputTokens,
		CachedTokens:     u.CacheReadInputTokens,
		CacheWriteTokens: u.CacheCreationInputTokens,
		Reported:         true,
	}
}

// mergeUsage folds a message_delta's usage into the one message_start
// gave. Output tokens in message_delta are cumulative; input figures, when
// present, are the final ones.
func mergeUsage(dst *messages.Usage, u *messages.Usage) {
	if u.InputTokens > 0 {
		dst.InputTokens = u.InputTokens
	}
	if u.CacheReadInputTokens > 0 {
		dst.CacheReadInputTokens = u.CacheReadInputTokens
	}
	if u.CacheCreationInputTokens > 0 {
		dst.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
	if u.OutputTokens > 0 {
		dst.OutputTokens = u.OutputTokens
	}
}

// appendString appends s as a JSON string, escaped as encoding/json does
// (HTML characters included).
func appendString(dst []byte, s string) []byte { return rawjson.AppendString(dst, s, true) }
