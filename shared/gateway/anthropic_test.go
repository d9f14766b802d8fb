package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
)

func TestMessagesErrorsUseAnthropicShape(t *testing.T) {
	var upstreamCalls atomic.Int32
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamCalls.Add(1)
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}),
		gatewaytest.WithConfig(gateway.Config{MaxBodyBytes: 1024}))
	const ok = `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name, path, body string
		headers          []string
		wantStatus       int
		wantType         string
	}{
		{"missing key", "/v1/messages", ok, []string{"anthropic-version", messages.Version}, 401, "authentication_error"},
		{"wrong x-api-key", "/v1/messages", ok, []string{"x-api-key", "sk-sluice-abc-def"}, 401, "authentication_error"},
		{"wrong bearer", "/v1/messages", ok, []string{"Authorization", "Bearer sk-proj-1"}, 401, "authentication_error"},
		{"malformed JSON", "/v1/messages", `{"model":"m",`, []string{"x-api-key", f.Key}, 400, "invalid_request_error"},
		{"no model", "/v1/messages", `{"max_tokens":1}`, []string{"x-api-key", f.Key}, 400, "invalid_request_error"},
		{"unknown model", "/v1/messages", `{"model":"nope","max_tokens":1,"messages":[]}`, []string{"x-api-key", f.Key}, 404, "not_found_error"},
		{"oversized body", "/v1/messages", `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`, []string{"x-api-key", f.Key}, 413, "request_too_large"},
		{"wrong method", "/v1/messages", "", []string{"x-api-key", f.Key}, 405, "invalid_request_error"},
		{"count_tokens without key", "/v1/messages/count_tokens", ok, nil, 401, "authentication_error"},
		{"count_tokens malformed", "/v1/messages/count_tokens", `{"model":"m","messages":3}`, []string{"x-api-key", f.Key}, 400, "invalid_request_error"},
		{"models for an Anthropic client", "/v1/models", "", []string{"anthropic-version", messages.Version, "x-api-key", "sk-sluice-x-y"}, 401, "authentication_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.wantStatus == 405 || strings.HasSuffix(tt.path, "/models") {
				method = http.MethodGet
			}
			resp, body := f.Do(t, method, tt.path, tt.body, tt.headers...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var e messages.ErrorResponse
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type != "error" || e.Error.Type != tt.wantType || e.Error.Message == "" {
				t.Fatalf("body %s: want an Anthropic error of type %q", body, tt.wantType)
			}
		})
	}
	if n := upstreamCalls.Load(); n != 0 {
		t.Errorf("refused requests reached the upstream %d times", n)
	}
}

func TestMessagesUpstreamErrors(t *testing.T) {
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"error-429": gatewaytest.OpenAIAt(up + "/v1"), "error-529": gatewaytest.OpenAIAt(up + "/v1"), "m": gatewaytest.OpenAIAt(up + "/v1")}))
	resp, body := f.Do(t, http.MethodPost, "/v1/messages", `{"model":"error-429","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", f.Key)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || !strings.Contains(body, `"type":"rate_limit_error"`) {
		t.Fatalf("429: status %d, Retry-After %q, body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, body = f.Do(t, http.MethodPost, "/v1/messages", `{"model":"error-529","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", f.Key)
	if resp.StatusCode != 529 || !strings.Contains(body, `"type":"overloaded_error"`) {
		t.Fatalf("529: status %d, body %s", resp.StatusCode, body)
	}
	resp, body = f.Do(t, http.MethodPost, "/v1/messages", `{"model":"m","max_tokens":5,"top_k":3,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", f.Key)
	if resp.StatusCode != 400 || !strings.Contains(body, `"type":"invalid_request_error"`) || !strings.Contains(body, "top_k is not supported by the openai provider") {
		t.Fatalf("top_k: status %d, body %s", resp.StatusCode, body)
	}
}

func TestMessagesStreamCutEndsWithErrorEvent(t *testing.T) {
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Once"}}]}`+"\n\n"+`data: {"id":"c1","cho`)
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}))
	resp, body := f.Do(t, http.MethodPost, "/v1/messages", `{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", f.Key)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !strings.Contains(body, `"text":"Once"`) || strings.Contains(body, "message_stop") ||
		!strings.HasSuffix(body, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"the backend stream failed mid-response\"}}\n\n") {
		t.Fatalf("body %q", body)
	}

	// A stream that ends cleanly but before its finish_reason was cut too.
	early := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Once"}}]}`+"\n\n")
	}))
	f = gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(early + "/v1")}))
	_, body = f.Do(t, http.MethodPost, "/v1/messages", `{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", f.Key)
	if strings.Contains(body, "message_stop") || !strings.Contains(body, "event: error\n") {
		t.Fatalf("early end: %q", body)
	}
}

func TestCountTokensEstimated(t *testing.T) {
	var upstreamCalls atomic.Int32
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { upstreamCalls.Add(1) }))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}))
	body := `{"model":"m","system":"Be brief.","messages":[{"role":"user","content":"What is the weather in Paris today?"}],` +
		`"tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object"}}]}`
	resp, got := f.Do(t, http.MethodPost, "/v1/messages/count_tokens", body, "x-api-key", f.Key, "anthropic-version", messages.Version)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Estimated") != "true" {
		t.Fatalf("status %d, estimated %q: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Estimated"), got)
	}
	want, _ := messages.EstimateTokens([]byte(body))
	if got != `{"input_tokens":`+strconv.FormatInt(want, 10)+`}` || want < 20 || want > 40 {
		t.Fatalf("count %s, estimate %d", got, want)
	}
	if upstreamCalls.Load() != 0 {
		t.Error("the estimate asked the OpenAI backend")
	}
}

func TestModelsAnthropicShape(t *testing.T) {
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"b-model": gatewaytest.OpenAIAt("http://127.0.0.1:1"), "a-model": gatewaytest.OpenAIAt("http://127.0.0.1:1")}))
	for _, h := range [][]string{{"x-api-key", f.Key}, {"Authorization", "Bearer " + f.Key, "anthropic-version", messages.Version}} {
		resp, body := f.Do(t, http.MethodGet, "/v1/models", "", h...)
		var list struct {
			Data []struct {
				Type, ID, DisplayName, CreatedAt string
			}
			HasMore bool    `json:"has_more"`
			FirstID *string `json:"first_id"`
			LastID  *string `json:"last_id"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Data) != 2 || list.Data[0].Type != "model" ||
			list.Data[0].ID != "a-model" || list.HasMore || list.FirstID == nil || *list.FirstID != "a-model" || *list.LastID != "b-model" ||
			!strings.Contains(body, `"display_name":"a-model","created_at":"`) {
			t.Fatalf("headers %v: %s", h, body)
		}
	}
	_, body := f.Do(t, http.MethodGet, "/v1/models", "", "Authorization", "Bearer "+f.Key)
	if !strings.HasPrefix(body, `{"object":"list"`) {
		t.Fatalf("OpenAI clients get OpenAI's list: %s", body)
	}
}

// BenchmarkMessagesStream is the translating path: an Anthropic client's
// streamed request to an OpenAI-protocol backend, 20 text chunks back.
// Compare with BenchmarkChatCompletionStream, the pass-through.
func BenchmarkMessagesStream(b *testing.B) {
	chunk := `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi "},"finish_reason":null}]}` + "\n\n"
	end := `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
		`data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}` + "\n\ndata: [DONE]\n\n"
	g := gatewaytest.New(b, gatewaytest.Table(b, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")}),
		gatewaytest.WithConfig(gateway.Config{Transport: cannedTransport{contentType: "text/event-stream", body: strings.Repeat(chunk, 20) + end}}))
	body := []byte(`{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/messages", bytes.NewReader(body))
		r.Header.Set("x-api-key", g.Key)
		r.Header.Set("anthropic-version", messages.Version)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 || !strings.HasSuffix(w.Body.String(), "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
