package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/route"
)

// bedrockFixture runs the gateway handler in front of the Bedrock mock,
// over real sockets: requests are signed with SigV4 from the credentials
// the registry was given, and the mock verifies every signature.
func bedrockFixture(t *testing.T) openai.Client {
	t.Helper()
	up := gatewaytest.Upstream(t, gatewaytest.BedrockMock())
	routes := gatewaytest.Routes{}
	for model, id := range map[string]string{
		"claude":       "anthropic.claude-sonnet-4-20250514-v1:0",
		"titan":        "amazon.titan-embed-text-v2:0",
		"cohere":       "cohere.embed-english-v3",
		"throttled":    "throttle-model",
		"cut":          "midstream-throttle-model",
		"long-context": "anthropic.claude-sonnet-4-20250514-v1:0",
	} {
		routes[model] = []route.Backend{{Provider: "bedrock", Endpoint: up, Region: "us-east-1", ModelMap: map[string]string{model: id}}}
	}
	return gatewaytest.New(t, gatewaytest.Table(t, routes)).OpenAI()
}

var openAIWeatherTool = openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
	Name: "get_weather", Description: openai.String("Current weather"),
	Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}},
})

func TestBedrockOpenAIClient(t *testing.T) {
	c := bedrockFixture(t)
	ctx := context.Background()

	t.Run("plain", func(t *testing.T) {
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "claude",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello there")}})
		if err != nil {
			t.Fatal(err)
		}
		if comp.Model != "claude" || !strings.Contains(comp.Choices[0].Message.Content, "hello there") || comp.Choices[0].FinishReason != "stop" || comp.Usage.PromptTokens == 0 {
			t.Fatalf("completion %+v", comp)
		}
	})

	t.Run("streaming", func(t *testing.T) {
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "claude",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream this please")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
		var acc openai.ChatCompletionAccumulator
		chunks := 0
		for stream.Next() {
			acc.AddChunk(stream.Current())
			chunks++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 5 || !strings.Contains(acc.Choices[0].Message.Content, "stream this please") || acc.Choices[0].FinishReason != "stop" || acc.Usage.CompletionTokens == 0 {
			t.Fatalf("%d chunks, accumulated %+v", chunks, acc.ChatCompletion)
		}
	})

	for _, streamed := range []bool{false, true} {
		name := "tool round trip plain"
		if streamed {
			name = "tool round trip streaming"
		}
		t.Run(name, func(t *testing.T) {
			params := openai.ChatCompletionNewParams{Model: "claude", Tools: []openai.ChatCompletionToolUnionParam{openAIWeatherTool},
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")}}
			first := complete(t, c, params, streamed)
			msg := first.Choices[0].Message
			if first.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Function.Name != "get_weather" ||
				msg.ToolCalls[0].Function.Arguments != `{"location":"Paris","unit":"celsius"}` {
				t.Fatalf("first answer %+v", first)
			}
			params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("21C and sunny", msg.ToolCalls[0].ID))
			second := complete(t, c, params, streamed)
			if second.Choices[0].FinishReason != "stop" || !strings.Contains(second.Choices[0].Message.Content, "21C and sunny") {
				t.Fatalf("second answer %+v", second)
			}
		})
	}

	t.Run("thinking", func(t *testing.T) {
		comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "claude",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("think first")}},
			option.WithJSONSet("thinking", map[string]any{"type": "enabled", "budget_tokens": 1024}))
		if err != nil {
			t.Fatal(err)
		}
		raw := comp.Choices[0].Message.RawJSON()
		if !strings.Contains(raw, `"reasoning_content"`) || !strings.Contains(raw, `"reasoning_signature":"mock-signature-1"`) {
			t.Fatalf("message %s", raw)
		}
	})

	for _, streamed := range []bool{false, true} {
		t.Run(map[bool]string{false: "json schema plain", true: "json schema streaming"}[streamed], func(t *testing.T) {
			comp := complete(t, c, openai.ChatCompletionNewParams{Model: "claude",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("answer as JSON")},
				ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{
					JSONSchema: openai.ResponseFormatJSONSchemaJSONSchemaParam{Name: "answer", Schema: map[string]any{
						"type": "object", "properties": map[string]any{"answer": map[string]any{"type": "string"}}}}}}}, streamed)
			var out struct{ Answer string }
			if err := json.Unmarshal([]byte(comp.Choices[0].Message.Content), &out); err != nil || out.Answer != "answer as JSON" || comp.Choices[0].FinishReason != "stop" {
				t.Fatalf("content %q finish %s: %v", comp.Choices[0].Message.Content, comp.Choices[0].FinishReason, err)
			}
		})
	}

	// Thinking signatures survive an OpenAI-shaped exchange (the Sluice
	// reasoning_signature extension), so multi-turn tool use with extended
	// thinking works; the mock, like Claude, refuses a tool-using turn
	// whose thinking lost its signature.
	t.Run("thinking tool round trip", func(t *testing.T) {
		tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
		user := `{"role":"user","content":"What is the weather in Oslo?"}`
		post := func(body string) (*openai.ChatCompletion, error) {
			return c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{}, option.WithRequestBody("application/json", []byte(body)))
		}
		first, err := post(`{"model":"claude","thinking":{"type":"enabled","budget_tokens":1024},` + tools + `,"messages":[` + user + `]}`)
		if err != nil {
			t.Fatal(err)
		}
		var msg struct {
			ReasoningContent   string `json:"reasoning_content"`
			ReasoningSignature string `json:"reasoning_signature"`
		}
		json.Unmarshal([]byte(first.Choices[0].Message.RawJSON()), &msg)
		call := first.Choices[0].Message.ToolCalls
		if msg.ReasoningSignature != "mock-signature-1" || len(call) != 1 {
			t.Fatalf("first answer %s", first.Choices[0].Message.RawJSON())
		}
		quote := func(s string) []byte { b, _ := json.Marshal(s); return b }
		assistant := func(sig string) string {
			return `{"role":"assistant","reasoning_content":` + string(quote(msg.ReasoningContent)) + `,"reasoning_signature":"` + sig +
				`","tool_calls":[{"id":"` + call[0].ID + `","type":"function","function":{"name":"get_weather","arguments":` + string(quote(call[0].Function.Arguments)) + `}}]}`
		}
		result := `{"role":"tool","tool_call_id":"` + call[0].ID + `","content":"-2C"}`
		second, err := post(`{"model":"claude","thinking":{"type":"enabled","budget_tokens":1024},` + tools + `,"messages":[` + user + `,` + assistant(msg.ReasoningSignature) + `,` + result + `]}`)
		if err != nil || !strings.Contains(second.Choices[0].Message.Content, "-2C") {
			t.Fatalf("second answer %v %v", second, err)
		}
		_, err = post(`{"model":"claude","thinking":{"type":"enabled","budget_tokens":1024},` + tools + `,"messages":[` + user + `,` + assistant("") + `,` + result + `]}`)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "thinking") {
			t.Fatalf("unsigned thinking: %v", err)
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		for _, model := range []string{"titan", "cohere"} {
			emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: openai.EmbeddingModel(model),
				Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first text", "second"}}})
			if err != nil {
				t.Fatalf("%s: %v", model, err)
			}
			if len(emb.Data) != 2 || emb.Data[1].Index != 1 || len(emb.Data[0].Embedding) != 1024 || emb.Data[0].Embedding[0] == emb.Data[1].Embedding[0] {
				t.Fatalf("%s: %d embeddings", model, len(emb.Data))
			}
			if model == "titan" && emb.Usage.PromptTokens != 3 {
				t.Fatalf("titan usage %+v", emb.Usage)
			}
		}
	})

	t.Run("throttled", func(t *testing.T) {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "throttled",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code != "rate_limit_exceeded" || apiErr.Response.Header.Get("Retry-After") != "3" {
			t.Fatalf("err %v", err)
		}
	})

	t.Run("context length", func(t *testing.T) {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "long-context",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("this prompt is too long")}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
			t.Fatalf("err %v", err)
		}
	})

	t.Run("exception mid-stream", func(t *testing.T) {
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "cut",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a b c d e")}})
		n := 0
		for stream.Next() {
			n++
		}
		if err := stream.Err(); n == 0 || err == nil || !strings.Contains(err.Error(), "Too many tokens") {
			t.Fatalf("%d chunks, err %v", n, err)
		}
	})

	t.Run("image url refused", func(t *testing.T) {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "claude",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
				openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.com/cat.png"})})}})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "messages[0].content[0].image_url.url" || !strings.Contains(apiErr.Message, "bedrock") {
			t.Fatalf("err %v", err)
		}
	})
}

// complete runs params plain or streamed and returns the completion.
func complete(t *testing.T, c openai.Client, params openai.ChatCompletionNewParams, streamed bool) *openai.ChatCompletion {
	t.Helper()
	if !streamed {
		comp, err := c.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		return comp
	}
	stream := c.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return &acc.ChatCompletion
}
