package mock

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestOpenAIMockSpeaksOpenAI points the official openai-go client straight
// at the mock: if the SDK accepts its answers, the gateway's tests run
// against the real protocol.
func TestOpenAIMockSpeaksOpenAI(t *testing.T) {
	srv := httptest.NewServer(&OpenAI{})
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()

	comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "mock-gpt",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if comp.Choices[0].FinishReason != "stop" || !strings.HasSuffix(comp.Choices[0].Message.Content, "hello") || comp.Usage.CompletionTokens == 0 {
		t.Fatalf("completion %+v", comp)
	}

	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "mock-gpt",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(acc.Choices[0].Message.Content, "stream") || acc.Usage.TotalTokens == 0 || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("accumulated %+v", acc.ChatCompletion)
	}

	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "mock-embed", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "bb"}},
	})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) == 0 {
		t.Fatalf("embeddings %+v, %v", emb, err)
	}

	_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "error-429", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "mock_429" {
		t.Fatalf("error model: %v", err)
	}
}
