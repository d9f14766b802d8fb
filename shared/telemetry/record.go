// Package telemetry turns the gateway's per-request and per-attempt
// records into what operators read: one access-log line per request,
// CloudWatch embedded-metric-format lines in Lambda, Prometheus counters
// in the local process and OpenTelemetry spans and metrics when an OTLP
// endpoint is configured. The gateway feeds it records; it never looks at
// requests or providers itself.
package telemetry

import "time"

// StatusClientClosed is the status recorded for a client that went away
// before its answer ended, as nginx and Envoy count it: the gateway did
// not fail, so it must not look like a 5xx.
const StatusClientClosed = 499

// KindClientClosed is the error kind of a client that went away.
const KindClientClosed = "client_closed"

// Request is one request's record, handed over when its last byte is
// written. Strings are empty when they do not apply.
type Request struct {
	ID          string
	Method      string
	Path        string
	KeyID       string // the key's id, never its secret
	Consumer    string
	Route       string
	Backend     string
	Provider    string
	Operation   string // "chat", "embeddings", "messages", ... ("" for plain HTTP routes)
	Model       string // as the client asked
	ServedModel string // the model that answered, when it differs
	Stream      bool

	Status    int
	ErrorKind string // "" on success; KindClientClosed or an api error kind
	Error     string // the client-safe message or the internal cause

	Cache       string // "hit", "miss", "bypass" or "" without a cache policy
	SavedTokens int64

	InputTokens, OutputTokens, CachedTokens, ReasoningTokens int64
	CostMicros                                               int64 // millionths of a USD

	Start   time.Time
	Latency time.Duration // to the last byte
	TTFT    time.Duration // to the first byte of a stream; 0 when none

	Attempts, Fallbacks, Hedges int
	SkippedEvents               int

	// Prompt and Answer are set only when the route's AccessLogPolicy
	// asks for them, already redacted and cut: the access log writes them
	// as they are, and nothing else reads them.
	Prompt, Answer string
}

// Attempt is one upstream attempt's record, handed over when it ends,
// before the request's.
type Attempt struct {
	Operation string // as Request's
	Route     string // as Request's: the HTTPRoute that chose the backend
	Backend   string
	Provider  string
	Model     string
	Start     time.Time
	Duration  time.Duration
	Status    int    // the upstream's status; 0 when none came
	ErrorKind string // "" when the attempt answered
}
