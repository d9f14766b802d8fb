package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/servers"
	"github.com/sluicegw/sluice/shared/store"
)

const module = "github.com/sluicegw/sluice"

// env is everything the measurements run against.
type env struct {
	cfg      config
	tmp      string
	local    string // the built local binary
	lambda   string // the gateway Lambda's bootstrap, built for this machine
	dataDir  string
	dynamo   *servers.Server
	db       *dynamodb.Client
	redis    *servers.Server // nil: the gateway runs its embedded Redis
	mock     *child
	mockAddr string
	gw       *gatewayProc
	starts   int // gateway processes started so far, for log names
}

func (e *env) close() {
	e.gw.stop()
	e.mock.stop()
	if e.redis != nil {
		e.redis.Stop()
	}
	if e.dynamo != nil {
		e.dynamo.Stop()
	}
}

// goTags are the build tags of the binaries measured: the Makefile's
// GOTAGS, which every shipped binary is built with (a test in tests/
// keeps the two the same).
const goTags = "grpcnotrace"

// repoRoot finds the module's root from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module "+module+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s go.mod in %s or above: run from the repository", module, dir)
		}
	}
}

// setUp builds the local binary and the gateway Lambda, and starts DynamoDB
// Local, Redis when redis-server is installed, the mock provider and the
// gateway. The env it returns, even with an error, must be closed.
func setUp(ctx context.Context, cfg config, root, tmp string) (*env, error) {
	e := &env{cfg: cfg, tmp: tmp, local: filepath.Join(tmp, "sluice-local"), dataDir: filepath.Join(tmp, "data")}
	progress("building ./local")
	build := exec.CommandContext(ctx, "go", "build", "-tags", goTags, "-o", e.local, "./local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return e, fmt.Errorf("go build ./local: %w\n%s", err, out)
	}
	var err error
	if e.lambda, err = buildLambda(ctx, root, filepath.Join(tmp, "lambda")); err != nil {
		return e, err
	}
	if err := e.startStores(ctx, root); err != nil {
		return e, err
	}
	if err := e.startMock(ctx); err != nil {
		return e, err
	}
	manifests := filepath.Join(tmp, "manifests")
	if err := writeManifests(manifests, "http://"+e.mockAddr); err != nil {
		return e, err
	}
	progress("starting the gateway (SLUICE_LOG_LEVEL=%s)", cfg.logLevel)
	gw, err := e.startGateway(ctx, manifests, "", 60*time.Second)
	if err != nil {
		return e, err
	}
	e.gw = gw
	progress("gateway pid %d on %s, ready in %s", gw.pid(), gw.addr, gw.ready.Sub(gw.started).Round(time.Millisecond))
	return e, nil
}

func (e *env) startStores(ctx context.Context, root string) error {
	jar, err := servers.FindDynamoDBJar(root)
	if err != nil {
		return err
	}
	progress("starting DynamoDB Local (in memory)")
	if e.dynamo, err = servers.StartDynamoDB(ctx, servers.DynamoDBOptions{Jar: jar}); err != nil {
		return err
	}
	if e.db, err = store.NewClient(ctx, e.dynamo.URL("http")); err != nil {
		return err
	}
	if err := store.CreateTables(ctx, e.db, store.DefaultRoutesTable, store.DefaultLedgerTable); err != nil {
		return err
	}
	if e.redis, err = servers.StartRedis(ctx, nil); errors.Is(err, servers.ErrMissing) {
		progress("redis-server not installed: the gateway runs its embedded Redis")
		e.redis = nil
	} else if err != nil {
		return err
	}
	return nil
}

// startMock runs this program again as the mock provider, so that the
// mock's CPU time is neither the gateway's nor the load generator's.
func (e *env) startMock(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if e.mockAddr, err = servers.FreePort(); err != nil {
		return err
	}
	progress("starting the mock providers (OpenAI, Anthropic) on %s", e.mockAddr)
	if e.mock, err = startChild("mock", e.tmp, childEnv(), self, "-serve-mock", e.mockAddr); err != nil {
		return err
	}
	url := "http://" + e.mockAddr + "/v1/models"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		if e.mock.exited() {
			return e.mock.failure(errors.New("exited before it answered"))
		}
		select {
		case <-ctx.Done():
			return e.mock.failure(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// serveMock is the mock provider process, with no delays: mock.OpenAI at
// /v1 and mock.Anthropic at /anthropic/v1, as the local process mounts them.
func serveMock(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mockHandler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// mockHandler serves mock.OpenAI at /v1 and mock.Anthropic at
// /anthropic/v1, with no delays.
func mockHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/anthropic/", http.StripPrefix("/anthropic", &mock.Anthropic{}))
	mux.Handle("/", &mock.OpenAI{})
	return mux
}

// manifestsFor routes model mock-gpt to the mock OpenAI provider and model
// mock-claude to the mock Anthropic provider; the two %s are their
// endpoints.
const manifestsFor = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: sluice, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: mock, namespace: default}
spec:
  provider: openai
  endpoint: %s
  models: [mock-gpt, mock-cached, mock-semantic]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: default}
spec:
  parentRefs: [{name: sluice}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1}
      headers: [{name: x-sluice-model, value: mock-gpt}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: mock}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat-cached, namespace: default}
