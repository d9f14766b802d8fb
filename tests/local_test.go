package tests

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestLocalWithOpenAISDK drives the local gateway (DynamoDB Local and a real
// redis-server from the harness) with the official openai-go client.
func TestLocalWithOpenAISDK(t *testing.T) {
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+env.Redis(t))
	client := openai.NewClient(option.WithBaseURL(p.url("/v1/")), option.WithAPIKey(p.key), option.WithMaxRetries(0))
	ctx := context.Background()

	t.Run("plain", func(t *testing.T) {
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hi")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Object != "chat.completion" || !strings.Contains(c.Choices[0].Message.Content, "Say hi") || c.Usage.TotalTokens == 0 {
			t.Fatalf("completion %+v", c)
		}
	})

	t.Run("streamed", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "gpt-4o",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Stream please")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		acc := openai.ChatCompletionAccumulator{}
		chunks := 0
		for stream.Next() {
			acc.AddChunk(stream.Current())
			chunks++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 3 || !strings.Contains(acc.Choices[0].Message.Content, "Stream please") || acc.Usage.TotalTokens == 0 {
			t.Fatalf("%d chunks, accumulated %+v", chunks, acc.ChatCompletion)
		}
	})

	t.Run("through the InferencePool, with the provider's model name", func(t *testing.T) {
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "llama-3.1-8b",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("pool")},
		}, option.WithHeader("x-gateway-inference-objective", "interactive"))
		if err != nil {
			t.Fatal(err)
		}
		if m := c.Model; m != "llama-3.1-8b-instant" && m != "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo" {
			t.Fatalf("the upstream saw model %q, want a mapped name", m)
		}
	})

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if strings.Join(ids, ",") != "claude-haiku-4-5,claude-sonnet-4-5,gpt-4o,gpt-4o-mini,llama-3.1-8b" {
			t.Fatalf("models %v", ids)
		}
	})

	t.Run("errors reach the SDK as API errors", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "no-such-model", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
		})
		var apiErr *openai.Error
		if !asError(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
			t.Fatalf("err = %v", err)
		}
		bad := openai.NewClient(option.WithBaseURL(p.url("/v1/")), option.WithAPIKey("sk-sluice-nope-nope"), option.WithMaxRetries(0))
		_, err = bad.Models.List(ctx)
		if !asError(err, &apiErr) || apiErr.StatusCode != 401 {
			t.Fatalf("bad key: err = %v", err)
		}
	})
}

// TestLocalRestartsAndStops runs the local process as `make local` does
// (starting its own DynamoDB Local under the data dir), twice on the same
// data dir, and checks Ctrl-C leaves no DynamoDB Local behind.
func TestLocalRestartsAndStops(t *testing.T) {
	env.DynamoDB(t) // skips or fails with what to install, as the other tests do
	dir := t.TempDir()
	var keys []string
	for i := 0; i < 2; i++ {
		p := startLocal(t, dir)
		resp, body := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"run `+string(rune('1'+i))+`"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("run %d: status %d: %s", i+1, resp.StatusCode, body)
		}
		keys = append(keys, p.key)
		p.stop(t)
		// While it starts, it says what it is doing: DynamoDB Local's start,
		// the manifests it applies and the table version they make.
		applied := `applied (\d+) objects \(\d+ created\) as route table version 1`
		if i == 1 {
			applied = `applied (\d+) objects \(\d+ unchanged\); route table version 1 stays current`
		}
		progress := regexpMatch(`(?s)sluice local: starting DynamoDB Local \(Java; data in [^)]+\)…\n`+
			`.*sluice local: DynamoDB Local is up at http://127\.0\.0\.1:\d+ \([0-9.]+m?s\)\n`+
			`.*sluice local: applying \d+ manifest files from [^\n]*examples…\n`+
			`.*sluice local: `+applied+` \([0-9.]+m?s\)\n`, p.out.String())
		if !progress {
			t.Errorf("run %d: the start's progress lines are missing or out of order:\n%s", i+1, p.out.String())
		}
		if out, _ := exec.Command("pgrep", "-f", "DynamoDBLocal.jar.*"+dir).Output(); len(out) > 0 {
			t.Fatalf("run %d: DynamoDB Local still running after Ctrl-C: pids %s", i+1, out)
		}
	}
	if keys[0] != keys[1] {
		t.Errorf("the saved key was not reused: %s then %s", keys[0], keys[1])
	}
	if _, err := os.Stat(dir + "/dynamodb/shared-local-instance.db"); err != nil {
		t.Errorf("DynamoDB Local data not under the data dir: %v", err)
	}
}
