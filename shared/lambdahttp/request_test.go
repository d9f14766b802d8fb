package lambdahttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func loadEvent(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invokeCtx is the context aws-lambda-go gives a handler.
func invokeCtx() context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
}

// seen is what a handler observed of its request.
type seen struct {
	Method, Path, EscapedPath, RawQuery, RequestURI string
	Host, RemoteAddr, Proto                         string
	Header                                          http.Header
	Body                                            string
	ContentLength                                   int64
	IDs                                             RequestIDs
}

func capture(into *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			panic(err)
		}
		ids, _ := FromContext(r.Context())
		*into = seen{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			RequestURI: r.RequestURI, Host: r.Host, RemoteAddr: r.RemoteAddr, Proto: r.Proto,
			Header: r.Header, Body: string(b), ContentLength: r.ContentLength, IDs: ids,
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    seen
	}{
		{
			name:    "rest get with multi-value headers and query",
			fixture: "rest-get.json",
			want: seen{
				Method: "GET", Path: "/v1/models", EscapedPath: "/v1/models",
				RawQuery: "limit=10&tag=a%26b&tag=b+c", RequestURI: "/v1/models?limit=10&tag=a%26b&tag=b+c",
				Host: "abc123.execute-api.us-east-1.amazonaws.com", RemoteAddr: "203.0.113.7:0", Proto: "HTTP/1.1",
				Header: http.Header{
					"Accept":            {"application/json", "text/html"},
					"Authorization":     {"Bearer sk-sluice-abc-def"},
					"User-Agent":        {"curl/8.5.0"},
					"X-Amzn-Trace-Id":   {"Root=1-5e66d96f-7491f09xmpl79d18acf3d050"},
					"X-Forwarded-For":   {"203.0.113.7"},
					"X-Forwarded-Port":  {"443"},
					"X-Forwarded-Proto": {"https"},
					"X-Tag":             {"one", "two"},
				},
				IDs: RequestIDs{Lambda: "lambda-req-1", Gateway: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"},
			},
		},
		{
			name:    "rest post with base64 body and ipv6 source",
			fixture: "rest-post-base64.json",
			want: seen{
				Method: "POST", Path: "/v1/audio/transcriptions", EscapedPath: "/v1/audio/transcriptions",
				RequestURI: "/v1/audio/transcriptions", Host: "api.example.com", RemoteAddr: "[2001:db8::7]:0", Proto: "HTTP/1.1",
				Header: http.Header{
					"Content-Type":   {"application/octet-stream"},
					"Content-Length": {"6"},
				},
				Body: "\x00\xff\x01\x02\x03\x04", ContentLength: 6,
				IDs: RequestIDs{Lambda: "lambda-req-1", Gateway: "d1b4e6a0-7b61-11e6-9a41-93e8deadbeef"},
			},
		},
		{
			name:    "rest path keeps its encoding",
			fixture: "rest-encoded-path.json",
			want: seen{
				Method: "DELETE", Path: "/files/a b/c", EscapedPath: "/files/a%20b%2Fc", RawQuery: "q=x+y",
				RequestURI: "/files/a%20b%2Fc?q=x+y",
				Host:       "abc123.execute-api.us-east-1.amazonaws.com", RemoteAddr: "198.51.100.1:0", Proto: "HTTP/1.1",
				Header: http.Header{},
				IDs:    RequestIDs{Lambda: "lambda-req-1", Gateway: "e2b4e6a0-7b61-11e6-9a41-93e8deadbeef"},
			},
		},
		{
			name:    "http api payload 1.0",
			fixture: "httpapi-v1.json",
			want: seen{
				Method: "POST", Path: "/v1/embeddings", EscapedPath: "/v1/embeddings", RequestURI: "/v1/embeddings",
				Host: "xyz789.execute-api.us-east-1.amazonaws.com", RemoteAddr: "192.0.2.10:0", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}},
				Body:   `{"model":"text-embedding-3-small","input":"hi"}`, ContentLength: 47,
				IDs: RequestIDs{Lambda: "lambda-req-1", Gateway: "id="},
			},
		},
		{
			name:    "function url with cookies and raw query",
			fixture: "url-post.json",
			want: seen{
				Method: "POST", Path: "/v1/chat/completions", EscapedPath: "/v1/chat/completions",
				RawQuery: "stream=true&tag=a&tag=b%20c", RequestURI: "/v1/chat/completions?stream=true&tag=a&tag=b%20c",
				Host: "abcdefghij.lambda-url.us-east-1.on.aws", RemoteAddr: "198.51.100.23:0", Proto: "HTTP/1.1",
				Header: http.Header{
					"Accept":            {"text/event-stream,application/json"},
					"Content-Type":      {"application/json"},
					"Cookie":            {"session=abc; theme=dark"},
					"X-Api-Key":         {"sk-sluice-abc-def"},
					"X-Amzn-Trace-Id":   {"Root=1-62ecd163-5f302e550dcde3b12402207d"},
					"X-Forwarded-For":   {"198.51.100.23"},
					"X-Forwarded-Port":  {"443"},
					"X-Forwarded-Proto": {"https"},
				},
				Body:          `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
				ContentLength: 81,
				IDs:           RequestIDs{Lambda: "lambda-req-1", Gateway: "9a1c4c8e-5a7e-4e4b-9a4e-2f0c1d2e3f40"},
			},
		},
		{
			name:    "http api 2.0 with a decoded path",
			fixture: "httpapi-v2.json",
			want: seen{
				Method: "PUT", Path: "/files/a b?c", EscapedPath: "/files/a%20b%3Fc", RequestURI: "/files/a%20b%3Fc",
				Host: "xyz789.execute-api.us-east-1.amazonaws.com", RemoteAddr: "192.0.2.33:0", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Type": {"application/octet-stream"}},
				Body:   "\x00\x01\x02", ContentLength: 3,
				IDs: RequestIDs{Lambda: "lambda-req-1", Gateway: "JKJaXmPLvHcESHA="},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			resp, err := NewHandler(capture(&got), Config{})(invokeCtx(), loadEvent(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if code := statusOf(t, resp); code != http.StatusNoContent {
				t.Fatalf("status %d, want 204 (handler not reached?)", code)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("request\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func statusOf(t *testing.T, resp any) int {
	t.Helper()
	switch r := resp.(type) {
	case events.APIGatewayProxyResponse:
		return r.StatusCode
	case events.LambdaFunctionURLResponse:
		return r.StatusCode
	}
	t.Fatalf("unexpected response type %T", resp)
	return 0
}

// TestFixtures checks the fixtures decode into aws-lambda-go's own event
// types, so they keep AWS's shapes, and that each is detected as its kind.
func TestFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		kind    eventKind
	}{
		{"rest-get.json", kindREST},
		{"rest-post-base64.json", kindREST},
		{"rest-encoded-path.json", kindREST},
		{"rest-bad-base64.json", kindREST},
		{"httpapi-v1.json", kindREST},
		{"url-post.json", kindV2},
		{"httpapi-v2.json", kindV2},
		{"sqs.json", kindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw := loadEvent(t, tt.fixture)
			var ev httpEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if got := ev.kind(); got != tt.kind {
				t.Fatalf("kind %d, want %d", got, tt.kind)
			}
			switch tt.kind {
			case kindREST:
				var v events.APIGatewayProxyRequest
				if err := json.Unmarshal(raw, &v); err != nil || v.HTTPMethod == "" || v.RequestContext.RequestID == "" {
					t.Fatalf("not a REST proxy event: %v %+v", err, v)
				}
			case kindV2:
				var v events.LambdaFunctionURLRequest
				if err := json.Unmarshal(raw, &v); err != nil || v.RequestContext.HTTP.Method == "" {
					t.Fatalf("not a payload 2.0 event: %v %+v", err, v)
				}
			}
		})
	}
}

func TestNotHTTP(t *testing.T) {
	for _, stream := range []bool{false, true} {
		_, err := NewHandler(http.NotFoundHandler(), Config{Stream: stream})(invokeCtx(), loadEvent(t, "sqs.json"))
		if !errors.Is(err, errNotHTTP) {
			t.Errorf("stream=%v: err %v, want errNotHTTP", stream, err)
		}
	}
}

func TestBadBody(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	resp, err := NewHandler(h, Config{})(invokeCtx(), loadEvent(t, "rest-bad-base64.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code := statusOf(t, resp); code != http.StatusBadRequest || called {
		t.Fatalf("status %d, handler called %v; want 400 without the handler", code, called)
	}
}

func TestRequestPath(t *testing.T) {
	tests := []struct {
		name, in, path, raw string
	}{
		{"plain", "/v1/chat/completions", "/v1/chat/completions", ""},
		{"empty", "", "/", ""},
		{"no leading slash", "v1/models", "/v1/models", ""},
		{"encoded space", "/a%20b", "/a b", ""},
		{"encoded slash kept", "/a%2Fb", "/a/b", "/a%2Fb"},
		{"decoded space", "/a b", "/a b", ""},
		{"decoded question mark", "/a?b", "/a?b", ""},
		{"bare percent", "/100%", "/100%", ""},
		{"non-ascii", "/caf\u00e9", "/caf\u00e9", ""},
		{"sub-delims", "/a!b*c", "/a!b*c", "/a!b*c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, raw := requestPath(tt.in)
			if p != tt.path || raw != tt.raw {
				t.Errorf("requestPath(%q) = %q, %q; want %q, %q", tt.in, p, raw, tt.path, tt.raw)
			}
		})
	}
}
