// Package gatewaytest runs the gateway as tests meet it: the handler on an
// httptest server, in front of upstreams the test starts (the mock
// providers of package mock, or a handler of its own), with one API key, a
// route table built from manifests or written as a literal, the built-in
// provider registry, and a fixed clock, ids and random draws. Every test of
// the data plane builds its gateway here, so that what the gateway needs is
// wired in one place.
package gatewaytest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
)

// Gateway is a gateway under test, served on a loopback socket.
type Gateway struct {
	// Gateway is the handler itself, for tests that serve a request
	// without a socket (benchmarks, recorders).
	*gateway.Gateway
	// URL is the server's base URL, without a trailing slash.
	URL string
	// Key is the API key's secret, as clients present it; empty when the
	// keys come from WithStore.
	Key string
}

// Option changes what New builds.
type Option func(*setup)

type setup struct {
	cfg    gateway.Config
	creds  gateway.CredentialMap
	limits ledger.Limits
	tables gateway.Tables
	keys   gateway.Keys
	admin  http.Handler
}

// WithConfig sets the gateway's configuration. Its zero Providers, Now and
// Rand are the harness's: Providers(), the fixed clock and a Cycle.
func WithConfig(cfg gateway.Config) Option { return func(s *setup) { s.cfg = cfg } }

// WithCredentials gives the backends' credentials, by name.
func WithCredentials(creds map[string]string) Option {
	return func(s *setup) { s.creds = creds }
}

// WithKeyLimits puts limits on the harness's API key.
func WithKeyLimits(l ledger.Limits) Option { return func(s *setup) { s.limits = l } }

// WithStore serves the route tables and checks the keys from a store
// instead of the table New is given and the one key: tests of the
// ledger over DynamoDB create their keys through the admin API.
func WithStore(tables gateway.Tables, keys gateway.Keys) Option {
	return func(s *setup) { s.tables, s.keys = tables, keys }
}

// WithAdmin serves h under /admin/v1/ beside the gateway, on the same
// socket, as the local process does.
func WithAdmin(h http.Handler) Option { return func(s *setup) { s.admin = h } }

// New builds the gateway serving tab and starts it on an httptest server
// that speaks HTTP/1 and HTTP/2 with prior knowledge, as the local front
// door does, closed when the test ends.
func New(t testing.TB, tab *route.Table, opts ...Option) *Gateway {
	t.Helper()
	s := setup{tables: staticTable{tab}}
	for _, o := range opts {
		o(&s)
	}
	if s.cfg.Providers == nil {
		s.cfg.Providers = Providers()
	}
	if s.cfg.Now == nil {
		s.cfg.Now = providertest.Now
	}
	if s.cfg.Rand == nil {
		s.cfg.Rand = new(Cycle).IntN
	}
	g := &Gateway{}
	if s.keys == nil {
		var k ledger.Key
		g.Key, k = ledger.NewKey("test", "", providertest.Now())
		k.Limits = s.limits
		s.keys = ledger.NewAuthenticator(keyStore{k.ID: k}, 0, providertest.Now)
	}
	var creds gateway.Credentials
	if s.creds != nil {
		creds = s.creds
	}
	gw, err := gateway.New(s.cfg, s.tables, s.keys, creds)
	if err != nil {
		t.Fatal(err)
	}
	g.Gateway = gw
	var h http.Handler = gw
	if s.admin != nil {
		mux := http.NewServeMux()
		mux.Handle("/admin/v1/", s.admin)
		mux.Handle("/", gw)
		h = mux
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

// Providers is the built-in provider registry on the harness's
// dependencies: the fixed clock and ids of package providertest, Region,
// and the AWS credentials that BedrockMock accepts.
func Providers() *provider.Registry {
	deps := providertest.Deps()
	deps.Region = Region
	deps.Credentials = credentialsProvider()
	return builtin.Registry(deps)
}

// Do sends a request to the gateway with the given header names and
// values, in pairs, and returns the response with its body read.
func (g *Gateway) Do(t testing.TB, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// Post sends body to path with the harness's key as a bearer token.
func (g *Gateway) Post(t testing.TB, path, body string) (*http.Response, string) {
	t.Helper()
	return g.Do(t, http.MethodPost, path, body, "Authorization", "Bearer "+g.Key)
}

// Serve sends body to path with the harness's key straight to the
// handler, with no socket, and returns what it wrote.
func (g *Gateway) Serve(method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.Key)
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec
}

// OpenAI is an openai-go client of the gateway, with the harness's key and
// no retries.
func (g *Gateway) OpenAI(opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(g.URL + "/v1/"), option.WithAPIKey(g.Key), option.WithMaxRetries(0)}, opts...)...)
}

// Anthropic is an anthropic-sdk-go client of the gateway, with the
// harness's key and no retries.
func (g *Gateway) Anthropic(opts ...aoption.RequestOption) anthropic.Client {
	return anthropic.NewClient(append([]aoption.RequestOption{
		aoption.WithBaseURL(g.URL), aoption.WithAPIKey(g.Key), aoption.WithMaxRetries(0)}, opts...)...)
}

// staticTable serves one route table.
type staticTable struct{ t *route.Table }

func (s staticTable) Table() *route.Table { return s.t }

// keyStore holds the harness's key records by id.
type keyStore map[string]ledger.Key

func (m keyStore) GetKey(_ context.Context, id string) (ledger.Key, error) {
	k, ok := m[id]
	if !ok {
		return ledger.Key{}, ledger.ErrKeyNotFound
	}
	return k, nil
}
