package tests

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/mock"
)

// TestLambdaLedger runs the real gateway Lambda binary (under the local
// emulator, with the environment the CDK stack gives it) against a real
// redis-server and DynamoDB Local: a TokenLimitPolicy's per-minute limit
// answers 429 with its headers, and each request's usage is in the ledger
// as soon as its response has ended, since a Lambda settles before that.
func TestLambdaLedger(t *testing.T) {
	// The servers first: a missing one fails (or skips) at once, not after
	// the build.
	dynamo, redis := env.DynamoDB(t), env.Redis(t)
	exe := buildBootstrap(t)
	up := httptest.NewServer(&mock.OpenAI{})
	defer up.Close()
	manifests := t.TempDir()
	writeManifests(t, manifests, up.URL+"/v1")
	policy := `apiVersion: sluice.dev/v1alpha1
kind: TokenLimitPolicy
metadata: {name: two-a-minute, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}]
  perKey: {requestsPerMinute: 2, tokensPerDay: 100000}
`
	if err := os.WriteFile(filepath.Join(manifests, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	p := startLocal(t, dataDir, "-dynamodb", dynamo, "-redis", "redis://"+redis, "-lambda", exe, "-manifests", manifests)
	token, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Split(strings.TrimPrefix(p.key, "sk-sluice-"), "-")[0]
	usage := func() (requests, tokens int64) {
		req, _ := http.NewRequest(http.MethodGet, p.url("/admin/v1/usage?key="+id), nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u struct {
			Total struct{ Requests, InputTokens, OutputTokens int64 }
		}
		json.NewDecoder(resp.Body).Decode(&u)
		return u.Total.Requests, u.Total.InputTokens + u.Total.OutputTokens
	}
	// The Lambda's per-minute windows are fixed calendar minutes on the real
	// clock: three requests that straddle a minute's end would count in two
	// windows, so the test starts them well inside one.
	awayFromMinuteEnd(time.Now(), 15*time.Second, time.Sleep)
	var sum int64
	for i, want := range []string{"1", "0"} {
		resp, body := httpDo(t, http.MethodPost, p.url("/v1/chat/completions"), p.key, chatBody("gpt-4o-mini", "lambda", ""))
		if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining-Requests") != want {
			t.Fatalf("request %d: %d %v %s", i, resp.StatusCode, resp.Header, body)
		}
		var r reported
		json.Unmarshal([]byte(body), &r)
		sum += r.Usage.PromptTokens + r.Usage.CompletionTokens
		if n, tokens := usage(); n != int64(i)+1 || tokens != sum {
			t.Fatalf("after request %d the ledger has %d requests, %d tokens; want %d and %d", i, n, tokens, i+1, sum)
		}
	}
	resp, body := httpDo(t, http.MethodPost, p.url("/v1/chat/completions"), p.key, chatBody("gpt-4o-mini", "lambda", ""))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" || !strings.Contains(body, "rate_limit_error") {
		t.Fatalf("past the limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// awayFromMinuteEnd waits, through sleep, until at least margin remains of
// the calendar minute now falls in.
func awayFromMinuteEnd(now time.Time, margin time.Duration, sleep func(time.Duration)) {
	left := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	if left < margin {
		sleep(left)
	}
}
