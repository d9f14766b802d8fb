package mock

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genai"
)

func genaiClient(t *testing.T, url string) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey: "unused", Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: url, APIVersion: "v1beta"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGeminiMockSpeaksGemini points Google's official genai client straight
// at the mock: plain and streamed generation, function calling with a
// thought signature, a function response turn, embeddings and errors.
func TestGeminiMockSpeaksGemini(t *testing.T) {
	srv := httptest.NewServer(&Gemini{})
	defer srv.Close()
	c := genaiClient(t, srv.URL)
	ctx := context.Background()

	resp, err := c.Models.GenerateContent(ctx, "gemini-mock", genai.Text("hello"), &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText("be brief", genai.RoleUser),
		Temperature:       genai.Ptr[float32](0.2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(resp.Text(), "hello") || resp.Candidates[0].FinishReason != genai.FinishReasonStop || resp.UsageMetadata.CandidatesTokenCount == 0 {
		t.Fatalf("response %+v", resp)
	}

	var text strings.Builder
	var last *genai.GenerateContentResponse
	for r, err := range c.Models.GenerateContentStream(ctx, "gemini-mock", genai.Text("stream please"), &genai.GenerateContentConfig{
		ThinkingConfig: &genai.ThinkingConfig{IncludeThoughts: true, ThinkingBudget: genai.Ptr[int32](128)},
	}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Candidates[0].Content.Parts {
			if !p.Thought {
				text.WriteString(p.Text)
			}
		}
		last = r
	}
	if !strings.HasSuffix(text.String(), "stream please") || last.Candidates[0].FinishReason != genai.FinishReasonStop || last.UsageMetadata.ThoughtsTokenCount == 0 {
		t.Fatalf("stream text %q, last %+v", text.String(), last)
	}

	tools := []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{{
		Name: "get_weather", Description: "weather by city",
		ParametersJsonSchema: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	}}}}
	resp, err = c.Models.GenerateContent(ctx, "gemini-mock", genai.Text("weather in Paris and Tokyo?"), &genai.GenerateContentConfig{
		Tools: tools, ThinkingConfig: &genai.ThinkingConfig{IncludeThoughts: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.FunctionCalls()
	if len(calls) != 2 || calls[0].Name != "get_weather" || calls[1].Args["city"] != "Tokyo" {
		t.Fatalf("calls %+v", calls)
	}
	var signed bool
	for _, p := range resp.Candidates[0].Content.Parts {
		signed = signed || (p.FunctionCall != nil && string(p.ThoughtSignature) == "sluice-mock-thought-signature")
	}
	if !signed {
		t.Fatal("the first function call carries no thought signature")
	}
	history := append(genai.Text("weather in Paris and Tokyo?"), resp.Candidates[0].Content,
		&genai.Content{Role: genai.RoleUser, Parts: []*genai.Part{
			genai.NewPartFromFunctionResponse("get_weather", map[string]any{"output": "sunny"}),
			genai.NewPartFromFunctionResponse("get_weather", map[string]any{"output": "rainy"}),
		}})
	resp, err = c.Models.GenerateContent(ctx, "gemini-mock", history, &genai.GenerateContentConfig{Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Text(), "sunny") || len(resp.FunctionCalls()) != 0 {
		t.Fatalf("after the function response: %q", resp.Text())
	}

	emb, err := c.Models.EmbedContent(ctx, "text-embedding-mock", []*genai.Content{genai.NewContentFromText("one", genai.RoleUser), genai.NewContentFromText("three", genai.RoleUser)},
		&genai.EmbedContentConfig{OutputDimensionality: genai.Ptr[int32](4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Embeddings) != 2 || len(emb.Embeddings[1].Values) != 4 {
		t.Fatalf("embeddings %+v", emb)
	}

	_, err = c.Models.GenerateContent(ctx, "error-429", genai.Text("x"), nil)
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.Status != "RESOURCE_EXHAUSTED" {
		t.Fatalf("error %#v", err)
	}
}

// TestGeminiMockIsStrict: a field the API does not define is refused, as
// Gemini refuses it, so translator mistakes fail the gateway's tests.
func TestGeminiMockIsStrict(t *testing.T) {
	srv := httptest.NewServer(&Gemini{})
	defer srv.Close()
	for path, body := range map[string]string{
		"/v1beta/models/m:generateContent":               `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"max_tokens":5}`,
		"/v1beta/models/m:streamGenerateContent?alt=sse": `{"contents":[{"role":"user","parts":[{"text":"hi","image_url":"x"}]}]}`,
		"/v1beta/models/m:streamGenerateContent":         `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
		"/v1beta/models/m:batchEmbedContents":            `{"requests":[{"model":"models/other","content":{"parts":[{"text":"x"}]}}]}`,
		"/v1beta/models/gemini-3-pro-preview:generateContent": `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],
		  "generationConfig":{"thinkingConfig":{"thinkingBudget":1024,"thinkingLevel":"LOW"}}}`,
	} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %s: status %d", path, body, resp.StatusCode)
		}
	}
}
