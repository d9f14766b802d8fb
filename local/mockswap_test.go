package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/gateway"
)

func TestMockBackendsBedrock(t *testing.T) {
	const doc = `apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: claude, namespace: team-a}
spec:
  provider: bedrock
`
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_SHARED_CREDENTIALS_FILE"} {
		t.Setenv(k, "")
	}
	out, mocked, err := mockBackends([]byte(doc), "http://127.0.0.1:9", gateway.CredentialMap{})
	if err != nil || len(mocked) != 1 || mocked[0] != "team-a/claude" {
		t.Fatalf("mocked %v, err %v", mocked, err)
	}
	for _, want := range []string{"endpoint: http://127.0.0.1:9\n", "region: us-east-1", "no AWS credentials are configured"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDREAL")
	if _, mocked, _ := mockBackends([]byte(doc), "http://127.0.0.1:9", gateway.CredentialMap{}); len(mocked) != 0 {
		t.Fatalf("mocked %v with AWS credentials configured", mocked)
	}
}

// TestMockBackendsByProvider: backends without their credential point at
// the mock of their own protocol, and the mock server serves each.
func TestMockBackendsByProvider(t *testing.T) {
	srv := httptest.NewServer(mockProviders())
	defer srv.Close()
	file := []byte(`apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: claude, namespace: ai}
spec:
  provider: anthropic
  credentialRef: {name: anthropic}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: gpt, namespace: ai}
spec:
  provider: openai
  endpoint: https://api.openai.com/v1
  credentialRef: {name: openai}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: g, namespace: ai}
spec:
  provider: gemini
  credentialRef: {name: gemini-key}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: az, namespace: ai}
spec:
  provider: azure-openai
  endpoint: https://res.openai.azure.com
  credentialRef: {name: azure-key}
`)
	out, mocked, err := mockBackends(file, srv.URL, gateway.CredentialMap{})
	if err != nil || len(mocked) != 4 {
		t.Fatalf("mocked %v, %v", mocked, err)
	}
	if strings.Contains(string(out), "credentialRef") {
		t.Fatalf("credentialRef kept in\n%s", out)
	}
	for _, want := range []string{"endpoint: " + srv.URL + "/anthropic/v1", "endpoint: " + srv.URL + "/v1", "endpoint: " + srv.URL + "/gemini/v1beta"} {
		if !strings.Contains(string(out), want+"\n") {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	post := func(url, body string, h map[string]string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(srv.URL+"/anthropic/v1/messages", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"anthropic-version": "2023-06-01"})
	if status != 200 || !strings.Contains(body, `"type":"message"`) {
		t.Fatalf("anthropic mock: %d %s", status, body)
	}
	status, body = post(srv.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, nil)
	if status != 200 || !strings.Contains(body, `"chat.completion"`) {
		t.Fatalf("openai mock: %d %s", status, body)
	}
	status, body = post(srv.URL+"/gemini/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
		map[string]string{"x-goog-api-key": "k"})
	if status != 200 || !strings.Contains(body, `"candidates"`) {
		t.Fatalf("gemini mock: %d %s", status, body)
	}
}