spec:
  parentRefs: [{name: sluice}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1}
      headers: [{name: x-sluice-model, value: mock-cached}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: mock}]
---
apiVersion: sluice.dev/v1alpha1
kind: CachePolicy
metadata: {name: chat-cached, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat-cached}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat-semantic, namespace: default}
spec:
  parentRefs: [{name: sluice}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1}
      headers: [{name: x-sluice-model, value: mock-semantic}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: mock}]
---
apiVersion: sluice.dev/v1alpha1
kind: CachePolicy
metadata: {name: chat-semantic, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat-semantic}]
  mode: semantic
  semantic: {embeddingBackend: mock, embeddingModel: text-embedding-3-small}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: mock-anthropic, namespace: default}
spec:
  provider: anthropic
  endpoint: %s
  models: [mock-claude]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat-anthropic, namespace: default}
spec:
  parentRefs: [{name: sluice}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1}
      headers: [{name: x-sluice-model, value: mock-claude}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: mock-anthropic}]
`

// writeManifests writes the bench's manifests for the mock provider
// process at base (http://HOST:PORT).
func writeManifests(dir, base string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "bench.yaml"), fmt.Appendf(nil, manifestsFor, base+"/v1", base+"/anthropic/v1"), 0o644)
}

// gatewayProc is a running local process and what it answers with.
type gatewayProc struct {
	*child
	addr  string
	key   string
	ready time.Time // when the first chat completion was answered
}

func (g *gatewayProc) url(path string) string { return "http://" + g.addr + path }

// startGateway starts the local process with the given manifests folder
// ("" applies none and loads the stored route table) and waits until it
// answers a chat completion with 200. key is the API key when known;
// otherwise it is read from the data folder as soon as it is written.
func (e *env) startGateway(ctx context.Context, manifests, key string, timeout time.Duration) (*gatewayProc, error) {
	addr, err := servers.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", addr, "-manifests", manifests, "-data-dir", e.dataDir, "-dynamodb", e.dynamo.URL("http")}
	if e.redis != nil {
		args = append(args, "-redis", e.redis.URL("redis"))
	}
	e.starts++
	c, err := startChild(fmt.Sprintf("gateway-%d", e.starts), e.tmp,
		childEnv("SLUICE_LOG_LEVEL="+e.cfg.logLevel, "SLUICE_MOCK_PROVIDERS=off"), e.local, args...)
	if err != nil {
		return nil, err
	}
	g := &gatewayProc{child: c, addr: addr, key: key}
	if err := g.waitAnswer(ctx, filepath.Join(e.dataDir, "api-key"), timeout); err != nil {
		g.stop()
		return nil, g.failure(err)
	}
	return g, nil
}

// waitAnswer waits until the gateway answers a chat completion with 200:
// it tries to connect every 200 µs (a refused connection costs little, so
// the polling takes little CPU from the starting process), then asks.
func (g *gatewayProc) waitAnswer(ctx context.Context, keyFile string, timeout time.Duration) error {
	defer preciseClock()()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	last := errors.New("no answer")
	listening := false
	for {
		if !listening {
			if c, err := net.Dial("tcp", g.addr); err == nil {
				c.Close()
				listening = true
			}
		}
		if listening && g.key == "" {
			if b, err := os.ReadFile(keyFile); err == nil {
				g.key = strings.TrimSpace(string(b))
			}
		}
		if listening && g.key != "" {
			status, err := post(ctx, client, g.url("/v1/chat/completions"), g.key, chatBody)
			if err == nil && status == http.StatusOK {
				g.ready = time.Now()
				return nil
			}
			if err == nil {
				last = fmt.Errorf("answered %d", status)
			} else {
				last = err
			}
		}
		switch {
		case g.exited():
			return errors.New("exited before it answered")
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("not ready after %s: %w", timeout, last)
		}
		sleepUntil(time.Now().Add(200 * time.Microsecond))
	}
}
