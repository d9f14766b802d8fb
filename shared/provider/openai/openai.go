// Package openai speaks the OpenAI protocol to OpenAI and OpenAI-compatible
// backends. From OpenAI clients the exchange passes through: only the model
// name may change, and events are forwarded as they come.
package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/sse"
)

// Translator passes OpenAI requests to an OpenAI-protocol backend.
type Translator struct {
	ep     api.Endpoint
	client string // the model the client asked for
	model  string // the model the provider should see
}

// New returns a translator for endpoint ep; client is the model the client
// named and upstream the name the provider knows it by.
func New(ep api.Endpoint, client, upstream string) (*Translator, error) {
	switch ep {
	case api.EndpointChatCompletions, api.EndpointEmbeddings:
	default:
		return nil, api.Errorf(api.ErrNotFound, "this endpoint is not served by OpenAI-protocol backends")
	}
	return &Translator{ep: ep, client: client, model: upstream}, nil
}

// Request keeps the body, renaming the model when the backend maps it.
func (t *Translator) Request(body []byte) (string, []byte, error) {
	path := "/chat/completions"
	if t.ep == api.EndpointEmbeddings {
		path = "/embeddings"
	}
	if t.model == t.client {
		return path, body, nil // pass-through: no JSON work at all
	}
	out, err := setModel(body, t.model)
	return path, out, err
}

// Header sets bearer auth when the backend has a credential.
func (t *Translator) Header(h http.Header, credential string) {
	h.Set("Content-Type", "application/json")
	if credential != "" {
		h.Set("Authorization", "Bearer "+credential)
	}
}

// Response passes the body through.
func (t *Translator) Response(body []byte) ([]byte, error) { return body, nil }

// StreamEvent forwards the event as received.
func (t *Translator) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	return append(dst, ev.Raw...), nil
}

// StreamError ends a stream the way OpenAI does: a data event holding an
// error object, so SDKs raise it instead of seeing a clean end.
func (t *Translator) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

// Error keeps an upstream OpenAI error object, its status, type and code.
func (t *Translator) Error(status int, body []byte) error {
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

func kindOf(status int) error {
	switch {
	case status == http.StatusTooManyRequests:
		return api.ErrRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The backend refused Sluice's credential: the client can do
		// nothing about that, so it is a gateway-side failure.
		return api.ErrUpstream
	case status == http.StatusNotFound:
		return api.ErrModelNotFound
	case status < 500:
		return api.ErrBadRequest
	case status == http.StatusGatewayTimeout:
		return api.ErrTimeout
	}
	return api.ErrUpstream
}

// setModel rewrites the top-level "model" string of a JSON object, leaving
// every other byte as it was.
func setModel(body []byte, model string) ([]byte, error) {
	start, end, _, ok := topLevelString(body, "model")
	if !ok {
		return nil, api.Errorf(api.ErrBadRequest, "request body has no model string")
	}
	enc, _ := json.Marshal(model)
	out := make([]byte, 0, len(body)-(end-start)+len(enc))
	out = append(out, body[:start]...)
	out = append(out, enc...)
	return append(out, body[end:]...), nil
}

// topLevelString finds the value of key in a JSON object: the byte span of
// its encoded string and its decoded value.
func topLevelString(body []byte, key string) (start, end int, value string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, 0, "", false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, 0, "", false
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, 0, "", false
		}
		if name != key {
			continue
		}
		end = int(dec.InputOffset())
		start = end - len(raw)
		if err := json.Unmarshal(raw, &value); err != nil {
			return 0, 0, "", false
		}
		return start, end, value, true
	}
	return 0, 0, "", false
}
