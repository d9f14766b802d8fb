package anthropic

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/sse"
)

// FromAnthropic passes an Anthropic Messages request to an Anthropic
// backend. The body is forwarded as the client sent it, with only the model
// renamed when the backend maps it; responses and streamed events come back
// byte for byte. Usage is read on the way (message_start and message_delta)
// and errors keep Anthropic's shape.
type FromAnthropic struct {
	betas
	ep     api.Endpoint
	client string
	model  string

	usage    messages.Usage
	reported bool
	stopped  bool // message_stop was seen
}

// NewFromAnthropic returns a pass-through translator for endpoint ep
// (messages or count_tokens).
func NewFromAnthropic(ep api.Endpoint, client, upstream string) *FromAnthropic {
	return &FromAnthropic{ep: ep, client: client, model: upstream}
}

// Request renames the model when the backend maps it.
func (t *FromAnthropic) Request(body []byte) (string, []byte, error) {
	path := pathMessages
	if t.ep == api.EndpointCountTokens {
		path = pathCountTokens
	}
	if t.model == t.client {
		return path, body, nil
	}
	out, err := api.SetModel(body, t.model)
	if err != nil {
		return "", nil, err
	}
	return path, out, nil
}

// Header sets Anthropic's version header, and the client's anthropic-beta
// header if it sent one.
func (t *FromAnthropic) Header(h http.Header) { setHeader(h, &t.betas) }

// Response passes the body through, reading its usage. count_tokens
// answers cost nothing: their usage is reported as zero.
func (t *FromAnthropic) Response(body []byte) ([]byte, error) {
	if t.ep == api.EndpointCountTokens {
		t.reported = true
		return body, nil
	}
	var r struct {
		Usage *messages.Usage `json:"usage"`
	}
	if json.Unmarshal(body, &r) == nil && r.Usage != nil {
		t.usage = *r.Usage
		t.reported = true
	}
	return body, nil
}

// Usage is what Anthropic reported so far.
func (t *FromAnthropic) Usage() api.Usage {
	if !t.reported {
		return api.Usage{}
	}
	return usageOf(&t.usage)
}

// StreamEvent forwards the event as received, reading usage from
// message_start and message_delta. An upstream error event ends the
// stream: it is returned as an error, and StreamError then writes the
// event exactly as Anthropic sent it.
func (t *FromAnthropic) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	kind := ev.Type
	if kind == "" && ev.Data != nil {
		// Anthropic names every event; the data's type says the same.
		var e struct {
			Type string `json:"type"`
		}
		json.Unmarshal(ev.Data, &e)
		kind = e.Type
	}
	switch kind {
	case messages.EventMessageStart:
		var e struct {
			Message struct {
				Usage messages.Usage `json:"usage"`
			} `json:"message"`
		}
		if json.Unmarshal(ev.Data, &e) == nil {
			t.usage = e.Message.Usage
			t.reported = true
		}
	case messages.EventMessageDelta:
		if bytes.Contains(ev.Data, []byte(`"usage"`)) {
			var e struct {
				Usage messages.Usage `json:"usage"`
			}
			if json.Unmarshal(ev.Data, &e) == nil {
				mergeUsage(&t.usage, &e.Usage)
				t.reported = true
			}
		}
	case messages.EventMessageStop:
		t.stopped = true
	case messages.EventError:
		var e messages.ErrorResponse
		json.Unmarshal(ev.Data, &e)
		return dst, &forwardedError{err: eventError(&e.Error), raw: append([]byte(nil), ev.Raw...)}
	}
	return append(dst, ev.Raw...), nil
}

// forwardedError is an upstream error event, kept as received.
type forwardedError struct {
	err *api.Error
	raw []byte
}

func (e *forwardedError) Error() string { return e.err.Error() }
func (e *forwardedError) Unwrap() error { return e.err }

// StreamError ends the stream with Anthropic's error event: the upstream's
// own when it sent one, else one rendered from err.
func (t *FromAnthropic) StreamError(dst []byte, err error) []byte {
	var fe *forwardedError
	if errors.As(err, &fe) {
		return append(dst, fe.raw...)
	}
	return sse.AppendEvent(dst, messages.EventError, api.AnthropicBody(err))
}

// StreamEnd reports a stream that ended before message_stop as cut; the
// client's events already end with message_stop otherwise.
func (t *FromAnthropic) StreamEnd(dst []byte) ([]byte, error) {
	if !t.stopped {
		return dst, api.Errorf(api.ErrUpstream, "the anthropic stream ended before message_stop")
	}
	return dst, nil
}

// Error keeps Anthropic's error: its status and type.
func (t *FromAnthropic) Error(status int, body []byte) error { return apiError(status, body) }
