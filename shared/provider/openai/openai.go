// Package openai speaks the OpenAI protocol to OpenAI and OpenAI-compatible
// backends. From OpenAI clients the exchange passes through: only the model
// name may change, and events are forwarded as they come (Chat Completions,
// Embeddings and Responses alike). From Anthropic clients, Messages requests
// are translated to Chat Completions and back (from_anthropic.go).
package openai

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/rawjson"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

// Provider speaks the OpenAI protocol to OpenAI and the compatible
// services: the backend's endpoint plus the translator's path, and the
// credential as a bearer token.
type Provider struct{}

// NewProvider returns the OpenAI protocol family; it needs none of deps.
func NewProvider(provider.Deps) provider.Provider { return Provider{} }

// Translator returns the translator for a request on endpoint ep.
// Anthropic Messages clients' requests are translated (from_anthropic.go);
// count_tokens has no OpenAI counterpart, so the gateway answers it with
// an estimate.
func (Provider) Translator(b *route.Backend, ep api.Endpoint, model string) (provider.Translator, error) {
	if ep == api.EndpointMessages {
		return newFromAnthropic(model, b.UpstreamModel(model)), nil
	}
	t, err := New(ep, model, b.UpstreamModel(model))
	if err != nil {
		return nil, err
	}
	return t, nil
}

// URL appends path to the backend's endpoint.
func (Provider) URL(b *route.Backend, _, path string) (string, error) { return b.Endpoint + path, nil }

// Authorize sends the credential as "Authorization: Bearer".
func (Provider) Authorize(h http.Header, _ *route.Backend, credential string) {
	if credential != "" {
		h.Set("Authorization", "Bearer "+credential)
	}
}

var (
	_ provider.Provider    = Provider{}
	_ provider.Translator  = (*PassThrough)(nil)
	_ provider.StreamEnder = (*PassThrough)(nil)
)

// PassThrough passes OpenAI clients' requests to an OpenAI-protocol
// backend: only the model may be renamed, and usage is read on the way.
type PassThrough struct {
	ep api.Endpoint
	// hideUsage is set when Sluice asked for stream usage on the client's
	// behalf: the usage-only chunk is then read for the ledger and not
	// passed on, so the client sees the stream it asked for.
	hideUsage bool
	// respDone is set once a Responses stream sent its terminal event.
	respDone bool
	// chatDone is set once a chat stream sent a finish_reason, [DONE] or
	// an error: a stream that ends before any of them was cut.
	chatDone bool

	client string // the model the client asked for
	model  string // the model the provider should see
	usage  api.Usage
}

// New returns the pass-through translator for OpenAI clients' endpoints
// (chat completions, embeddings, responses); client is the model the client
// named and upstream the name the provider knows it by.
func New(ep api.Endpoint, client, upstream string) (*PassThrough, error) {
	switch ep {
	case api.EndpointChatCompletions, api.EndpointEmbeddings, api.EndpointResponses:
		return &PassThrough{ep: ep, client: client, model: upstream}, nil
	}
	return nil, api.Errorf(api.ErrNotFound, "this endpoint is not served by OpenAI-protocol backends")
}

// Request keeps the body, renaming the model when the backend maps it.
func (t *PassThrough) Request(body []byte) (string, []byte, error) {
	path := "/chat/completions"
	switch t.ep {
	case api.EndpointEmbeddings:
		path = "/embeddings"
	case api.EndpointResponses:
		path = "/responses"
	}
	out := body
	if t.model != t.client {
		var err error
		if out, err = api.SetModel(body, t.model); err != nil {
			return "", nil, err
		}
	}
	if t.ep == api.EndpointChatCompletions {
		var asked bool
		out, asked = withStreamUsage(out)
		t.hideUsage = !asked
	}
	return path, out, nil
}

// withStreamUsage makes a streaming chat request ask for usage
// (stream_options.include_usage), so the ledger learns the provider's real
// count. It reports whether the client had asked for it itself; a body that
// does not stream is returned as is.
func withStreamUsage(body []byte) ([]byte, bool) {
	if !bytes.Contains(body, []byte(`"stream"`)) {
		return body, true
	}
	var p streamRequest
	if json.Unmarshal(body, &p) != nil || !p.Stream {
		return body, true
	}
	if p.StreamOptions != nil && p.StreamOptions.IncludeUsage {
		return body, true
	}
	if p.StreamOptions == nil {
		end := bytes.LastIndexByte(body, '}')
		if end < 0 {
			return body, true
		}
		out := make([]byte, 0, len(body)+40)
		out = append(out, body[:end]...)
		out = append(out, `,"stream_options":{"include_usage":true}`...)
		return append(out, body[end:]...), false
	}
	start, end, ok := rawjson.MemberSpan(body, "stream_options")
	if !ok {
		return body, true
	}
	var opts map[string]json.RawMessage
	if json.Unmarshal(body[start:end], &opts) != nil || opts == nil {
		return body, true
	}
	opts["include_usage"] = json.RawMessage("true")
	enc, _ := json.Marshal(opts)
	out := make([]byte, 0, len(body)+len(enc))
	out = append(out, body[:start]...)
	out = append(out, enc...)
	return append(out, body[end:]...), false
}

