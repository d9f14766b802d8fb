package gatewaytest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicegw/sluice/shared/mock"
)

// The AWS identity of the harness: Providers signs Bedrock requests with
// these credentials, for backends in Region unless they name another.
const (
	AccessKeyID     = "AKIDGATEWAYTEST"
	SecretAccessKey = "gateway-test-secret"
	Region          = "us-east-1"
)

// AWSCredentials are the harness's AWS credentials.
func AWSCredentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, Source: "gatewaytest"}
}

type staticCredentials struct{}

func (staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return AWSCredentials(), nil
}

func credentialsProvider() aws.CredentialsProvider { return staticCredentials{} }

// BedrockMock is the mock Bedrock provider accepting only requests signed
// with the harness's credentials, whose signatures it verifies.
func BedrockMock() *mock.Bedrock {
	creds := AWSCredentials()
	return &mock.Bedrock{Credentials: &creds}
}

// Upstream serves h on a loopback socket until the test ends and returns
// its base URL.
func Upstream(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Recorder keeps what reached an upstream, for tests that check what the
// gateway sent.
type Recorder struct {
	mu   sync.Mutex
	seen []Sent
}

// Sent is one request an upstream received.
type Sent struct {
	// URL is the request's URI: its path and query.
	URL    string
	Path   string
	Header http.Header
	Body   []byte
}

// Wrap returns h recording each request before h serves it.
func (r *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.seen = append(r.seen, Sent{URL: req.URL.String(), Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

// Last is the last request recorded; the test fails if there is none.
func (r *Recorder) Last(t testing.TB) Sent {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		t.Fatal("the upstream received no request")
	}
	return r.seen[len(r.seen)-1]
}

// Count is how many requests were recorded.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// Cycle is a Config.Rand that draws, for each n, 0, 1, ..., n-1 and over
// again: n requests through a choice out of n see every draw once, so
// weighted shares come out exact. It is safe for concurrent use.
type Cycle struct {
	mu   sync.Mutex
	next map[int]int
}

// IntN is the next draw in [0, n).
func (c *Cycle) IntN(n int) int {
	if n == 1 {
		return 0 // no lock where there is no choice: one backend, as benchmarks have
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[int]int{}
	}
	x := c.next[n]
	c.next[n] = (x + 1) % n
	return x
}
