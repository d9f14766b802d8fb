package gateway

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/route"
)

// testProviders is the built-in provider registry, with no AWS region or
// credentials.
var testProviders = builtin.Registry(provider.Deps{})

// awsProviders is the built-in registry signing Bedrock requests with
// creds.
func awsProviders(creds aws.Credentials) *provider.Registry {
	return builtin.Registry(provider.Deps{Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
}

func TestNewRequiresProviders(t *testing.T) {
	_, err := New(Config{}, staticTables{}, ledger.NewAuthenticator(keyMap{}, 0, nil), nil)
	if err == nil || !strings.Contains(err.Error(), "Providers") {
		t.Fatalf("New without a provider registry: %v", err)
	}
}

// TestBedrockRegionAtRequestTime: a Bedrock backend that names neither
// endpoint nor region is reached in the process's region; without one,
// the request fails before anything is sent, and the request's log line
// says what to set.
func TestBedrockRegionAtRequestTime(t *testing.T) {
	tab := backendTable(t, map[string]route.Backend{"m": {Provider: "bedrock", Credential: "bedrock-key"}})
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
		secret, k := ledger.NewKey("test", "", time.Now())
		g, err := New(Config{Providers: builtin.Registry(provider.Deps{Region: tt.region}), Transport: tr, Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
			staticTables{tab}, ledger.NewAuthenticator(keyMap{k.ID: k}, 0, nil), credMap{"bedrock-key": "k"})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if got := sent + logs.String(); !strings.Contains(got, tt.want) {
			t.Errorf("region %q: sent to %q, logged %s; want %q", tt.region, sent, logs.String(), tt.want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
