package openai

import (
	"errors"
	"net/http"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

func TestRequestModelMapping(t *testing.T) {
	tests := []struct {
		name, client, upstream, body, want string
	}{
		{"same name passes through", "gpt-4o", "gpt-4o", `{"model":"gpt-4o","messages":[]}`, `{"model":"gpt-4o","messages":[]}`},
		{"renamed in place", "fast", "gpt-4o-mini", `{"messages":[{"role":"user","content":"model"}], "model" : "fast","n":1}`,
			`{"messages":[{"role":"user","content":"model"}], "model" : "gpt-4o-mini","n":1}`},
		{"nested model keys are left alone", "a", "b", `{"tools":[{"model":"a"}],"model":"a"}`, `{"tools":[{"model":"a"}],"model":"b"}`},
		{"escaped names", "a", `we"ird`, `{"model":"\u0061"}`, `{"model":"we\"ird"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := New(api.EndpointChatCompletions, tt.client, tt.upstream)
			if err != nil {
				t.Fatal(err)
			}
			path, out, err := tr.Request([]byte(tt.body))
			if err != nil || path != "/chat/completions" || string(out) != tt.want {
				t.Fatalf("Request = %q, %s, %v; want %s", path, out, err, tt.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	tr, _ := New(api.EndpointChatCompletions, "m", "m")
	tests := []struct {
		name       string
		status     int
		body       string
		wantKind   error
		wantStatus int
		wantBody   string
	}{
		{"rate limit keeps its object", 429, `{"error":{"message":"Slow down","type":"requests","code":"rate_limit_exceeded"}}`,
			api.ErrRateLimited, 429, `{"error":{"message":"Slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"context length keeps its code", 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			api.ErrBadRequest, 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`},
		{"non-JSON 503", 503, `<html>busy</html>`, api.ErrUpstream, 503,
			`{"error":{"message":"upstream returned status Service Unavailable","type":"server_error","param":null,"code":"upstream_error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tr.Error(tt.status, []byte(tt.body))
			if !errors.Is(err, tt.wantKind) || api.Status(err) != tt.wantStatus {
				t.Fatalf("err = %v (status %d), want kind %v status %d", err, api.Status(err), tt.wantKind, tt.wantStatus)
			}
			if got := string(api.OpenAIBody(err)); got != tt.wantBody {
				t.Errorf("body = %s\nwant   %s", got, tt.wantBody)
			}
		})
	}
	_ = http.StatusOK
}
