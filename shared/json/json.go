// Package json is the one place that names the JSON codec: every typed
// encoding and decoding of the gateway goes through it, so the codec can be
// changed, or measured against another, by editing this file alone.
//
// The codec is github.com/goccy/go-json. It behaves as encoding/json does
// wherever the tests of this package look, and under the translators it
// decodes several times faster with fewer allocations, fast enough for
// typed decoding to stand in for most hand-written readers, at the price of
// a somewhat larger binary and no measurable start time.
package json

import (
	"bytes"
	"io"

	gojson "github.com/goccy/go-json"
)

type (
	// RawMessage is an encoded JSON value, kept verbatim when decoding and
	// written as is (compacted) when encoding. It is encoding/json's type.
	RawMessage = gojson.RawMessage
	// Decoder reads JSON values from a stream; the translators use it for
	// strict decoding (DisallowUnknownFields).
	Decoder = gojson.Decoder
	// Encoder writes JSON values to a stream; the translators use it to
	// encode without HTML escaping (SetEscapeHTML).
	Encoder = gojson.Encoder
	// UnmarshalTypeError is the error Unmarshal returns for a value of the
	// wrong JSON type; its Field names the member, dotted from the top. It
	// is the codec's own type, not encoding/json's: match errors with this
	// one.
	UnmarshalTypeError = gojson.UnmarshalTypeError
	// Number is a number as its literal, what a Decoder with UseNumber
	// gives for numbers in untyped values.
	Number = gojson.Number
)

// Marshal encodes v, escaping <, > and & in strings and sorting map keys.
func Marshal(v any) ([]byte, error) { return gojson.Marshal(v) }

// MarshalIndent is Marshal with each element on a new, indented line.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	return gojson.MarshalIndent(v, prefix, indent)
}

// Unmarshal decodes one JSON value into v. Object members match struct
// fields by tag or name, ignoring case; of duplicate members the last wins.
func Unmarshal(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// Valid reports whether data is one valid JSON value.
func Valid(data []byte) bool { return gojson.Valid(data) }

// Compact appends src to dst without insignificant white space.
func Compact(dst *bytes.Buffer, src []byte) error { return gojson.Compact(dst, src) }

// Indent appends src to dst, each element on a new, indented line.
func Indent(dst *bytes.Buffer, src []byte, prefix, indent string) error {
	return gojson.Indent(dst, src, prefix, indent)
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder { return gojson.NewDecoder(r) }

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return gojson.NewEncoder(w) }
