package tests

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/servertest"
)

// TestLocalSemanticCache runs the local process on the examples, whose
// chat route caches in mode both with the mock provider's embeddings, and
// asks through openai-go: a reworded question is answered from the cache,
// plain and streamed, with its similarity; another question is not.
func TestLocalSemanticCache(t *testing.T) {
	rs := servertest.OwnRedis(t)
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+rs.Addr)
	client := openai.NewClient(option.WithBaseURL(p.url("/v1/")), option.WithAPIKey(p.key), option.WithMaxRetries(0))
	ctx := context.Background()
	params := func(model, question string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{Model: openai.ChatModel(model), Temperature: openai.Float(0),
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(question)}}
	}
	ask := func(model, question string) (*openai.ChatCompletion, *http.Response) {
		t.Helper()
		var resp *http.Response
		c, err := client.Chat.Completions.New(ctx, params(model, question), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("%s: %v", question, err)
		}
		return c, resp
	}
	first, resp := ask("gpt-4o-mini", "What is the capital of France?")
	if resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("first: %v", resp.Header)
	}
	steps := []struct {
		name, model, question, want string
	}{
		{"reworded", "gpt-4o-mini", "Can you tell me what the capital of France is, please?", "hit"},
		{"words reordered", "gpt-4o-mini", "France: what is the capital?", "hit"},
		{"another question", "gpt-4o-mini", "What is the capital of Spain?", "miss"},
		{"another model", "gpt-4o", "Can you tell me what the capital of France is, please?", "miss"},
	}
	for _, s := range steps {
		c, resp := ask(s.model, s.question)
		if got := resp.Header.Get("X-Sluice-Cache"); got != s.want {
			t.Fatalf("%s: x-sluice-cache %q, want %q", s.name, got, s.want)
		}
		if s.want != "hit" {
			continue
		}
		sim, err := strconv.ParseFloat(resp.Header.Get("X-Sluice-Cache-Similarity"), 64)
		if err != nil || sim < 0.95 || c.Choices[0].Message.Content != first.Choices[0].Message.Content || c.ID == first.ID ||
			c.Usage.TotalTokens != first.Usage.TotalTokens {
			t.Fatalf("%s: similarity %v (%v), answer %+v; first %+v", s.name, sim, err, c, first)
		}
	}

	var resp2 *http.Response
	stream := client.Chat.Completions.NewStreaming(ctx, params("gpt-4o-mini", "WHAT IS THE CAPITAL OF FRANCE?!"), option.WithResponseInto(&resp2))
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if resp2.Header.Get("X-Sluice-Cache") != "hit" || resp2.Header.Get("X-Sluice-Cache-Similarity") == "" ||
		acc.Choices[0].Message.Content != first.Choices[0].Message.Content || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("streamed paraphrase: %v, %+v", resp2.Header, acc.ChatCompletion)
	}
}
