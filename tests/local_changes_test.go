package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluicegw/sluice/shared/mock"
)

// ownServer is a model server of one's own (a local vLLM, say): the mock
// OpenAI, counting what reaches it.
func ownServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// ownBackends routes own-model to an AIBackend at endpoint with no
// credential, and guarded-model to one at the same endpoint whose
// credential is not set, on the examples' Gateway.
func ownBackends(endpoint string) string {
	return strings.ReplaceAll(`apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: own, namespace: team-chat}
spec: {provider: vllm, endpoint: ENDPOINT, models: [own-model]}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: guarded, namespace: team-chat}
spec: {provider: openai, endpoint: ENDPOINT, credentialRef: {name: own-secret}, models: [guarded-model]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: own, namespace: team-chat}
spec:
  parentRefs: [{name: sluice, namespace: platform}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v1}, headers: [{name: x-sluice-model, value: own-model}]}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: own}]
  - matches: [{path: {type: PathPrefix, value: /v1}, headers: [{name: x-sluice-model, value: guarded-model}]}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: guarded}]
`, "ENDPOINT", endpoint)
}

// TestLocalMocksEveryTable: with no provider credential set, the local
// gateway serves the examples' backends from the mock providers whatever
// stored the table: its own apply at start, `sluice apply -f examples`, a
// rollback. A backend at an endpoint of one's own is reached for real,
// credential or not. The ready message says which backends are mocked and
// why.
func TestLocalMocksEveryTable(t *testing.T) {
	own, hits := ownServer(t)
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t))
	eventually(t, func() bool {
		return strings.Contains(p.stdout.String(), "  team-chat/openai: SLUICE_CREDENTIAL_OPENAI is not set\n")
	})
	for _, want := range []string{"team-chat/anthropic: SLUICE_CREDENTIAL_ANTHROPIC is not set", "team-search/groq: SLUICE_CREDENTIAL_GROQ is not set"} {
		if !strings.Contains(p.stdout.String(), want) {
			t.Errorf("the ready message does not say %q:\n%s", want, p.stdout)
		}
	}
	cli := build(t, "cmd/sluice")
	root, _ := filepath.Abs("..")
	sluice := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append(args, "--endpoint", p.url(""), "--admin-token", adminToken(t, p))...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sluice %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	chat := func(model string) (*http.Response, string) {
		t.Helper()
		return httpDo(t, http.MethodPost, p.url("/v1/chat/completions"), p.key, chatBody(model, "hello", ""))
	}
	mocked := func(when, model, backend string) {
		t.Helper()
		resp, body := chat(model)
		if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Backend") != backend || !strings.Contains(body, `"chat.completion"`) {
			t.Fatalf("%s: %s: %d %s %s", when, model, resp.StatusCode, resp.Header.Get("X-Sluice-Backend"), body)
		}
	}
	mocked("at start", "gpt-4o-mini", "team-chat/openai")

	sluice("apply", "-f", filepath.Join(root, "examples"))
	mocked("after sluice apply -f examples", "gpt-4o-mini", "team-chat/openai")
	mocked("after sluice apply -f examples", "claude-sonnet-4-5", "team-chat/anthropic")

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "own.yaml"), []byte(ownBackends(own.URL+"/v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := sluice("apply", "-f", dir)
	mocked("in the table a later apply stored", "gpt-4o-mini", "team-chat/openai")
	resp, body := chat("own-model")
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Backend") != "team-chat/own" || hits.Load() != 1 {
		t.Fatalf("own-model: %d %s, %d requests reached the own server; apply said:\n%s", resp.StatusCode, body, hits.Load(), out)
	}
	// Its credential unset, a backend of one's own is still not mocked:
	// the gateway says what is missing, and nothing is sent anywhere.
	resp, body = chat("guarded-model")
	if resp.StatusCode != 500 || !strings.Contains(body, `credential \"own-secret\" is not configured`) || hits.Load() != 1 {
		t.Fatalf("guarded-model: %d %s, %d requests reached the own server", resp.StatusCode, body, hits.Load())
	}

	sluice("rollback")
	mocked("after sluice rollback", "gpt-4o-mini", "team-chat/openai")
	if resp, body := chat("own-model"); resp.StatusCode != 404 {
		t.Fatalf("own-model after the rollback: %d %s", resp.StatusCode, body)
	}
}

