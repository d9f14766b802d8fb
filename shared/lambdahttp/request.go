package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

var errNotHTTP = errors.New("lambdahttp: event is neither an API Gateway proxy event nor a payload 2.0 HTTP event")

type eventKind uint8

const (
	kindUnknown eventKind = iota
	// kindREST is payload format 1.0: API Gateway REST proxy integrations
	// (and HTTP APIs set to 1.0). Responses are APIGatewayProxy*.
	kindREST
	// kindV2 is payload format 2.0: function URLs and HTTP APIs.
	// Responses are LambdaFunctionURL*.
	kindV2
)

// httpEvent holds what a request needs from either payload format, so one
// decode both detects the kind and fills the request; the rest of the event
// (authorizers, identities) is skipped by the decoder.
type httpEvent struct {
	Version string `json:"version"`

	// Payload 1.0.
	HTTPMethod            string              `json:"httpMethod"`
	Path                  string              `json:"path"`
	MultiValueHeaders     map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters json.RawMessage     `json:"queryStringParameters"` // decoded only without multi

	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`

	// Payload 2.0.
	RawPath        string   `json:"rawPath"`
	RawQueryString string   `json:"rawQueryString"`
	Cookies        []string `json:"cookies"`

	// Both.
	Headers         json.RawMessage `json:"headers"` // decoded only when needed: REST sends every value again in multiValueHeaders
	Body            string          `json:"body"`
	IsBase64Encoded bool            `json:"isBase64Encoded"`
	RequestContext  struct {
		RequestID  string `json:"requestId"`
		DomainName string `json:"domainName"`
		Protocol   string `json:"protocol"` // 1.0
		Identity   struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"` // 1.0
		HTTP struct {
			Method   string `json:"method"`
			Protocol string `json:"protocol"`
			SourceIP string `json:"sourceIp"`
		} `json:"http"` // 2.0
	} `json:"requestContext"`
}

func (ev *httpEvent) kind() eventKind {
	switch {
	case ev.Version == "2.0":
		if ev.RequestContext.HTTP.Method == "" {
			return kindUnknown
		}
		return kindV2
	case ev.HTTPMethod != "":
		return kindREST
	}
	return kindUnknown
}

// request builds the request by the rules in the package comment. The only
// error is an undecodable body; the request is then still whole, with an
// empty body, so the caller can answer 400.
func (ev *httpEvent) request(ctx context.Context, k eventKind) (*http.Request, error) {
	r := &http.Request{
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Body:       http.NoBody,
	}
	u := &url.URL{}
	var proto, sourceIP string
	if k == kindREST {
		r.Method = ev.HTTPMethod
		u.Path, u.RawPath = requestPath(ev.Path)
		u.RawQuery = encodeQuery(ev.MultiValueQueryStringParameters, ev.QueryStringParameters)
		r.Header = restHeader(ev.MultiValueHeaders, ev.Headers)
		proto, sourceIP = ev.RequestContext.Protocol, ev.RequestContext.Identity.SourceIP
	} else {
		r.Method = ev.RequestContext.HTTP.Method
		u.Path, u.RawPath = requestPath(ev.RawPath)
		u.RawQuery = ev.RawQueryString
		r.Header = singleHeader(stringMap(ev.Headers), len(ev.Cookies) > 0)
		if len(ev.Cookies) > 0 {
			r.Header["Cookie"] = []string{strings.Join(ev.Cookies, "; ")}
		}
		proto, sourceIP = ev.RequestContext.HTTP.Protocol, ev.RequestContext.HTTP.SourceIP
	}
	r.URL = u
	r.RequestURI = u.RequestURI()
	if major, minor, ok := http.ParseHTTPVersion(proto); ok {
		r.Proto, r.ProtoMajor, r.ProtoMinor = proto, major, minor
	}
	if hs := r.Header["Host"]; len(hs) > 0 {
		r.Host = hs[0]
		delete(r.Header, "Host")
	} else {
		r.Host = ev.RequestContext.DomainName
	}
	if sourceIP != "" {
		r.RemoteAddr = net.JoinHostPort(sourceIP, "0")
	}
	ctx = NewContext(ctx, RequestIDs{Lambda: lambdaRequestID(ctx), Gateway: ev.RequestContext.RequestID})

	var err error
	switch {
	case ev.Body == "":
	case ev.IsBase64Encoded:
		var b []byte
		b, err = base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			err = fmt.Errorf("body is not valid base64: %w", err)
			break
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	default:
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(ev.Body)), int64(len(ev.Body))
	}
	return r.WithContext(ctx), err
}

func lambdaRequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// restHeader prefers multiValueHeaders, which API Gateway fills with every
// value; headers keeps only the last one of each name.
func restHeader(multi map[string][]string, single json.RawMessage) http.Header {
	if len(multi) == 0 {
		return singleHeader(stringMap(single), false)
	}
	h := make(http.Header, len(multi))
	for k, vs := range multi {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if prev, ok := h[ck]; ok { // the same name in two casings
			h[ck] = append(prev, vs...)
		} else {
			h[ck] = vs // the decoded event is ours alone
		}
	}
	return h
}

func singleHeader(single map[string]string, extra bool) http.Header {
	n := len(single)
	if extra {
		n++
	}
	h := make(http.Header, n)
	// One backing array for all values, as net/textproto does.
	vals := make([]string, len(single))
	i := 0
	for k, v := range single {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		vals[i] = v
		if prev, ok := h[ck]; ok {
			h[ck] = append(prev[:len(prev):len(prev)], v)
		} else {
			h[ck] = vals[i : i+1 : i+1]
		}
		i++
	}
	return h
}

// stringMap decodes one of the events' map[string]string fields; anything
// else (null, or a shape no event has) gives nil.
func stringMap(raw json.RawMessage) map[string]string {
	var m map[string]string
	if len(raw) > 0 && json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// encodeQuery rebuilds a raw query from API Gateway's decoded parameters,
// keys sorted so the same request always gives the same URL.
func encodeQuery(multi map[string][]string, singleRaw json.RawMessage) string {
	if len(multi) == 0 {
		single := stringMap(singleRaw)
		if len(single) == 0 {
			return ""
		}
		multi = make(map[string][]string, len(single))
		for k, v := range single {
			multi[k] = []string{v}
		}
	}
	keys := make([]string, 0, len(multi))
	for k := range multi {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		ek := url.QueryEscape(k)
		for _, v := range multi[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// requestPath turns an event's path, encoded or not, into URL.Path and
// URL.RawPath (empty when the default encoding of Path gives it back).
func requestPath(p string) (path, rawPath string) {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if plainPath(p) {
		return p, ""
	}
	esc := escapePath(p)
	dec, err := url.PathUnescape(esc)
	if err != nil { // cannot happen: escapePath leaves only valid escapes
		return p, ""
	}
	if (&url.URL{Path: dec}).EscapedPath() == esc {
		return dec, ""
	}
	return dec, esc
}

// plainPath reports whether p needs neither unescaping nor escaping.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if isUnreserved(c) {
			continue
		}
		switch c {
		case '/', '$', '&', '+', ',', ':', ';', '=', '@':
			continue
		}
		return false
	}
	return true
}

// escapePath percent-encodes what may not appear literally in an encoded
// path (space, '?', '#', '%' not starting an escape, non-ASCII, controls)
// and keeps everything else, valid escapes included.
func escapePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case isUnreserved(c), strings.IndexByte("/!$&'()*+,;=:@[]", c) >= 0:
			b.WriteByte(c)
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
