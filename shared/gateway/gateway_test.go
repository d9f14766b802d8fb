package gateway_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
)

func TestErrorsUseOpenAIShape(t *testing.T) {
	var upstreamCalls atomic.Int32
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamCalls.Add(1)
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}),
		gatewaytest.WithConfig(gateway.Config{MaxBodyBytes: 1024}))
	tests := []struct {
		name, key, body string
		wantStatus      int
		wantCode        string
	}{
		{"missing key", "", `{"model":"m","messages":[]}`, 401, "invalid_api_key"},
		{"wrong key", "sk-sluice-abc-def", `{"model":"m","messages":[]}`, 401, "invalid_api_key"},
		{"not a sluice key", "sk-proj-123", `{"model":"m","messages":[]}`, 401, "invalid_api_key"},
		{"malformed JSON", f.Key, `{"model":"m",`, 400, "invalid_request"},
		{"not an object", f.Key, `[1,2]`, 400, "invalid_request"},
		{"wrong type", f.Key, `{"model":42}`, 400, "invalid_request"},
		{"no model", f.Key, `{"messages":[]}`, 400, "invalid_request"},
		{"unknown model", f.Key, `{"model":"nope","messages":[]}`, 404, "model_not_found"},
		{"oversized body", f.Key, `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`, 413, "request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth []string
			if tt.key != "" {
				auth = []string{"Authorization", "Bearer " + tt.key}
			}
			resp, body := f.Do(t, http.MethodPost, "/v1/chat/completions", tt.body, auth...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var e struct {
				Error struct{ Message, Type, Code string }
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != tt.wantCode || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("body %s: want OpenAI error with code %q", body, tt.wantCode)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
	if n := upstreamCalls.Load(); n != 0 {
		t.Errorf("refused requests reached the upstream %d times", n)
	}
}

func TestUpstreamErrorsKeepStatus(t *testing.T) {
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"error-429": gatewaytest.OpenAIAt(up + "/v1"), "error-400": gatewaytest.OpenAIAt(up + "/v1")}))
	resp, body := f.Post(t, "/v1/chat/completions", `{"model":"error-429","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || !strings.Contains(body, `"code":"mock_429"`) {
		t.Fatalf("429: status %d, Retry-After %q, body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, body = f.Post(t, "/v1/chat/completions", `{"model":"error-400","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(body, `"code":"mock_400"`) {
		t.Fatalf("400: status %d, body %s", resp.StatusCode, body)
	}
}

func TestPlainCompletion(t *testing.T) {
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"mock-gpt": gatewaytest.OpenAIAt(up + "/v1")}))
	resp, body := f.Post(t, "/v1/chat/completions", `{"model":"mock-gpt","messages":[{"role":"user","content":"ping"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var c struct {
		Object  string
		Choices []struct{ Message struct{ Content string } }
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil || c.Object != "chat.completion" || !strings.Contains(c.Choices[0].Message.Content, "ping") {
		t.Fatalf("body %s", body)
	}
	if resp.Header.Get("X-Sluice-Backend") == "" {
		t.Error("no X-Sluice-Backend")
	}
}

func TestFailoverBeforeFirstByte(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(deadURL+"/v1", up+"/v1")}))
	for i := 0; i < 10; i++ {
		resp, body := f.Post(t, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d: %s", i, resp.StatusCode, body)
		}
	}
}

// TestStreamFlushesEachEvent proves events are not buffered: the upstream
// sends one event, then waits until the client has read it before sending
// the next.
func TestStreamFlushesEachEvent(t *testing.T) {
	clientGotFirst := make(chan struct{})
	upstreamDone := make(chan struct{})
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(upstreamDone)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"n\":1}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-clientGotFirst:
		case <-time.After(10 * time.Second):
			t.Error("client never received the first event while the upstream waited")
			return
		}
		fmt.Fprint(w, "data: {\"n\":2}\n\ndata: [DONE]\n\n")
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}))
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true,"messages":[]}`))
	req.Header.Set("Authorization", "Bearer "+f.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	line, _ := br.ReadString('\n')
	if line != "data: {\"n\":1}\n" {
		t.Fatalf("first line %q", line)
	}
	select {
	case <-upstreamDone:
		t.Fatal("upstream finished before the client read the first event")
	default:
	}
	close(clientGotFirst)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: {\"n\":2}\n\ndata: [DONE]\n\n" {
		t.Fatalf("rest %q", rest)
	}
}

func TestStreamCutMidwayEndsWithErrorEvent(t *testing.T) {
	up := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"n\":1}\n\ndata: {\"n\":")
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up + "/v1")}))
	resp, body := f.Post(t, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := "data: {\"n\":1}\n\ndata: {\"error\":{\"message\":\"the backend stream failed mid-response\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_error\"}}\n\n"
	if body != want {
		t.Fatalf("body %q\nwant %q", body, want)
	}

	// A stream that ends cleanly before its finish_reason and [DONE] was
	// cut too: the client must not take it for a complete answer.
	early := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Once\"},\"finish_reason\":null}]}\n\n")
	}))
	f = gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(early + "/v1")}))
	_, body = f.Post(t, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`)
	if !strings.Contains(body, `"content":"Once"`) || !strings.HasSuffix(body, "data: {\"error\":{\"message\":\"the backend stream ended before the completion was finished\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_error\"}}\n\n") {
		t.Fatalf("early end: %q", body)
	}
}

// TestUpstreamConnectionsAreReused counts the TCP connections the upstream
// accepts over many sequential requests, plain and streamed.
func TestUpstreamConnectionsAreReused(t *testing.T) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(&mock.OpenAI{})
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(up.URL + "/v1")}))
	for i := 0; i < 20; i++ {
		stream := i%2 == 0
		resp, body := f.Post(t, "/v1/chat/completions", fmt.Sprintf(`{"model":"m","stream":%v,"messages":[{"role":"user","content":"x"}]}`, stream))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("upstream saw %d connections for 20 sequential requests, want 1", n)
	}
}

func TestModels(t *testing.T) {
	f := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"b-model": gatewaytest.OpenAIAt("http://127.0.0.1:1"), "a-model": gatewaytest.OpenAIAt("http://127.0.0.1:1")}))
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+f.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	var list struct {
		Object string
		Data   []struct{ ID, Object string }
	}
	if err := json.Unmarshal(b, &list); err != nil || list.Object != "list" || len(list.Data) != 2 || list.Data[0].ID != "a-model" || list.Data[0].Object != "model" {
		t.Fatalf("models %s", b)
	}
}
