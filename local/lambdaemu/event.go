package lambdaemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicegw/sluice/shared/lambdahttp"
)

// maxRequestBody is Lambda's limit for a synchronous invocation's payload;
// the base64 and JSON around the body are not counted here.
const maxRequestBody = 6 << 20

var errTooLarge = errors.New("request body exceeds 6 MB")

// ids are the identifiers one request gets, as API Gateway and Lambda
// would assign them.
type ids struct {
	gateway  string // requestContext.requestId, x-amzn-RequestId
	extended string // requestContext.extendedRequestId, x-amz-apigw-id
	lambda   string // Lambda-Runtime-Aws-Request-Id
	traceID  string // X-Amzn-Trace-Id's Root=...
}

func newIDs(now time.Time) ids {
	return ids{
		gateway:  newUUID(),
		extended: base64.StdEncoding.EncodeToString(randomBytes(10)),
		lambda:   newUUID(),
		traceID:  fmt.Sprintf("Root=1-%08x-%s", now.Unix(), randomHex(12)),
	}
}

// event builds the API Gateway REST proxy event for r, as API Gateway does
// for a {proxy+} resource (and the "/" resource for the root path): path
// still percent-encoded, query parameters decoded, every header in
// multiValueHeaders and its last value in headers, X-Forwarded-* and
// X-Amzn-Trace-Id added, and the body base64-encoded unless
// lambdahttp.IsText says its Content-Type is text and it is valid UTF-8.
func (e *Emulator) event(r *http.Request, id ids, now time.Time) ([]byte, error) {
	if r.ContentLength > maxRequestBody {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxRequestBody {
		return nil, errTooLarge
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}

	multi := make(map[string][]string, len(r.Header)+5)
	for k, vs := range r.Header {
		if len(vs) > 0 {
			multi[k] = vs
		}
	}
	multi["Host"] = []string{r.Host}
	ip := clientIP(r.RemoteAddr)
	multi["X-Forwarded-For"] = []string{strings.Join(append(r.Header.Values("X-Forwarded-For"), ip), ", ")}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	multi["X-Forwarded-Proto"] = []string{proto}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(la.String()); err == nil {
			multi["X-Forwarded-Port"] = []string{port}
		}
	}
	multi["X-Amzn-Trace-Id"] = []string{id.traceID}
	single := make(map[string]string, len(multi))
	for k, vs := range multi {
		single[k] = vs[len(vs)-1]
	}

	var qs map[string]string
	var mqs map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		qs, mqs = make(map[string]string, len(q)), map[string][]string(q)
		for k, vs := range q {
			qs[k] = vs[len(vs)-1]
		}
	}
	resource, params := "/{proxy+}", map[string]string{"proxy": path[1:]}
	if path == "/" {
		resource, params = "/", nil
	}
	domain := r.Host
	if h, _, err := net.SplitHostPort(domain); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")
	stage := e.cfg.Stage

	ev := events.APIGatewayProxyRequest{
		Resource:                        resource,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         single,
		MultiValueHeaders:               multi,
		QueryStringParameters:           qs,
		MultiValueQueryStringParameters: mqs,
		PathParameters:                  params,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         accountID,
			ResourceID:        "proxy0",
			Stage:             stage,
			DomainName:        domain,
			DomainPrefix:      prefix,
			RequestID:         id.gateway,
			ExtendedRequestID: id.extended,
			Protocol:          r.Proto,
			Identity:          events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
			ResourcePath:      resource,
			Path:              "/" + stage + path,
			HTTPMethod:        r.Method,
			RequestTime:       now.UTC().Format("02/Jan/2006:15:04:05 +0000"),
			RequestTimeEpoch:  now.UnixMilli(),
			APIID:             "local",
		},
	}
	if len(body) > 0 {
		if lambdahttp.IsText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return json.Marshal(ev)
}

func clientIP(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}

func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}
