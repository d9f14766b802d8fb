// Package gateway is the data plane: one net/http Handler that
// authenticates, routes, translates and streams AI API requests. The same
// value is served by the Lambda adapter, the local process and httptest.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// Tables gives the route table currently in force.
type Tables interface {
	Table() *route.Table
}

// Keys checks presented API keys.
type Keys interface {
	Check(ctx context.Context, presented string) (ledger.Key, error)
}

// Credentials resolves a backend's credential name to its value.
type Credentials interface {
	Credential(name string) (string, bool)
}

// Config holds the gateway's settings; zero values mean the defaults noted.
type Config struct {
	// Providers maps a backend's provider name to the provider that
	// translates, addresses and authenticates its requests; required. The
	// mains pass builtin.Registry, built with the dependencies they
	// resolved.
	Providers *provider.Registry
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	// Larger ones get 413.
	MaxBodyBytes int64
	// MaxResponseBytes bounds a non-streaming upstream body (default 64 MiB).
	MaxResponseBytes int64
	// Transport sends upstream requests; nil means a pooled transport tuned
	// for many concurrent, long-lived provider connections.
	Transport http.RoundTripper
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Telemetry receives each attempt's and request's record; nil means
	// the access log alone, written to Logger.
	Telemetry Telemetry
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limiter admits model requests against keys' limits and the routes'
	// TokenLimitPolicies and records their usage; nil: no limits, no usage.
	Limiter Limiter
	// SettleInBackground records usage after the handler returns (the
	// local process); by default it is recorded before, as Lambda needs.
	SettleInBackground bool
	// SettleID gives the id a request's debit is idempotent on, when the
	// runtime has one that survives retries (the Lambda invocation's id);
	// nil or "" means the gateway's own request id.
	SettleID func(*http.Request) string
	// Cache keeps answers for the routes a CachePolicy covers; nil: no
	// caching, whatever the policies say.
	Cache Cache
	// Vectors is the semantic cache's index of questions; nil: no
	// semantic lookups, whatever the policies say.
	Vectors VectorIndex
	// Rand draws uniformly from [0, n) for a request's random choices (a
	// backend by weight, an endpoint, whether to mirror); nil means
	// math/rand/v2's IntN. Tests set a fixed sequence to make shares exact.
	// It is called from many goroutines at once.
	Rand func(n int) int
	// Health shares backends' breaker and cooldown marks between gateway
	// instances (balance.Redis on the mains' Redis client); nil: each
	// instance learns on its own.
	Health balance.Shared

	// The entrypoints' settings, read by ConfigFromEnv and described in the
	// README's configuration table: New uses none of them, the mains wire
	// the store, Redis, the limiter, the key cache and the Lambda adapter
	// with them.
	RoutesTable, LedgerTable string
	DynamoDBEndpoint         string
	RedisURL                 string
	VectorRedisURL           string // the semantic cache's index; "" means RedisURL
	VectorSearch             string // "auto" or "lsh"
	ProviderSecretARN        string
	AWSRegion                string
	LimitsFailClosed         bool
	KeyCacheTTL              time.Duration
	TableRefresh             time.Duration
	LogLevel                 slog.Level
	LambdaStream             bool
	GCPercent                int    // for TuneGC; 0 leaves GOGC as it is
	MemoryLimit              int64  // for TuneGC, in bytes; 0 sets none
	EMF                      bool   // the Lambda prints EMF lines
	OTLPEndpoint             string // OpenTelemetry export; "" for none
}

// DefaultMaxBodyBytes is the request body limit when Config sets none.
const DefaultMaxBodyBytes = 8 << 20

// Gateway is the data-plane handler.
type Gateway struct {
	cfg    Config
	tables Tables
	keys   Keys
	creds  Credentials
	proxy  *httputil.ReverseProxy
	log    *slog.Logger
	now    func() time.Time

	limiter   Limiter
	telemetry Telemetry
	cache     Cache
	pending   sync.WaitGroup // background settles
	bal       *balance.Balancer
	prices    map[string]ledger.Price // list prices, for the LeastCost strategy

	semantic semanticHealth // the semantic cache's failures
}

