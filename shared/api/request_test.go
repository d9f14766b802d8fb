package api

import (
	"errors"
	"strings"
	"testing"
)

func TestPeekBody(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      Peek
		wantParam string
		wantErr   bool
	}{
		{"model and stream", `{"model":"gpt-4o","stream":true,"messages":[]}`, Peek{"gpt-4o", true}, "", false},
		{"no stream", `{"messages":[{"role":"user","content":"hi"}],"model":"m"}`, Peek{"m", false}, "", false},
		{"empty", ``, Peek{}, "", true},
		{"malformed", `{"model":"m",`, Peek{}, "", true},
		{"array", `[]`, Peek{}, "", true},
		{"null", `null`, Peek{}, "model", true},
		{"model not a string", `{"model":1}`, Peek{}, "model", true},
		{"stream not a bool", `{"model":"m","stream":"yes"}`, Peek{}, "stream", true},
		{"missing model", `{"messages":[]}`, Peek{}, "model", true},
		{"trailing garbage", `{"model":"m"} x`, Peek{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PeekBody([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrBadRequest) || e.Param != tt.wantParam {
					t.Fatalf("err = %#v, want bad request with param %q", err, tt.wantParam)
				}
				return
			}
			if got.Model != tt.want.Model || got.Stream != tt.want.Stream {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func peekBenchBody() []byte {
	return []byte(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` + strings.Repeat("Tell me about gateways. ", 40) + `"}],"temperature":0.2}`)
}

func BenchmarkPeekBody(b *testing.B) {
	body := peekBenchBody()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := PeekBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEndpointOf(t *testing.T) {
	tests := []struct {
		path      string
		want      Endpoint
		anthropic bool
	}{
		{"/v1/chat/completions", EndpointChatCompletions, false},
		{"/v1/embeddings", EndpointEmbeddings, false},
		{"/v1/models", EndpointModels, false},
		{"/v1/models/gpt-4o", EndpointModel, false},
		{"/v1/models/meta-llama/Llama-3.1-8B", EndpointModel, false},
		{"/v1/models/", EndpointUnknown, false},
		{"/v1/responses", EndpointResponses, false},
		{"/v1/messages", EndpointMessages, true},
		{"/v1/messages/count_tokens", EndpointCountTokens, true},
		{"/v1/messages/batches", EndpointUnknown, false},
		{"/v2/messages", EndpointUnknown, false},
	}
	for _, tt := range tests {
		if got := EndpointOf(tt.path); got != tt.want || got.Anthropic() != tt.anthropic {
			t.Errorf("EndpointOf(%q) = %v (anthropic %v), want %v (%v)", tt.path, got, got.Anthropic(), tt.want, tt.anthropic)
		}
	}
}
