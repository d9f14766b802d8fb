package tests

import (
	"strings"
	"testing"
)

// TestLambdaCache runs the real gateway bootstrap under the emulator with
// the examples' CachePolicy: the answer is stored before the invocation's
// body ends (as Lambda needs), so the very next request is a hit, plain or
// streamed.
func TestLambdaCache(t *testing.T) {
	dynamo := env.DynamoDB(t) // before the build: a missing server fails at once
	exe := buildBootstrap(t)
	p := startLocal(t, t.TempDir(), "-dynamodb", dynamo, "-redis", "redis://"+env.Redis(t), "-lambda", exe)
	body := chatBody("gpt-4o-mini", "Cache me inside Lambda", `,"temperature":0`)
	resp, first := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("first: %d %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), first)
	}
	resp, hit := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "hit" || resp.Header.Get("X-Sluice-Cache-Saved-Tokens") == "" ||
		!strings.Contains(hit, "Cache me inside Lambda") {
		t.Fatalf("second: %d %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), hit)
	}
	resp, stream := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, strings.Replace(body, `"temperature":0`, `"temperature":0,"stream":true`, 1))
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "hit" || !strings.HasSuffix(stream, "data: [DONE]\n\n") {
		t.Fatalf("streamed: %d %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), stream)
	}
}
