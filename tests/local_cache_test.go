package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestLocalCacheWithOpenAISDK drives the local process with the examples'
// CachePolicy (the chat team's gpt route) through openai-go: a question
// asked at temperature 0 is a miss, then a hit, plain and streamed.
func TestLocalCacheWithOpenAISDK(t *testing.T) {
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+env.Redis(t))
	client := openai.NewClient(option.WithBaseURL(p.url("/v1/")), option.WithAPIKey(p.key), option.WithMaxRetries(0))
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Temperature: openai.Float(0),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What does the local cache test ask?")},
	}
	var resp *http.Response
	live, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("first: %v, cache %q", err, resp.Header.Get("X-Sluice-Cache"))
	}
	hit, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&resp))
	if err != nil || resp.Header.Get("X-Sluice-Cache") != "hit" || hit.Choices[0].Message.Content != live.Choices[0].Message.Content ||
		hit.ID == live.ID || hit.Usage.TotalTokens != live.Usage.TotalTokens {
		t.Fatalf("second: %v, cache %q, %+v", err, resp.Header.Get("X-Sluice-Cache"), hit)
	}
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&resp))
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil || resp.Header.Get("X-Sluice-Cache") != "hit" || chunks < 4 ||
		acc.Choices[0].Message.Content != live.Choices[0].Message.Content || acc.Usage.TotalTokens != live.Usage.TotalTokens {
		t.Fatalf("streamed: %v, cache %q, %d chunks, %+v", err, resp.Header.Get("X-Sluice-Cache"), chunks, acc.ChatCompletion)
	}
	// A request sampled above temperature 0 is not looked up.
	params.Temperature = openai.Float(0.5)
	if _, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&resp)); err != nil || resp.Header.Get("X-Sluice-Cache") != "bypass" {
		t.Fatalf("sampled: %v, cache %q", err, resp.Header.Get("X-Sluice-Cache"))
	}
	if !strings.HasPrefix(hit.ID, "chatcmpl-") {
		t.Fatalf("hit id %q", hit.ID)
	}
}
