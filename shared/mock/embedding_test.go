package mock

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"google.golang.org/genai"
)

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

// rewordings are pairs of questions with whether the semantic cache, at
// its default threshold of 0.95, should take them as the same question.
var rewordings = []struct {
	name string
	a, b string
	same bool
}{
	{"identical", "What is the capital of France?", "What is the capital of France?", true},
	{"case and punctuation", "What is the capital of France?", "WHAT IS THE CAPITAL OF FRANCE?!", true},
	{"words reordered", "What is the capital of France?", "France: what is the capital?", true},
	{"spacing", "what is  the capital\nof France", "what is the capital of France", true},
	{"filler words added", "What is the capital of France?", "Can you tell me what the capital of France is, please?", true},
	{"a possessive and a contraction", "What is the capital of France?", "What's France's capital?", true},
	{"a plural", "How do I reverse lists in Python?", "how do I reverse a list in python", true},
	{"a few words changed", "How do I reverse a list in Python?", "How can I reverse a Python list?", true},
	{"another country", "What is the capital of France?", "What is the capital of Spain?", false},
	{"another attribute", "What is the capital of France?", "What is the population of France?", false},
	{"another verb", "How do I reverse a list in Python?", "How do I sort a list in Python?", false},
	{"another language", "How do I reverse a list in Python?", "How do I reverse a list in Go?", false},
	{"unrelated", "What is the capital of France?", "How do I reverse a list in Python?", false},
}

func TestEmbeddingRewordings(t *testing.T) {
	for _, c := range rewordings {
		t.Run(c.name, func(t *testing.T) {
			sim := cosine(Embedding(c.a, 0), Embedding(c.b, 0))
			if (sim >= 0.95) != c.same {
				t.Fatalf("cosine %.4f of %q and %q; want same question: %v", sim, c.a, c.b, c.same)
			}
		})
	}
}

func TestEmbeddingIsAUnitVector(t *testing.T) {
	for _, text := range []string{"", "?!", "hello", "What is the capital of France?"} {
		for _, dims := range []int{0, 4, 1024} {
			v := Embedding(text, dims)
			if want := max(dims, 0); (dims > 0 && len(v) != want) || (dims == 0 && len(v) != embeddingDims) {
				t.Fatalf("%q: %d dims for %d", text, len(v), dims)
			}
			if n := cosine(v, v); math.Abs(n-1) > 1e-9 || math.Abs(norm(v)-1) > 1e-4 {
				t.Fatalf("%q: norm %v", text, norm(v))
			}
		}
	}
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// TestEveryProtocolEmbedsAlike asks each protocol the mocks serve
// embeddings for, through its official client where one exists, and
// checks the rewordings hold there too: every mock answers Embedding.
func TestEveryProtocolEmbedsAlike(t *testing.T) {
	ctx := context.Background()
	oai := httptest.NewServer(&OpenAI{})
	defer oai.Close()
	gem := httptest.NewServer(&Gemini{})
	defer gem.Close()
	oc := openai.NewClient(option.WithBaseURL(oai.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	gc := genaiClient(t, gem.URL)
	bc := sdkClient(t)
	protocols := []struct {
		name  string
		dims  int
		embed func(text string) ([]float64, error)
	}{
		{"openai", 64, func(text string) ([]float64, error) {
			r, err := oc.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small",
				Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String(text)}, Dimensions: openai.Int(64)})
			if err != nil {
				return nil, err
			}
			return r.Data[0].Embedding, nil
		}},
		{"gemini", 256, func(text string) ([]float64, error) {
			r, err := gc.Models.EmbedContent(ctx, "gemini-embedding-001", genai.Text(text), nil)
			if err != nil {
				return nil, err
			}
			return float64s(r.Embeddings[0].Values), nil
		}},
		{"vertex predict", 128, func(text string) ([]float64, error) {
			body, _ := json.Marshal(map[string]any{"instances": []any{map[string]any{"content": text}},
				"parameters": map[string]any{"outputDimensionality": 128}})
			resp, err := http.Post(gem.URL+"/v1/projects/p/locations/l/publishers/google/models/text-embedding-005:predict", "application/json", bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			var out struct {
				Predictions []struct {
					Embeddings struct{ Values []float64 } `json:"embeddings"`
				} `json:"predictions"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			if err != nil || len(out.Predictions) != 1 {
				return nil, err
			}
			return out.Predictions[0].Embeddings.Values, nil
		}},
		{"bedrock titan", 512, func(text string) ([]float64, error) {
			body, _ := json.Marshal(map[string]any{"inputText": text, "dimensions": 512})
			out, err := bc.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String("amazon.titan-embed-text-v2:0"),
				ContentType: aws.String("application/json"), Body: body})
			if err != nil {
				return nil, err
			}
			var r struct{ Embedding []float64 }
			err = json.Unmarshal(out.Body, &r)
			return r.Embedding, err
		}},
		{"bedrock cohere", 1024, func(text string) ([]float64, error) {
			body, _ := json.Marshal(map[string]any{"texts": []string{text}, "input_type": "search_query"})
			out, err := bc.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String("cohere.embed-english-v3"),
				ContentType: aws.String("application/json"), Body: body})
			if err != nil {
				return nil, err
			}
			var r struct{ Embeddings [][]float64 }
			err = json.Unmarshal(out.Body, &r)
			if err != nil || len(r.Embeddings) != 1 {
				return nil, err
			}
			return r.Embeddings[0], nil
		}},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			for _, c := range rewordings {
				a, err := p.embed(c.a)
				if err != nil {
					t.Fatal(err)
				}
				b, err := p.embed(c.b)
				if err != nil {
					t.Fatal(err)
				}
				if len(a) != p.dims || cosine(a, Embedding(c.a, p.dims)) < 0.99999 {
					t.Fatalf("%s: %d dims, not Embedding(text, %d)", c.name, len(a), p.dims)
				}
				if sim := cosine(a, b); (sim >= 0.95) != c.same {
					t.Errorf("%s: cosine %.4f; want same question: %v", c.name, sim, c.same)
				}
			}
		})
	}
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
