package tests

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKeysAndUsageWithCLI drives the local process with the sluice CLI:
// keys are created with limits (the secret shown once), listed without
// secrets, rotated with a grace period and revoked, and a revoked key is
// refused once the gateway's key cache (1 s here) lets go of it: the
// ledger's tests hold the cache to its bound on a fake clock, so here only
// the outcome counts; `sluice usage` prints the ledger's table.
func TestKeysAndUsageWithCLI(t *testing.T) {
	dataDir := t.TempDir()
	p := startLocal(t, dataDir, "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+env.Redis(t), "-key-cache", "1s")
	cli := build(t, "cmd/sluice")
	token, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	sluice := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, args...)
		cmd.Env = append(os.Environ(), "SLUICE_ENDPOINT=http://"+p.addr, "SLUICE_ADMIN_TOKEN="+strings.TrimSpace(string(token)))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sluice %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	secretRe := regexp.MustCompile(`sk-sluice-[a-z2-7]+-[a-z2-7]+`)
	served := 0
	chat := func(key string) (int, string) {
		resp, body := httpDo(t, http.MethodPost, p.url("/v1/chat/completions"), key, chatBody("gpt-4o-mini", "keys", ""))
		if resp.StatusCode == http.StatusOK {
			served++
		}
		return resp.StatusCode, body
	}

	out := sluice("keys", "create", "--name", "billing-app", "--consumer", "billing", "--rpm", "100", "--tpd", "100000",
		"--budget-usd", "5", "--model-limit", "gpt-4o:rpm=10,tpd=5000")
	first := secretRe.FindString(out)
	if first == "" || !strings.Contains(out, "shown only this once") {
		t.Fatalf("create: %s", out)
	}
	id := strings.Split(strings.TrimPrefix(first, "sk-sluice-"), "-")[0]
	if code, body := chat(first); code != 200 {
		t.Fatalf("new key: %d %s", code, body)
	}

	list := sluice("keys", "list")
	if !strings.Contains(list, id) || !strings.Contains(list, "billing-app") || !strings.Contains(list, "rpm=100") ||
		!strings.Contains(list, "gpt-4o:rpm=10") || secretRe.MatchString(list) {
		t.Fatalf("list: %s", list)
	}

	out = sluice("keys", "rotate", id, "--grace", "1h")
	second := secretRe.FindString(out)
	if second == "" || second == first || !strings.Contains(out, "old secret keeps working until") {
		t.Fatalf("rotate: %s", out)
	}
	// waitStatus asks with key until the gateway answers want, or the
	// test's own deadline (go test -timeout) is near.
	waitStatus := func(key string, want int) {
		t.Helper()
		for {
			code, body := chat(key)
			if code == want {
				return
			}
			if end, ok := t.Deadline(); ok && time.Until(end) < 10*time.Second {
				t.Fatalf("still %d, want %d: %s", code, want, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// A new secret works at once after its rotation, long before the key
	// cache's bound: a wrong secret makes the gateway look the key up
	// again (at most every 100 ms per key).
	waitStatus(second, http.StatusOK)
	if code, _ := chat(first); code != 200 {
		t.Fatalf("the old secret within its grace period: %d", code)
	}

	out = sluice("keys", "rotate", id, "--grace", "0s")
	third := secretRe.FindString(out)
	waitStatus(third, http.StatusOK)
	waitStatus(first, http.StatusUnauthorized)
	waitStatus(second, http.StatusUnauthorized)

	out = sluice("keys", "revoke", id)
	if !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %s", out)
	}
	waitStatus(third, http.StatusUnauthorized)
	if _, body := chat(third); !strings.Contains(body, "revoked") {
		t.Fatalf("401 body %s", body)
	}
	if list := sluice("keys", "list"); !strings.Contains(list, "revoked") {
		t.Fatalf("list after revoke: %s", list)
	}

	// Usage is settled in the background by the local process: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out = sluice("usage", "--key", id, "--since", "1d", "--by", "model")
		if regexp.MustCompile(`gpt-4o-mini\s+` + strconv.Itoa(served) + `\s+\d+\s+\d+`).MatchString(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "REQUESTS") || !strings.Contains(out, "COST (USD)") || !strings.Contains(out, "TOTAL") {
		t.Fatalf("usage table: %s", out)
	}
	t.Logf("sluice usage:\n%s", out)
	if all := sluice("usage", "--consumer", "billing", "--by", "day"); !strings.Contains(all, "consumer#billing") {
		t.Fatalf("usage by consumer: %s", all)
	}
}
