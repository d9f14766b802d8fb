package mock

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
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

// TestOpenAIMockToolsAndReasoning checks, with openai-go, the tool calls
// (plain, streamed, parallel) and the reasoning the prompt asks for.
func TestOpenAIMockToolsAndReasoning(t *testing.T) {
	srv := httptest.NewServer(&OpenAI{})
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()
	tools := []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "lookup", Parameters: openai.FunctionParameters{"type": "object"}}),
		openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "fetch", Parameters: openai.FunctionParameters{"type": "object"}}),
	}
	comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "mock-gpt", Tools: tools,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("use a tool please")},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := comp.Choices[0].Message
	if comp.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Function.Name != "lookup" {
		t.Fatalf("tool call %+v", comp.Choices[0])
	}

	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model: "mock-gpt", Tools: tools,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("parallel tool calls")},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	calls := acc.Choices[0].Message.ToolCalls
	if len(calls) != 2 || calls[1].Function.Name != "fetch" || calls[1].Function.Arguments != `{"query":"parallel tool calls","n":1}` {
		t.Fatalf("streamed calls %+v", calls)
	}

	comp, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "mock-gpt", Tools: tools,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.UserMessage("use a tool"),
			comp.Choices[0].Message.ToParam(),
			openai.ToolMessage("sunny", calls[0].ID),
		},
	})
	if err != nil || !strings.Contains(comp.Choices[0].Message.Content, "tool result sunny") {
		t.Fatalf("after tool result: %+v, %v", comp, err)
	}

	comp, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "mock-gpt", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("think first")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rc := comp.Choices[0].Message.JSON.ExtraFields["reasoning_content"]; !strings.Contains(rc.Raw(), "think") || comp.Usage.CompletionTokensDetails.ReasoningTokens == 0 {
		t.Fatalf("reasoning %+v", comp.Choices[0].Message)
	}
}

// TestOpenAIMockResponses checks the minimal Responses API with openai-go.
func TestOpenAIMockResponses(t *testing.T) {
	srv := httptest.NewServer(&OpenAI{})
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()
	params := responses.ResponseNewParams{Model: "mock-gpt", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello responses")}}
	resp, err := c.Responses.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(resp.OutputText(), "hello responses") || resp.Usage.OutputTokens == 0 || resp.Status != "completed" {
		t.Fatalf("response %+v", resp)
	}
	stream := c.Responses.NewStreaming(ctx, params)
	var text strings.Builder
	var done responses.Response
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			done = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != done.OutputText() || done.Usage.TotalTokens == 0 {
		t.Fatalf("streamed %q, completed %+v", text.String(), done)
	}
}

// TestOpenAIMockResponsesFunctionCalls: with function tools and "tool" in
// the input, the Responses answer is a call to each of the first two tools
// ("parallel"), their arguments streamed in deltas that add up to the
// completed items; "cut-midstream" ends before response.completed.
func TestOpenAIMockResponsesFunctionCalls(t *testing.T) {
	srv := httptest.NewServer(&OpenAI{})
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()
	tool := func(name string) responses.ToolUnionParam {
		return responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{Name: name, Parameters: map[string]any{"type": "object"}}}
	}
	params := responses.ResponseNewParams{Model: "mock-gpt", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("use the tool in parallel")},
		Tools: []responses.ToolUnionParam{tool("search"), tool("fetch")}}
	plain, err := c.Responses.New(ctx, params)
	if err != nil || len(plain.Output) != 2 || plain.Output[1].Type != "function_call" || plain.Output[1].Name != "fetch" {
		t.Fatalf("plain %v %+v", err, plain.Output)
	}
	stream := c.Responses.NewStreaming(ctx, params)
	args := map[string]string{}
	var done responses.Response
	for stream.Next() {
		switch ev := stream.Current(); ev.Type {
		case "response.function_call_arguments.delta":
			args[ev.ItemID] += ev.Delta
		case "response.completed":
			done = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	for _, it := range done.Output {
		if it.Type != "function_call" || args[it.ID] != it.Arguments.OfString || !strings.Contains(it.Arguments.OfString, "parallel") {
			t.Fatalf("item %+v, deltas %q", it, args[it.ID])
		}
	}
	params.Model, params.Tools = "cut-midstream", nil
	stream = c.Responses.NewStreaming(ctx, params)
	for stream.Next() {
		if stream.Current().Type == "response.completed" {
			t.Fatal("a cut stream completed")
		}
	}
}

// TestOpenAIMockFailures checks the failure triggers with openai-go: a
// context-length 400 with OpenAI's code, and a stream cut mid-response.
func TestOpenAIMockFailures(t *testing.T) {
	srv := httptest.NewServer(&OpenAI{})
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()
	_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "error-context",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("long")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
		t.Fatalf("context: %v", err)
	}
	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "cut-midstream",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a b c d")}})
	n := 0
	for stream.Next() {
		n++
	}
	if n == 0 || stream.Err() == nil {
		t.Fatalf("%d chunks, err %v", n, stream.Err())
	}
}
