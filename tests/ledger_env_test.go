package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/store"
	"github.com/sluicegw/sluice/shared/window"
)

// ledgerEnv is a gateway and admin API served over a real socket, with the
// ledger in DynamoDB Local (fresh tables) and rate windows in a real
// redis-server, in front of the mock OpenAI provider.
type ledgerEnv struct {
	t     *testing.T
	url   string
	st    *store.Store
	db    *flakyDB
	adm   *admin.Admin
	clock *clock
}

var ledgerTables atomic.Int64

type ledgerOpts struct {
	policy     string       // TokenLimitPolicy YAML (namespace ai), if any
	failClosed bool         // SLUICE_LIMITS_FAIL=closed
	redisURL   string       // default: the harness's redis-server
	backend    http.Handler // default: the mock OpenAI provider
	cache      bool         // answers cached in the same redis-server (a CachePolicy in policy turns it on)
}

// clock is the limiter's and the admin's clock: fixed in the middle of a
// minute, so per-minute windows cannot roll over during a test.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

const ledgerManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ai}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: mock, namespace: ai}
spec: {provider: openai, endpoint: "%s/v1", models: [gpt-4o, gpt-4o-mini, free-model]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: ai}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - {path: {type: PathPrefix, value: /v1}, headers: [{name: x-sluice-model, value: gpt-4o}]}
    - {path: {type: PathPrefix, value: /v1}, headers: [{name: x-sluice-model, value: gpt-4o-mini}]}
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: mock}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: free, namespace: ai}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - {path: {type: PathPrefix, value: /v1}, headers: [{name: x-sluice-model, value: free-model}]}
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: mock}]
`

func newLedgerEnv(t *testing.T, o ledgerOpts) *ledgerEnv {
	t.Helper()
	ctx := context.Background()
	// Tables of its own, named apart from the local process's (routes-N,
	// ledger-N), which share this DynamoDB Local.
	endpoint := env.DynamoDB(t)
	n := ledgerTables.Add(1)
	routesTable, ledgerTable := fmt.Sprintf("lt-routes-%d", n), fmt.Sprintf("lt-ledger-%d", n)
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateTables(ctx, client, routesTable, ledgerTable); err != nil {
		t.Fatal(err)
	}
	e := &ledgerEnv{t: t, db: &flakyDB{DB: client}, clock: &clock{}}
	e.clock.ns.Store(time.Date(2026, 11, 27, 12, 0, 20, 0, time.UTC).UnixNano())
	e.st = store.New(e.db, routesTable, ledgerTable)
	backend := o.backend
	if backend == nil {
		backend = &mock.OpenAI{}
	}
	up := httptest.NewServer(backend)
	t.Cleanup(up.Close)
	e.adm = admin.New(admin.Config{Now: e.clock.Now}, e.st)
	files := map[string]string{"ledger.yaml": fmt.Sprintf(ledgerManifests, up.URL)}
	if o.policy != "" {
		files["policy.yaml"] = o.policy
	}
	resp, status, err := e.adm.Apply(ctx, admin.ApplyRequest{Files: files})
	if err != nil || status != http.StatusOK {
		t.Fatalf("apply: %d %v %v", status, err, resp.Problems)
	}
	redisURL := o.redisURL
	if redisURL == "" {
		redisURL = "redis://" + env.Redis(t)
	}
	rc, err := window.NewClient(redisURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	lim := ledger.NewLimiter(ledger.LimiterConfig{FailClosed: o.failClosed, Now: e.clock.Now, SettleTimeout: 20 * time.Second},
		window.New(rc), e.st)
	tables, err := gateway.NewTableWatcher(ctx, e.st, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := gateway.Config{Limiter: lim}
	if o.cache {
		cfg.Cache = cache.NewRedis(rc, cache.StoreConfig{})
	}
	e.url = gatewaytest.New(t, nil, gatewaytest.WithConfig(cfg),
		gatewaytest.WithStore(tables, ledger.NewAuthenticator(e.st, time.Second, nil)), gatewaytest.WithAdmin(e.adm)).URL
	return e
}

// key creates an API key through the admin API.
func (e *ledgerEnv) key(name, consumer string, lim ledger.Limits) admin.CreateKeyResponse {
	e.t.Helper()
	var resp admin.CreateKeyResponse
	e.adminDo(http.MethodPost, "/admin/v1/keys", admin.CreateKeyRequest{Name: name, Consumer: consumer, Limits: lim}, http.StatusCreated, &resp)
	return resp
}

func (e *ledgerEnv) adminDo(method, path string, body any, want int, into any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// usage reads the admin API's usage JSON.
func (e *ledgerEnv) usage(query string) admin.UsageResponse {
	e.t.Helper()
	var u admin.UsageResponse
	e.adminDo(http.MethodGet, "/admin/v1/usage?"+query, nil, http.StatusOK, &u)
	return u
}

// chat sends one chat completion; body is the JSON request.
func (e *ledgerEnv) chat(ctx context.Context, key, body string) (*http.Response, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ledgerClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

var ledgerClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func chatBody(model, prompt string, extra string) string {
	b, _ := json.Marshal(prompt)
	return `{"model":"` + model + `","messages":[{"role":"user","content":` + string(b) + `}]` + extra + `}`
}

// reported is the usage object of an OpenAI response body.
type reported struct {
	Usage struct {
		PromptTokens        int64 `json:"prompt_tokens"`
		CompletionTokens    int64 `json:"completion_tokens"`
		PromptTokensDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
		CompletionTokensDetails struct {
			ReasoningTokens int64 `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	} `json:"usage"`
}

// flakyDB is the DynamoDB client with injected failures: the next
// throttles calls of UpdateItem and TransactWriteItems fail with
// ProvisionedThroughputExceededException and ThrottlingException in turn.
type flakyDB struct {
	store.DB
	mu        sync.Mutex
	throttles int
	injected  int
}

func (f *flakyDB) throttle(n int) {
	f.mu.Lock()
	f.throttles = n
	f.mu.Unlock()
}

func (f *flakyDB) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.throttles == 0 {
		return nil
	}
	f.throttles--
	f.injected++
	if f.injected%2 == 1 {
		return &types.ProvisionedThroughputExceededException{Message: new(string)}
	}
	return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate of requests exceeds the allowed throughput."}
}

func (f *flakyDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.DB.UpdateItem(ctx, in, opts...)
}

func (f *flakyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.DB.TransactWriteItems(ctx, in, opts...)
}
