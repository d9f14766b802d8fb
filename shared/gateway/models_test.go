package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/gatewaytest"
)

// twoModels routes a model with a plain name and one whose id has a slash.
func twoModels(t *testing.T) *gatewaytest.Gateway {
	return gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{
		"a-model":                 gatewaytest.OpenAIAt("http://127.0.0.1:1"),
		"meta-llama/Llama-3.1-8B": gatewaytest.OpenAIAt("http://127.0.0.1:1"),
	}))
}

// TestModelAndUnknownPaths: GET /v1/models/{id} answers the model object of
// the client's protocol or a 404 in its error shape, and so does any /v1/
// path the gateway does not serve; paths outside /v1/ keep plain answers.
func TestModelAndUnknownPaths(t *testing.T) {
	g := twoModels(t)
	openAIKey := []string{"Authorization", "Bearer " + g.Key}
	anthropicKey := []string{"x-api-key", g.Key, "anthropic-version", messages.Version}
	tests := []struct {
		name, method, path string
		headers            []string
		status             int
		prefix             string // of the body
		contentType        string
	}{
		{"a model, OpenAI's shape", "GET", "/v1/models/a-model", openAIKey, 200,
			`{"id":"a-model","object":"model","created":`, "application/json"},
		{"a model whose id has a slash", "GET", "/v1/models/meta-llama/Llama-3.1-8B", openAIKey, 200,
			`{"id":"meta-llama/Llama-3.1-8B","object":"model"`, "application/json"},
		{"a model, Anthropic's shape", "GET", "/v1/models/a-model", anthropicKey, 200,
			`{"type":"model","id":"a-model","display_name":"a-model","created_at":"`, "application/json"},
		{"an unknown model, OpenAI's 404", "GET", "/v1/models/nope", openAIKey, 404,
			`{"error":{"message":"the model \"nope\" does not exist: no route serves it (GET /v1/models lists those that do)","type":"invalid_request_error","param":"model","code":"model_not_found"}}`, "application/json"},
		{"an unknown model, Anthropic's 404", "GET", "/v1/models/nope", anthropicKey, 404,
			`{"type":"error","error":{"type":"not_found_error","message":"the model \"nope\" does not exist`, "application/json"},
		{"a model needs a key", "GET", "/v1/models/a-model", nil, 401,
			`{"error":{"message":"missing API key`, "application/json"},
		{"a model is only read", "POST", "/v1/models/a-model", openAIKey, 405,
			`{"error":{"message":"method not allowed; use GET"`, "application/json"},
		{"an unknown /v1/ path, OpenAI's 404", "GET", "/v1/nothing/here", openAIKey, 404,
			`{"error":{"message":"no route matches /v1/nothing/here","type":"invalid_request_error","param":null,"code":"not_found"}}`, "application/json"},
		{"an unknown /v1/ path without a key", "POST", "/v1/completions", nil, 404,
			`{"error":{"message":"no route matches /v1/completions"`, "application/json"},
		{"an unknown /v1/ path, Anthropic's 404", "POST", "/v1/messages/batches", anthropicKey, 404,
			`{"type":"error","error":{"type":"not_found_error","message":"no route matches /v1/messages/batches"}}`, "application/json"},
		{"outside /v1/, plain text", "GET", "/elsewhere", nil, 404,
			"no route matches /elsewhere", "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := g.Do(t, tt.method, tt.path, "", tt.headers...)
			if resp.StatusCode != tt.status || !strings.HasPrefix(body, tt.prefix) || resp.Header.Get("Content-Type") != tt.contentType {
				t.Fatalf("%d %s %s\nwant %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status, tt.contentType, tt.prefix)
			}
		})
	}
}

// TestModelsGetWithOpenAIClient: the official client's Models.Get reads the
// model object, and its typed error carries the 404's code.
func TestModelsGetWithOpenAIClient(t *testing.T) {
	c := twoModels(t).OpenAI()
	ctx := context.Background()
	for _, id := range []string{"a-model", "meta-llama/Llama-3.1-8B"} {
		m, err := c.Models.Get(ctx, id)
		if err != nil {
			t.Fatalf("Models.Get(%q): %v", id, err)
		}
		if m.ID != id || m.Object != "model" || m.OwnedBy != "sluice" {
			t.Errorf("Models.Get(%q) = %+v", id, m)
		}
	}
	_, err := c.Models.Get(ctx, "nope")
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Fatalf("Models.Get of an unknown model: %v", err)
	}
}
