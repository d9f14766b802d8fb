package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLambdaBootstrapStreams runs the real gateway bootstrap (built for this
// machine) under the local Lambda emulator, behind the API Gateway REST
// front door, and checks a plain and a streamed completion. The upstream
// holds its last event until the client has the first, so the first event
// provably crosses the runtime, the prelude decoder and the front door
// before the upstream finishes.
func TestLambdaBootstrapStreams(t *testing.T) {
	dynamo := env.DynamoDB(t) // before the build: a missing server fails at once
	exe := buildBootstrap(t)
	gotFirst := make(chan struct{})
	var released atomic.Bool
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !strings.Contains(readAll(r), `"stream":true`) {
			fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"plain answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"first\"}}]}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
			released.Store(true)
		case <-time.After(20 * time.Second):
		}
		fmt.Fprint(w, "data: {\"id\":\"c2\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" last\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer upstream.Close()

	manifests := t.TempDir()
	writeManifests(t, manifests, upstream.URL+"/v1")
	p := startLocal(t, t.TempDir(), "-dynamodb", dynamo, "-lambda", exe, "-manifests", manifests)

	resp, body := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, "plain answer") || resp.Header.Get("X-Sluice-Backend") != "default/upstream" {
		t.Fatalf("plain: status %d, headers %v, body %s", resp.StatusCode, resp.Header, body)
	}

	req, _ := http.NewRequestWithContext(context.Background(), "POST", p.url("/v1/chat/completions"),
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+p.key)
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	if sresp.StatusCode != 200 || sresp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: status %d, content type %q", sresp.StatusCode, sresp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(sresp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.Contains(first, `"first"`) {
		t.Fatalf("first line %q, %v", first, err)
	}
	close(gotFirst)
	var rest strings.Builder
	for {
		line, err := br.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	if !released.Load() {
		t.Fatal("the upstream was not released by the client's first event: the stream was buffered")
	}
	if !strings.Contains(rest.String(), `" last"`) || !strings.HasSuffix(rest.String(), "data: [DONE]\n\n") {
		t.Fatalf("rest of stream %q", rest.String())
	}
	// A bad key is refused inside the Lambda too, in OpenAI's shape.
	resp, body = httpDo(t, "GET", p.url("/v1/models"), "sk-sluice-no-no", "")
	if resp.StatusCode != 401 || !strings.Contains(body, "invalid_api_key") {
		t.Fatalf("bad key: %d %s", resp.StatusCode, body)
	}
	// A body over Lambda's 6 MB payload limit cannot reach the function:
	// the front door answers the gateway's 413 in the client's shape.
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 7<<20) + `"}]}`
	resp, body = httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, big)
	if resp.StatusCode != 413 || !strings.Contains(body, `"code":"request_too_large"`) || !strings.Contains(body, `"type":"invalid_request_error"`) {
		t.Fatalf("7 MB chat body: %d %.300s", resp.StatusCode, body)
	}
	resp, body = httpDo(t, "POST", p.url("/v1/messages"), p.key, big)
	if resp.StatusCode != 413 || !strings.Contains(body, `"type":"error","error":{"type":"request_too_large"`) {
		t.Fatalf("7 MB messages body: %d %.300s", resp.StatusCode, body)
	}
	// The function printed the dashboard's metrics: one EMF line for each
	// request that reached a backend, by that backend.
	p.stop(t)
	emf := 0
	for line := range strings.Lines(p.out.String()) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		var doc struct {
			AWS struct {
				CloudWatchMetrics []struct{ Namespace string }
			} `json:"_aws"`
			Backend  string
			Requests float64
		}
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		if len(doc.AWS.CloudWatchMetrics) == 1 && doc.AWS.CloudWatchMetrics[0].Namespace == "Sluice" &&
			doc.Backend == "default/upstream" && doc.Requests == 1 {
			emf++
		}
	}
	if emf != 2 {
		t.Errorf("%d EMF lines for the plain and the streamed completion, want 2; output:\n%s", emf, p.out.String())
	}
}

// buildBootstrap builds functions/gateway for this machine, as `make build`
// does for Lambda's arm64, once for the test binary.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	skipShort(t)
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "sluice-bin-")
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	exe := filepath.Join(bin.dir, "gateway", "bootstrap")
	bin.bootstrap.Lock()
	defer bin.bootstrap.Unlock()
	if _, err := os.Stat(exe); err == nil {
		return exe
	}
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc,"+goTags, "-o", exe, "github.com/sluicegw/sluice/functions/gateway")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bootstrap: %v\n%s", err, out)
	}
	return exe
}

// TestLambdaLocalMocks: under -lambda, with no provider credential set,
// the function answers the examples from the mock providers, at start and
// after an apply through the admin API (found at its next table check),
// and reaches a backend of one's own for real.
func TestLambdaLocalMocks(t *testing.T) {
	dynamo := env.DynamoDB(t) // before the build: a missing server fails at once
	exe := buildBootstrap(t)
	own, hits := ownServer(t)
	p := startLocal(t, t.TempDir(), "-dynamodb", dynamo, "-lambda", exe, "-table-refresh", "100ms")
	resp, body := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, chatBody("gpt-4o-mini", "hi", ""))
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Backend") != "team-chat/openai" || !strings.Contains(body, `"chat.completion"`) {
		t.Fatalf("examples at start: %d %s %s", resp.StatusCode, resp.Header.Get("X-Sluice-Backend"), body)
	}
	req, _ := json.Marshal(map[string]any{"files": map[string]string{"own.yaml": ownBackends(own.URL + "/v1")}})
	if status, body := adminDo(t, p, "POST", "/admin/v1/apply", string(req)); status != 200 {
		t.Fatalf("apply: %d %s", status, body)
	}
	eventually(t, func() bool {
		resp, _ := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, chatBody("own-model", "hi", ""))
		return resp.StatusCode == 200 && hits.Load() > 0
	})
	resp, body = httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, chatBody("claude-sonnet-4-5", "hi", ""))
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Backend") != "team-chat/anthropic" {
		t.Fatalf("examples after the apply: %d %s", resp.StatusCode, body)
	}
}

func readAll(r *http.Request) string {
	var b strings.Builder
	bufio.NewReader(r.Body).WriteTo(&b)
	return b.String()
}
