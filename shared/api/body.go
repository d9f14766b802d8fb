package api

import (
	"errors"
	"strings"

	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/rawjson"
)

// DecodeError turns a failure of DecodeStrict on a client's body into a
// 400 naming the offending field: a field Sluice's wire types for the API
// (schema: "Chat Completions", "Messages") do not know, which the named
// provider then cannot honour, or a value of the wrong JSON type.
func DecodeError(err error, schema, provider string) *Error {
	if name, ok := unknownField(err); ok {
		return &Error{Kind: ErrBadRequest, Param: name,
			Message: "unknown field '" + name + "': it is not part of the " + schema + " API Sluice speaks, so the " + provider + " provider cannot honour it"}
	}
	if e := typeError(err); e != nil {
		return e
	}
	return Errorf(ErrBadRequest, "request body is not a valid %s request: %v", schema, err)
}

// unknownField is the name of the field a strict decoding refused. The
// codec reports it only in its message ("json: unknown field \"name\""),
// so this is the one place that reads it there.
func unknownField(err error) (string, bool) {
	name, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	return strings.Trim(name, `"`), true
}

// typeError is the 400 for a value of the wrong JSON type, naming the
// field (dotted from the top); nil when err is not a type error.
func typeError(err error) *Error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return nil
	}
	if te.Field == "" {
		return Errorf(ErrBadRequest, "request body must be a JSON object")
	}
	return &Error{Kind: ErrBadRequest, Param: te.Field,
		Message: "invalid type for '" + te.Field + "': expected " + te.Type.String()}
}

// BadUpstreamBody is the 502 for an upstream answer (a body, or one event
// of a stream: what) that does not decode as the provider's protocol says.
// It names the provider, never the upstream's bytes.
func BadUpstreamBody(provider, what string) *Error {
	return Errorf(ErrUpstream, "the %s backend sent %s that could not be read", provider, what)
}

// SetModel rewrites the top-level "model" string of a JSON object body,
// leaving every other byte as it was: how pass-through translators rename
// the model for a backend that knows it by another name.
func SetModel(body []byte, model string) ([]byte, error) {
	start, end, ok := rawjson.MemberSpan(body, "model")
	if !ok || end-start < 2 || body[start] != '"' {
		return nil, &Error{Kind: ErrBadRequest, Param: "model", Message: "request body has no model string"}
	}
	out := make([]byte, 0, len(body)-(end-start)+len(model)+2)
	out = append(out, body[:start]...)
	out = rawjson.AppendString(out, model, true)
	return append(out, body[end:]...), nil
}

// ParseDataURL splits a base64 data: URL (data:<media type>;base64,<data>,
// as RFC 2397 spells it) into its media type, lower case and without
// parameters, and its data, still base64. ok is false for any other URL,
// and for one that names no media type, which no provider would take.
func ParseDataURL(u string) (mediaType, data string, ok bool) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return "", "", false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return "", "", false
	}
	meta, ok = strings.CutSuffix(meta, ";base64")
	if !ok {
		return "", "", false
	}
	mediaType, _, _ = strings.Cut(meta, ";") // parameters, e.g. charset
	mediaType = strings.ToLower(mediaType)
	if mediaType == "" {
		return "", "", false
	}
	return mediaType, data, true
}
