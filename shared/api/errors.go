package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sluicegw/sluice/shared/json"
)

// Error kinds. Packages wrap one of these (directly or through Errorf) so the
// edge can pick a status and an error type without knowing who failed.
var (
	ErrBadRequest    = errors.New("bad request")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrForbidden     = errors.New("forbidden")
	ErrNotFound      = errors.New("not found")
	ErrModelNotFound = errors.New("model not found")
	ErrTooLarge      = errors.New("request body too large")
	ErrRateLimited   = errors.New("rate limited")
	ErrNoBackend     = errors.New("no valid backend")
	ErrUpstream      = errors.New("upstream failed")
	ErrTimeout       = errors.New("upstream timed out")
	ErrUnavailable   = errors.New("service unavailable")
)

// Error is a client-safe error: Message is shown to the caller as is, so it
// must never hold credentials or upstream internals.
type Error struct {
	Kind    error  // one of the Err* kinds above
	Message string // what the client reads
	Param   string // the offending request field, if any
	Code    string // a machine-readable code; derived from Kind when empty
	Type    string // the OpenAI error type; derived from Kind when empty
	Status  int    // overrides the Kind's status when non-zero (upstream errors)
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns a client-safe *Error of the given kind.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

type kindInfo struct {
	status int
	typ    string // OpenAI error type
	code   string // OpenAI error code
}

// kinds is the one table from error kind to status and OpenAI type and code.
var kinds = []struct {
	kind error
	info kindInfo
}{
	{ErrBadRequest, kindInfo{http.StatusBadRequest, "invalid_request_error", "invalid_request"}},
	{ErrUnauthorized, kindInfo{http.StatusUnauthorized, "invalid_request_error", "invalid_api_key"}},
	{ErrForbidden, kindInfo{http.StatusForbidden, "invalid_request_error", "forbidden"}},
	{ErrModelNotFound, kindInfo{http.StatusNotFound, "invalid_request_error", "model_not_found"}},
	{ErrNotFound, kindInfo{http.StatusNotFound, "invalid_request_error", "not_found"}},
	{ErrTooLarge, kindInfo{http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large"}},
	{ErrRateLimited, kindInfo{http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded"}},
	{ErrNoBackend, kindInfo{http.StatusInternalServerError, "server_error", "no_valid_backend"}},
	{ErrUpstream, kindInfo{http.StatusBadGateway, "server_error", "upstream_error"}},
	{ErrTimeout, kindInfo{http.StatusGatewayTimeout, "server_error", "upstream_timeout"}},
	{ErrUnavailable, kindInfo{http.StatusServiceUnavailable, "server_error", "unavailable"}},
}

func infoOf(err error) kindInfo {
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			return k.info
		}
	}
	return kindInfo{http.StatusInternalServerError, "server_error", "internal_error"}
}

// Status is the HTTP status for err.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		return e.Status
	}
	return infoOf(err).status
}

// openAIError is OpenAI's error object: {"error":{"message","type","param","code"}}.
type openAIError struct {
	Error openAIErrorBody `json:"error"`
}

type openAIErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// OpenAIBody renders err as OpenAI's error object. Errors that are not
// *Error get a generic message, so internals never leak to the client.
func OpenAIBody(err error) []byte {
	info := infoOf(err)
	body := openAIErrorBody{Type: info.typ, Code: info.code, Message: "internal error"}
	var e *Error
	if errors.As(err, &e) {
		body.Message = e.Message
		if e.Param != "" {
			body.Param = &e.Param
		}
		if e.Code != "" {
			body.Code = e.Code
		}
		if e.Type != "" {
			body.Type = e.Type
		}
	}
	b, _ := json.Marshal(openAIError{Error: body}) // cannot fail: strings only
	return b
}

// WriteOpenAIError writes err to w as OpenAI would: status and error object.
// A rate-limit error carries Retry-After when the caller set it on w.
func WriteOpenAIError(w http.ResponseWriter, err error) {
	body := OpenAIBody(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(Status(err))
	w.Write(body)
}

// anthropicTypes maps error kinds to Anthropic's error types.
var anthropicTypes = []struct {
	kind error
	typ  string
}{
	{ErrBadRequest, "invalid_request_error"},
	{ErrUnauthorized, "authentication_error"},
	{ErrForbidden, "permission_error"},
	{ErrModelNotFound, "not_found_error"},
	{ErrNotFound, "not_found_error"},
	{ErrTooLarge, "request_too_large"},
	{ErrRateLimited, "rate_limit_error"},
	{ErrTimeout, "timeout_error"},
	{ErrUnavailable, "overloaded_error"},
}

// AnthropicType is Anthropic's error type for err.
func AnthropicType(err error) string {
	for _, k := range anthropicTypes {
		if errors.Is(err, k.kind) {
			return k.typ
		}
	}
	if Status(err) == 529 {
		return "overloaded_error"
	}
	return "api_error"
}

// AnthropicBody renders err as Anthropic's error object:
// {"type":"error","error":{"type","message"}}. Errors that are not *Error
// get a generic message, so internals never leak to the client.
func AnthropicBody(err error) []byte {
	msg := "internal error"
	var e *Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	b, _ := json.Marshal(struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}{Type: "error", Error: struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{AnthropicType(err), msg}})
	return b
}

// WriteAnthropicError writes err to w as Anthropic would.
func WriteAnthropicError(w http.ResponseWriter, err error) {
	body := AnthropicBody(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(Status(err))
	w.Write(body)
}

// UpstreamKind is the error kind of a provider's error status, by the rules
// every provider shares: 429 rate limited; 401 and 403 mean the provider
// refused the gateway's own credential, which the client cannot fix, so an
// upstream failure; 404 an unknown model; 504 a timeout; other 4xx the
// client's request; the rest an upstream failure. Providers check their own
// exceptions first.
func UpstreamKind(status int) error {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUpstream
	case status == http.StatusNotFound:
		return ErrModelNotFound
	case status == http.StatusGatewayTimeout:
		return ErrTimeout
	case status < 500:
		return ErrBadRequest
	}
	return ErrUpstream
}
