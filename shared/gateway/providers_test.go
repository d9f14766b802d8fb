package gateway_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
)

func TestNewRequiresProviders(t *testing.T) {
	_, err := gateway.New(gateway.Config{}, staticTable{}, ledger.NewAuthenticator(oneKey{}, 0, nil), nil)
	if err == nil || !strings.Contains(err.Error(), "Providers") {
		t.Fatalf("New without a provider registry: %v", err)
	}
}

// TestBedrockRegionAtRequestTime: a Bedrock backend that names neither
// endpoint nor region is reached in the process's region; without one,
// the request fails before anything is sent, and the request's log line
// says what to set.
func TestBedrockRegionAtRequestTime(t *testing.T) {
	tab := gatewaytest.Table(t, gatewaytest.Routes{"m": {{Provider: "bedrock", Credential: "bedrock-key"}}})
	for _, tt := range []struct {
		region, want string
	}{
		{"", "spec.region"},
		{"eu-west-3", "bedrock-runtime.eu-west-3.amazonaws.com"},
	} {
		var sent string
		tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent = r.URL.Host
			return nil, errors.New("not sent in tests")
		})
		var logs bytes.Buffer
		g := gatewaytest.New(t, tab, gatewaytest.WithCredentials(map[string]string{"bedrock-key": "k"}), gatewaytest.WithConfig(gateway.Config{
			Providers: builtin.Registry(provider.Deps{Region: tt.region}), Transport: tr, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
		g.Serve(http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		if got := sent + logs.String(); !strings.Contains(got, tt.want) {
			t.Errorf("region %q: sent to %q, logged %s; want %q", tt.region, sent, logs.String(), tt.want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