// New returns a Gateway. creds may be nil when no backend needs credentials.
func New(cfg Config, tables Tables, keys Keys, creds Credentials) (*Gateway, error) {
	if tables == nil || keys == nil {
		return nil, errors.New("gateway: tables and keys are required")
	}
	if cfg.Providers == nil {
		return nil, errors.New("gateway: Config.Providers is required (the provider registry, e.g. builtin.Registry)")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 64 << 20
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.IntN
	}
	if creds == nil {
		creds = noCredentials{}
	}
	if cfg.Telemetry == nil {
		cfg.Telemetry = telemetry.New(telemetry.Config{Logger: cfg.Logger})
	}
	g := &Gateway{
		cfg: cfg, tables: tables, keys: keys, creds: creds,
		log: cfg.Logger, now: cfg.Now, limiter: cfg.Limiter, telemetry: cfg.Telemetry, cache: cfg.Cache,
	}
	g.proxy = g.newReverseProxy()
	g.bal = balance.New(balance.Config{Now: cfg.Now, Rand: cfg.Rand, Shared: cfg.Health, Logger: cfg.Logger})
	g.prices = ledger.DefaultPrices
	return g, nil
}

type noCredentials struct{}

func (noCredentials) Credential(string) (string, bool) { return "", false }

// send sends an upstream request through the transport. Redirects are
// not followed: the client gets the backend's answer as it is. It does what
// an http.Client with no redirects would do, without the per-request copy
// of the headers a Client keeps for following redirects: basic auth from
// credentials in the endpoint URL, and a non-nil body.
func (g *Gateway) send(req *http.Request) (*http.Response, error) {
	if u := req.URL.User; u != nil && req.Header.Get("Authorization") == "" {
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
	}
	resp, err := g.cfg.Transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// NewTransport returns the pooled upstream transport: connections are kept
// and reused across requests, many per provider host.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// ServeHTTP serves the AI API paths, and routes every other path to plain
// HTTP backends as the route table says.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{g: g, w: w, r: r, start: g.now(), id: newRequestID()}
	ep := api.EndpointOf(r.URL.Path)
	ex.anthropic = ep.Anthropic() || sharedByBoth(ep) && anthropicClient(r.Header)
	w.Header().Set("X-Request-Id", ex.id)
	ex.traceRequest()
	err := ex.serve()
	if err != nil && !ex.wroteHeader {
		// Errors take the shape of the client's protocol, chosen by endpoint.
		if ex.anthropic {
			api.WriteAnthropicError(w, err)
		} else {
			api.WriteOpenAIError(w, err)
		}
	}
	ex.logDone(err)
}

// sharedByBoth reports whether both protocols' clients call ep: the models
// and, for the shape of its 404, any path the gateway does not know.
func sharedByBoth(ep api.Endpoint) bool {
	return ep == api.EndpointModels || ep == api.EndpointModel || ep == api.EndpointUnknown
}

// anthropicClient reports whether a request on a path both protocols share
// (/v1/models) comes from an Anthropic client: Anthropic's SDKs send
// anthropic-version, and their key in x-api-key.
func anthropicClient(h http.Header) bool {
	return h.Get("Anthropic-Version") != "" || h.Get("X-Api-Key") != ""
}

// keyFrom finds the presented key in the headers clients use for it.
func keyFrom(h http.Header) string {
	if v := h.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:])
		}
		return ""
	}
	if v := h.Get("X-Api-Key"); v != "" {
		return v
	}
	return h.Get("Api-Key")
}

func newRequestID() string {
	var b [24]byte
	copy(b[:4], "req_")
	n := rand.Uint64()
	const hex = "0123456789abcdef"
	for i := 4; i < 20; i++ {
		b[i] = hex[n&15]
		n >>= 4
	}
	n = rand.Uint64()
	for i := 20; i < 24; i++ {
		b[i] = hex[n&15]
		n >>= 4
	}
	return string(b[:])
}

// hostOf strips the port from a Host header value.
func hostOf(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}
