// Package lambdahttp serves a plain net/http Handler as an AWS Lambda
// function behind API Gateway REST proxy integrations (payload 1.0) and
// function URLs or HTTP APIs (payload 2.0), streamed or buffered.
//
// The handler never knows it runs in Lambda: it gets an *http.Request built
// from the event and an http.ResponseWriter that supports Flush, so the same
// value runs under net/http locally, under httptest in tests and here.
//
// # Requests
//
// The request is the one a net/http server would have built:
//
//   - Method, path and query come from httpMethod, path and the multi-value
//     query parameters (payload 1.0; keys sorted, as API Gateway does not
//     keep their order) or from requestContext.http.method, rawPath and
//     rawQueryString (payload 2.0). A path may arrive percent-encoded (REST
//     APIs, function URLs) or decoded (HTTP APIs): bytes that cannot appear
//     in an encoded path are escaped, valid escapes are kept.
//   - Headers come from multiValueHeaders when present, else headers; keys
//     are canonicalised. Payload 2.0 headers arrive comma-joined and stay
//     so; its cookies array becomes one Cookie header.
//   - Host is the Host header, else requestContext.domainName; as on a
//     server it is in r.Host, not r.Header.
//   - RemoteAddr is "sourceIp:0", so net.SplitHostPort works on it as on a
//     TCP server; API Gateway does not give the client's port.
//   - A base64 body is decoded; ContentLength is the body's length. A body
//     that is not valid base64 gets a 400 without reaching the handler.
//   - The context is the invocation's (with its deadline and lambdacontext),
//     carries RequestIDs, and ends when ServeHTTP returns or the runtime
//     stops reading the response.
//
// # Responses
//
// As with net/http, the header is fixed by WriteHeader or the first Write,
// Content-Type is sniffed when the handler sets none, HEAD responses and
// 204 and 304 have no body, and 1xx codes are dropped (Lambda cannot send
// them). Streamed, the prelude leaves on the first Write or Flush and each
// Write goes to the runtime unbuffered. Buffered, the body travels as a
// JSON string when IsText accepts its Content-Type and it is valid UTF-8,
// in base64 otherwise. REST responses carry every header in
// multiValueHeaders; payload 2.0 responses join repeated values with ","
// and move Set-Cookie to cookies.
//
// A handler that panics before any byte of the response left gets a plain
// 500. After that (streaming only), the body ends with an error, which
// aws-lambda-go reports in the Runtime API's error trailers with the type
// ErrorTypePanic or ErrorTypeAbort, and the client's connection is cut.
package lambdahttp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

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

// NewHandler returns the Lambda handler that serves h; a function's main
// runs it with lambda.StartHandlerFunc. (This package does not import the
// runtime itself, so that the local process, which only borrows its rules,
// links none of the runtime's RPC mode.) For each event it builds the
// request (see Requests above), runs h and returns:
//
//   - streaming, REST event: *events.APIGatewayProxyStreamingResponse
//   - streaming, payload 2.0: *events.LambdaFunctionURLStreamingResponse
//   - buffered, REST event: events.APIGatewayProxyResponse
//   - buffered, payload 2.0: events.LambdaFunctionURLResponse
//
// An event that is not an HTTP event is an error.
//
// With cfg.Stream the invocation lasts exactly as long as h.ServeHTTP: the
// response body reaches EOF only when ServeHTTP returns, and Lambda freezes
// the sandbox as soon as the invocation ends. So work after the response
// (usage records, cache writes, metrics) must be done inside ServeHTTP,
// after the last Flush and before returning; goroutines left running after
// ServeHTTP returns may be frozen mid-way and never finish. In buffered mode
// the client sees nothing until ServeHTTP returns, so the same holds.
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