// adminDo calls the local admin API with the process's admin token.
func adminDo(t *testing.T, p *localProc, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url(path), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken(t, p))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestLocalChangesTakeEffectAtOnce: through the local admin API, an apply,
// a rollback and a key's revocation are seen by the very next request,
// with the default table check (10 s) and key cache (30 s), which stay
// for gateways in Lambda.
func TestLocalChangesTakeEffectAtOnce(t *testing.T) {
	a, hitsA := ownServer(t)
	b, hitsB := ownServer(t)
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-manifests", "")
	apply := func(endpoint string) {
		t.Helper()
		dir := t.TempDir()
		writeManifests(t, dir, endpoint)
		files := map[string]string{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			text, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = string(text)
		}
		req, _ := json.Marshal(map[string]any{"files": files})
		if status, body := adminDo(t, p, http.MethodPost, "/admin/v1/apply", string(req)); status != 200 {
			t.Fatalf("apply: %d %s", status, body)
		}
	}
	chat := func(key string) int {
		t.Helper()
		resp, _ := httpDo(t, http.MethodPost, p.url("/v1/chat/completions"), key, chatBody("gpt-4o-mini", "now", ""))
		return resp.StatusCode
	}
	if code := chat(p.key); code != 503 {
		t.Fatalf("before any apply: %d, want 503 (no routes yet)", code)
	}
	apply(a.URL + "/v1")
	if code := chat(p.key); code != 200 || hitsA.Load() != 1 {
		t.Fatalf("right after the first apply: %d, %d requests reached a", code, hitsA.Load())
	}
	apply(b.URL + "/v1")
	if code := chat(p.key); code != 200 || hitsB.Load() != 1 {
		t.Fatalf("right after the second apply: %d, %d requests reached b", code, hitsB.Load())
	}
	if status, body := adminDo(t, p, http.MethodPost, "/admin/v1/rollback", ""); status != 200 {
		t.Fatalf("rollback: %d %s", status, body)
	}
	if code := chat(p.key); code != 200 || hitsA.Load() != 2 {
		t.Fatalf("right after the rollback: %d, %d requests reached a", code, hitsA.Load())
	}

	status, body := adminDo(t, p, http.MethodPost, "/admin/v1/keys", `{"name":"soon-revoked"}`)
	var k struct{ ID, Key string }
	if json.Unmarshal([]byte(body), &k); status != 201 || k.Key == "" {
		t.Fatalf("create key: %d %s", status, body)
	}
	if code := chat(k.Key); code != 200 { // the key's record is now cached
		t.Fatalf("new key: %d", code)
	}
	if status, body := adminDo(t, p, http.MethodPost, "/admin/v1/keys/"+k.ID+"/revoke", ""); status != 200 {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if code := chat(k.Key); code != 401 {
		t.Fatalf("right after the revocation: %d, want 401", code)
	}
}

// TestLocalSeededKey: SLUICE_API_KEY makes the local process create that
// key, keep it across restarts, and refuse to start when the key was
// revoked, naming the variable.
func TestLocalSeededKey(t *testing.T) {
	dynamo := env.DynamoDB(t)
	const seed = "sk-sluice-scripts-fixedlocalsecret"
	dir := t.TempDir()
	for run := 1; run <= 2; run++ {
		p := startLocal(t, dir, "-dynamodb", dynamo, "-api-key", seed)
		if p.key != seed {
			t.Fatalf("run %d printed key %q, want the seed", run, p.key)
		}
		if resp, body := httpDo(t, http.MethodPost, p.url("/v1/chat/completions"), seed, chatBody("gpt-4o-mini", "seeded", "")); resp.StatusCode != 200 {
			t.Fatalf("run %d: %d %s", run, resp.StatusCode, body)
		}
		if run == 2 {
			if status, body := adminDo(t, p, http.MethodPost, "/admin/v1/keys/scripts/revoke", ""); status != 200 {
				t.Fatalf("revoke: %d %s", status, body)
			}
		}
		p.stop(t)
	}
	cmd, _ := localCmd(t, dir, "-dynamodb", dynamo)
	cmd.Env = append(cmd.Env, "SLUICE_API_KEY="+seed)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SLUICE_API_KEY: key scripts: API key revoked: unset the variable, or seed another key") {
		t.Fatalf("started with a revoked seed: %v\n%s", err, out)
	}
}
