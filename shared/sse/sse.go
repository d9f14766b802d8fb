// Package sse reads and writes server-sent events as the WHATWG HTML
// specification frames them, whatever the chunking of the underlying stream.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Event is one block of an event stream, ended by a blank line.
type Event struct {
	Type string // the "event" field; empty means "message"
	ID   string // the "id" field
	// HasID reports whether the block had an "id" field (an empty id resets the last event id).
	HasID bool
	Data  []byte // the "data" lines joined by "\n"; nil when the block had none
	// Raw is the block as received, with each line ended by "\n" (CR and CRLF
	// line ends are normalised) and the blank line that closed it. A proxy
	// writes Raw to pass the event on unchanged.
	Raw []byte
}

// IsComment reports whether the block held only comments or unknown fields
// (such as a keep-alive ": ping"); browsers dispatch nothing for it.
func (e Event) IsComment() bool { return e.Data == nil && e.Type == "" && !e.HasID }

// Reader splits a stream into events. The slices of an Event stay valid only
// until the next call to Next.
type Reader struct {
	br     *bufio.Reader
	raw    []byte
	data   []byte
	line   []byte
	skipLF bool // the last line ended in CR: a following LF belongs to it
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 8<<10)}
}

// MaxEventSize bounds one event, so a hostile upstream cannot grow memory
// without limit.
const MaxEventSize = 8 << 20

// ErrEventTooLarge is returned when an event exceeds MaxEventSize.
var ErrEventTooLarge = errors.New("sse: event too large")

// Next returns the next event. It returns io.EOF at a clean end of stream,
// and io.ErrUnexpectedEOF when the stream ends inside an event: a proxy must
// treat that as a cut stream, not as success.
func (r *Reader) Next() (Event, error) {
	r.raw = r.raw[:0]
	r.data = r.data[:0]
	var ev Event
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && len(r.raw) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if len(r.raw) == 1 { // a stray blank line between events
				r.raw = r.raw[:0]
				continue
			}
			ev.Raw = r.raw
			if hasData {
				ev.Data = r.data
			}
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			ev.Type = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID, ev.HasID = string(value), true
			}
		}
	}
}

// Ready reports whether a whole next event is already buffered, so that
// Next returns it without reading: a proxy may then write it after the
// event in hand and flush both at once, since nothing waits on the network
// in between. It errs on the side of false: only a non-empty line followed
// by a blank line, both ended by "\n", counts.
func (r *Reader) Ready() bool {
	buf, _ := r.br.Peek(r.br.Buffered()) // never reads
	for {
		i := bytes.Index(buf, []byte("\n\n"))
		if i < 0 {
			return false
		}
		if i > 0 && buf[i-1] != '\r' {
			return true
		}
		buf = buf[i+1:]
	}
}

// readLine returns the next line without its end, and appends the line and
// a "\n" to r.raw.
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				if err == io.EOF && len(r.line) > 0 {
					return nil, io.ErrUnexpectedEOF
				}
				return nil, err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		if r.skipLF {
			r.skipLF = false
			if buf[0] == '\n' {
				r.br.Discard(1)
				continue
			}
		}
		i := lineEnd(buf)
		if i < 0 {
			r.line = append(r.line, buf...)
			r.br.Discard(len(buf))
			if len(r.raw)+len(r.line) > MaxEventSize {
				return nil, ErrEventTooLarge
			}
			continue
		}
		r.line = append(r.line, buf[:i]...)
		r.skipLF = buf[i] == '\r'
		r.br.Discard(i + 1)
		if len(r.raw)+len(r.line) > MaxEventSize {
			return nil, ErrEventTooLarge
		}
		r.raw = append(r.raw, r.line...)
		r.raw = append(r.raw, '\n')
		return r.line, nil
	}
}

// lineEnd is bytes.IndexAny(buf, "\r\n"), with two IndexByte scans no
// longer than the line instead of a byte-set scan.
func lineEnd(buf []byte) int {
	n := bytes.IndexByte(buf, '\n')
	if n < 0 {
		return bytes.IndexByte(buf, '\r')
	}
	if r := bytes.IndexByte(buf[:n], '\r'); r >= 0 {
		return r
	}
	return n
}

// AppendEvent appends one event with the given type (omitted when empty) and
// data to dst. Data with newlines becomes several data lines.
func AppendEvent(dst []byte, typ string, data []byte) []byte {
	if typ != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, typ...)
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	return append(dst, '\n')
}
