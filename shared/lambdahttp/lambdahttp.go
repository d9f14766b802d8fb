// Package lambdahttp serves a plain net/http Handler as an AWS Lambda
// function behind API Gateway REST proxy integrations (payload 1.0) and
// function URLs or HTTP APIs (payload 2.0), streamed or buffered.
//
// The handler never knows it runs in Lambda: it gets an *http.Request built
// from the event and an http.ResponseWriter that supports Flush, so the same
// value runs under net/http locally, under httptest in tests and here.
package lambdahttp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
)

// EnvStream names the environment variable the Lambda mains read to choose
// streaming ("true", the default) or buffered ("false") responses.
const EnvStream = "SLUICE_LAMBDA_STREAM"

// Config chooses how responses go back to the caller.
type Config struct {
	// Stream sends the response as it is written (API Gateway with response
	// transfer mode STREAM, function URLs with invoke mode RESPONSE_STREAM).
	// False buffers the whole response and returns it as one JSON document
	// (the classic proxy integrations; 6 MB limit).
	Stream bool
	// Logger receives handler panics; nil means slog.Default().
	Logger *slog.Logger
}

// ConfigFromEnv reads EnvStream through getenv (pass os.Getenv): unset or
// empty means streaming. A value strconv.ParseBool rejects is an error, so
// a typo fails the cold start instead of silently changing the mode.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{Stream: true}
	if v := getenv(EnvStream); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("lambdahttp: %s=%q: %w", EnvStream, v, err)
		}
		cfg.Stream = b
	}
	return cfg, nil
}

// Start serves h as the Lambda function of this process; it never returns.
// opts are passed to lambda.StartHandlerFunc.
//
// With cfg.Stream the invocation lasts exactly as long as h.ServeHTTP: the
// response body reaches EOF only when ServeHTTP returns, and Lambda freezes
// the sandbox as soon as the invocation ends. So work after the response
// (usage records, cache writes, metrics) must be done inside ServeHTTP,
// after the last Flush and before returning; goroutines left running after
// ServeHTTP returns may be frozen mid-way and never finish. In buffered mode
// the client sees nothing until ServeHTTP returns, so the same holds.
func Start(h http.Handler, cfg Config, opts ...lambda.Option) {
	lambda.StartHandlerFunc(NewHandler(h, cfg), opts...)
}

// NewHandler returns the Lambda handler Start runs, for tests and for
// callers that start the runtime themselves. For each event it builds the
// request (see the package's request rules), runs h and returns:
//
//   - streaming, REST event: *events.APIGatewayProxyStreamingResponse
//   - streaming, payload 2.0: *events.LambdaFunctionURLStreamingResponse
//   - buffered, REST event: events.APIGatewayProxyResponse
//   - buffered, payload 2.0: events.LambdaFunctionURLResponse
//
// An event that is not an HTTP event is an error. An event whose HTTP parts
// are malformed (bad base64 body) gets a 400 response, as a server would.
func NewHandler(h http.Handler, cfg Config) func(ctx context.Context, event json.RawMessage) (any, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &adapter{h: h, stream: cfg.Stream, log: log}
	return a.invoke
}

type adapter struct {
	h      http.Handler
	stream bool
	log    *slog.Logger
}

func (a *adapter) invoke(ctx context.Context, event json.RawMessage) (any, error) {
	var ev httpEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("lambdahttp: decode event: %w", err)
	}
	k := ev.kind()
	if k == kindUnknown {
		return nil, errNotHTTP
	}
	// Like net/http, the request's context ends when ServeHTTP returns or
	// the response can no longer be delivered.
	ctx, cancel := context.WithCancelCause(ctx)
	h := a.h
	req, err := ev.request(ctx, k)
	if err != nil {
		h = badRequest(err) // req is still whole, with an empty body
	}
	if a.stream {
		return a.serveStream(k, h, req, cancel), nil
	}
	defer cancel(nil)
	return a.serveBuffered(k, h, req), nil
}

func badRequest(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "400 Bad Request: "+err.Error(), http.StatusBadRequest)
	})
}

// RequestIDs are the identifiers AWS gave one request, for logs that must
// be matched with CloudWatch and API Gateway access logs.
type RequestIDs struct {
	// Lambda is the invocation's request id (lambdacontext's AwsRequestID).
	Lambda string
	// Gateway is requestContext.requestId: API Gateway's or the function
	// URL's id for the HTTP request.
	Gateway string
}

type ctxKey struct{}

// NewContext returns a copy of parent carrying ids.
func NewContext(parent context.Context, ids RequestIDs) context.Context {
	return context.WithValue(parent, ctxKey{}, ids)
}

// FromContext returns the ids of the request whose context ctx is (or
// derives from), and false outside Lambda.
func FromContext(ctx context.Context) (RequestIDs, bool) {
	ids, ok := ctx.Value(ctxKey{}).(RequestIDs)
	return ids, ok
}