// streamRequest is what withStreamUsage reads of a chat request.
type streamRequest struct {
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// Header sets the content type, the same for Anthropic clients:
// anthropic-version means nothing here.
func (t *PassThrough) Header(h http.Header) {
	h.Set("Content-Type", "application/json")
}

// Response passes the body through, reading its usage.
func (t *PassThrough) Response(body []byte) ([]byte, error) {
	if t.ep == api.EndpointResponses {
		if u := usageMember[responsesUsage](body); u != nil {
			t.usage = u.api()
		}
		return body, nil
	}
	if u := usageMember[wireUsage](body); u != nil {
		t.usage = u.api()
	}
	return body, nil
}

// usageMember is the top-level usage member of a response body; nil when
// the body has none or does not decode.
func usageMember[T any](body []byte) *T {
	var r struct {
		Usage *T `json:"usage"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	return r.Usage
}

// Usage is what the backend reported.
func (t *PassThrough) Usage() api.Usage { return t.usage }

// wireUsage is OpenAI's usage object, of chat completions and embeddings,
// as the translators read it. The details are values, not pointers: an
// absent or null breakdown reads as zeros either way.
type wireUsage struct {
	PromptTokens            int64             `json:"prompt_tokens"`
	CompletionTokens        int64             `json:"completion_tokens"`
	PromptTokensDetails     promptDetails     `json:"prompt_tokens_details"`
	CompletionTokensDetails completionDetails `json:"completion_tokens_details"`
}

// promptDetails breaks down the prompt tokens; cache_write_tokens is
// Sluice's extension, sent by a backend that is itself a Sluice gateway.
type promptDetails struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
}

type completionDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// api reads OpenAI's usage: prompt_tokens is the whole prompt, cache reads
// and writes included.
func (u *wireUsage) api() api.Usage {
	return api.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens,
		CachedTokens: u.PromptTokensDetails.CachedTokens, CacheWriteTokens: u.PromptTokensDetails.CacheWriteTokens,
		ReasoningTokens: u.CompletionTokensDetails.ReasoningTokens, Reported: true}
}

// StreamEvent forwards the event as received. A chunk carrying usage is
// read for the ledger; the usage-only chunk Sluice asked for itself is not
// forwarded.
func (t *PassThrough) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	if t.ep == api.EndpointResponses {
		t.responsesEvent(ev)
		return append(dst, ev.Raw...), nil
	}
	if !t.chatDone && t.ep == api.EndpointChatCompletions {
		t.chatDone = bytes.Equal(ev.Data, []byte("[DONE]")) || hasFinishReason(ev.Data) || bytes.HasPrefix(ev.Data, []byte(`{"error"`))
	}
	if hasUsage(ev.Data) {
		if u, choices, ok := readUsageChunk(ev.Data); ok && u != nil {
			t.usage = u.api()
			if t.hideUsage && choices == 0 {
				return dst, nil
			}
		}
	}
	return append(dst, ev.Raw...), nil
}

// usageChunk is what StreamEvent reads of a chunk that carries usage.
type usageChunk struct {
	Choices []json.RawMessage `json:"choices"`
	Usage   *wireUsage        `json:"usage"`
}

// readUsageChunk reads a chunk's usage and how many choices it has,
// reporting whether it decoded.
func readUsageChunk(data []byte) (*wireUsage, int, bool) {
	var c usageChunk
	if json.Unmarshal(data, &c) != nil {
		return nil, 0, false
	}
	return c.Usage, len(c.Choices), true
}

// StreamError ends a stream the way OpenAI does: a data event holding an
// error object, so SDKs raise it instead of seeing a clean end.
func (t *PassThrough) StreamError(dst []byte, err error) []byte {
	if t.ep == api.EndpointResponses {
		return responsesError(dst, err)
	}
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

// StreamEnd reports that the upstream was cut before its end: the stream
// ends with the upstream's own "data: [DONE]"; one that ends before a
// finish_reason, [DONE] or an error event was cut, as is a Responses stream
// that ends before its response.completed (or .incomplete, .failed) event.
func (t *PassThrough) StreamEnd(dst []byte) ([]byte, error) {
	if t.ep == api.EndpointResponses && !t.respDone {
		return dst, api.Errorf(api.ErrUpstream, "the backend stream ended before the response was complete")
	}
	if t.ep == api.EndpointChatCompletions && !t.chatDone {
		return dst, api.Errorf(api.ErrUpstream, "the backend stream ended before the completion was finished")
	}
	return dst, nil
}

// hasFinishReason reports whether a chunk carries a finish_reason other
// than null.
func hasFinishReason(data []byte) bool {
	const key = `"finish_reason"`
	for {
		i := bytes.Index(data, []byte(key))
		if i < 0 {
			return false
		}
		data = bytes.TrimLeft(data[i+len(key):], " \t\r\n")
		if len(data) > 0 && data[0] == ':' {
			data = bytes.TrimLeft(data[1:], " \t\r\n")
			if len(data) > 0 && data[0] == '"' {
				return true
			}
		}
	}
}

// Error keeps an upstream OpenAI error object, its status, type and code.
func (t *PassThrough) Error(status int, body []byte) error {
	return openAIError(status, body)
}

// openAIError reads an OpenAI error object into a client-safe error.
func openAIError(status int, body []byte) *api.Error {
	var e struct {
		Error struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Param   string          `json:"param"`
			Code    json.RawMessage `json:"code"`
		} `json:"error"`
	}
	kind := kindOf(status)
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return &api.Error{Kind: kind, Status: status, Message: "upstream returned status " + http.StatusText(status)}
	}
	return &api.Error{
		Kind: kind, Status: status, Message: e.Error.Message, Type: e.Error.Type,
		Param: e.Error.Param, Code: strings.Trim(string(e.Error.Code), `"`),
	}
}

func kindOf(status int) error { return api.UpstreamKind(status) }

// responsesUsage is the usage object of the Responses API.
type responsesUsage struct {
	InputTokens        int64 `json:"input_tokens"`
	OutputTokens       int64 `json:"output_tokens"`
	InputTokensDetails *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails *struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (u *responsesUsage) api() api.Usage {
	out := api.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, Reported: true}
	if d := u.InputTokensDetails; d != nil {
		out.CachedTokens = d.CachedTokens
	}
	if d := u.OutputTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	return out
}

// responsesEvent reads the usage of a Responses stream from its terminal
// event (response.completed, or response.incomplete / response.failed,
// which carry the usage spent so far). Every event passes on unchanged.
func (t *PassThrough) responsesEvent(ev sse.Event) {
	switch ev.Type {
	case "response.completed", "response.incomplete", "response.failed":
	case "":
		// Servers that omit the event name still type the data.
		if !bytes.Contains(ev.Data, []byte(`"response.completed"`)) &&
			!bytes.Contains(ev.Data, []byte(`"response.incomplete"`)) &&
			!bytes.Contains(ev.Data, []byte(`"response.failed"`)) {
			return
		}
	default:
		return
	}
	t.respDone = true
	var e struct {
		Response struct {
			Usage *responsesUsage `json:"usage"`
		} `json:"response"`
	}
	if json.Unmarshal(ev.Data, &e) == nil && e.Response.Usage != nil {
		t.usage = e.Response.Usage.api()
	}
}

// responsesError ends a Responses stream with the API's error event:
// event "error", data {"type":"error","code","message","param"}.
func responsesError(dst []byte, err error) []byte {
	var o struct {
		Error struct {
			Message string  `json:"message"`
			Code    string  `json:"code"`
			Param   *string `json:"param"`
		} `json:"error"`
	}
	json.Unmarshal(api.OpenAIBody(err), &o) // our own encoding: cannot fail
	b, _ := json.Marshal(struct {
		Type    string  `json:"type"`
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Param   *string `json:"param"`
	}{"error", o.Error.Code, o.Error.Message, o.Error.Param})
	return sse.AppendEvent(dst, "error", b)
}

// hasUsage reports whether a chunk carries a usage object. Streams that
// ask for usage send "usage":null on every other chunk; those are told
// apart here without decoding them.
func hasUsage(data []byte) bool {
	i := bytes.Index(data, []byte(`"usage"`))
	if i < 0 {
		return false
	}
	for _, c := range data[i+len(`"usage"`):] {
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			continue
		}
		return c == '{'
	}
	return false
}
