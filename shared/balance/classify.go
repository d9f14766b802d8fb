package balance

import (
	"bytes"
	"net/http"
	"strconv"
	"time"
)

// Class is what an attempt's outcome means for the request and the backend.
type Class uint8

const (
	// Success: the backend answered.
	Success Class = iota
	// Transient: the backend could not answer now (unreachable, timed
	// out, overloaded, rate-limited, failed); another may.
	Transient
	// ClientError: the request itself was refused; no backend will do
	// better, and the backend is healthy.
	ClientError
	// ContextLength: the request is too long for this backend's model; a
	// fallback listed for longer contexts may take it.
	ContextLength
	// ContentPolicy: the backend's content filter refused the request; it
	// falls back only when the policy says so.
	ContentPolicy
)

// Classify judges an upstream answer before its first byte reached the
// client. status is the upstream's HTTP status, zero when it was not
// reached or timed out; body is the start of its error body. Providers
// report overload with their own codes: Anthropic's 529, Bedrock's
// ThrottlingException (429) and ServiceUnavailableException (503),
// Gemini's RESOURCE_EXHAUSTED (429) and UNAVAILABLE (503); all are
// transient.
func Classify(status int, body []byte) Class {
	switch {
	case status == 0:
		return Transient
	case status < 300:
		return Success
	case status == http.StatusRequestTimeout, status == http.StatusConflict, status == http.StatusTooManyRequests,
		status >= 500:
		return Transient
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		switch {
		case containsAny(body, contextMarkers):
			return ContextLength
		case containsAny(body, contentMarkers):
			return ContentPolicy
		}
	}
	if containsAny(body, overloadMarkers) {
		return Transient
	}
	return ClientError
}

var (
	contextMarkers = [][]byte{
		[]byte("context_length_exceeded"), []byte("maximum context length"), []byte("prompt is too long"),
		[]byte("input is too long"), []byte("too many input tokens"), []byte("exceeds the maximum number of tokens"),
	}
	contentMarkers = [][]byte{
		[]byte("content_policy_violation"), []byte("content_filter"), []byte("responsibleaipolicyviolation"),
		[]byte("safety"),
	}
	overloadMarkers = [][]byte{
		[]byte("overloaded_error"), []byte("throttlingexception"), []byte("serviceunavailableexception"),
		[]byte("resource_exhausted"), []byte("\"unavailable\""),
	}
)

func containsAny(body []byte, markers [][]byte) bool {
	if len(body) == 0 {
		return false
	}
	lower := bytes.ToLower(body)
	for _, m := range markers {
		if bytes.Contains(lower, m) {
			return true
		}
	}
	return false
}

// CoolDownFrom reads how long a backend asked to be left alone: Retry-After
// (seconds or an HTTP date), retry-after-ms, OpenAI's x-ratelimit-reset-*
// durations ("1s", "6m0s", "20ms") and Anthropic's anthropic-ratelimit-*-reset
// times; the longest wins. Zero when it said nothing.
func CoolDownFrom(h http.Header, now time.Time) time.Duration {
	var d time.Duration
	take := func(v time.Duration) {
		if v > d {
			d = v
		}
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			take(time.Duration(ms * float64(time.Millisecond)))
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		take(RetryAfter(v, now))
	}
	for _, k := range []string{"X-Ratelimit-Reset-Requests", "X-Ratelimit-Reset-Tokens"} {
		if v := h.Get(k); v != "" {
			if x, err := time.ParseDuration(v); err == nil {
				take(x)
			}
		}
	}
	for _, k := range []string{"Anthropic-Ratelimit-Requests-Reset", "Anthropic-Ratelimit-Tokens-Reset",
		"Anthropic-Ratelimit-Input-Tokens-Reset", "Anthropic-Ratelimit-Output-Tokens-Reset"} {
		if v := h.Get(k); v != "" {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				take(t.Sub(now))
			}
		}
	}
	return min(d, MaxCoolDown)
}

// RetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func RetryAfter(v string, now time.Time) time.Duration {
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return min(time.Duration(s*float64(time.Second)), MaxCoolDown)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxCoolDown)
	}
	return 0
}
