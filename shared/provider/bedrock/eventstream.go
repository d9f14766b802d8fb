package bedrock

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/sse"
)

// Frame limits of AWS event streams: a message is at most 16 MiB and its
// headers at most 128 KiB. Checking them before decoding keeps a corrupt
// prelude from making the reader wait for gigabytes.
const (
	maxFrame   = 16 << 20
	maxHeaders = 128 << 10
	minFrame   = 16 // prelude (8), prelude CRC (4), message CRC (4)
)

// EventReader decodes an application/vnd.amazon.eventstream body into
// events: Type is the :event-type header, Data the JSON payload (valid
// until the next call). An exception frame (:message-type exception) is
// returned as a client-safe *api.Error with the status Bedrock gives it;
// an error frame likewise. Truncated or corrupt frames (bad lengths or
// CRCs) are errors; a clean end between frames is io.EOF.
type EventReader struct {
	r   *bufio.Reader
	dec *eventstream.Decoder
	buf []byte
}

// NewEventReader returns a reader of body's event-stream frames.
func NewEventReader(body io.Reader) *EventReader {
	return &EventReader{r: bufio.NewReaderSize(body, 32<<10), dec: eventstream.NewDecoder()}
}

// NewEventReader is the provider.StreamDecoder ability.
func (b *base) NewEventReader(body io.Reader) provider.EventReader {
	return NewEventReader(body)
}

// Next returns the next event.
func (e *EventReader) Next() (sse.Event, error) {
	prelude, err := e.r.Peek(8)
	if err != nil {
		if err == io.EOF && len(prelude) == 0 {
			return sse.Event{}, io.EOF
		}
		return sse.Event{}, fmt.Errorf("bedrock event stream: truncated prelude: %w", io.ErrUnexpectedEOF)
	}
	total, headers := binary.BigEndian.Uint32(prelude), binary.BigEndian.Uint32(prelude[4:])
	if total > maxFrame || headers > maxHeaders || total < minFrame+headers {
		return sse.Event{}, fmt.Errorf("bedrock event stream: bad frame lengths %d/%d", total, headers)
	}
	msg, err := e.dec.Decode(e.r, e.buf[:0])
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return sse.Event{}, fmt.Errorf("bedrock event stream: %w", err)
	}
	if cap(msg.Payload) > cap(e.buf) {
		e.buf = msg.Payload[:0]
	}
	switch typ := header(msg.Headers, ":message-type"); typ {
	case "event":
		name := header(msg.Headers, ":event-type")
		if name == "" {
			return sse.Event{}, fmt.Errorf("bedrock event stream: event without :event-type")
		}
		return sse.Event{Type: name, Data: msg.Payload}, nil
	case "exception":
		exc := header(msg.Headers, ":exception-type")
		var body errorBody
		_ = json.Unmarshal(msg.Payload, &body)
		m := body.Message
		if m == "" {
			m = body.MessageC
		}
		if m == "" {
			m = "bedrock stream failed: " + exc
		}
		return sse.Event{}, statusError(exceptionStatus(exc), exc, m)
	case "error":
		code := header(msg.Headers, ":error-code")
		m := header(msg.Headers, ":error-message")
		if m == "" {
			m = "bedrock stream failed: " + code
		}
		return sse.Event{}, &api.Error{Kind: api.ErrUpstream, Status: 502, Code: code, Message: m}
	default:
		return sse.Event{}, fmt.Errorf("bedrock event stream: unknown :message-type %q", typ)
	}
}

func header(hs eventstream.Headers, name string) string {
	v := hs.Get(name)
	if v == nil {
		return ""
	}
	if s, ok := v.(eventstream.StringValue); ok {
		return string(s)
	}
	return v.String()
}
