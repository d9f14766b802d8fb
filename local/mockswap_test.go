package main

import (
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/gateway"
)

// TestMockBackendsByProvider: a gemini backend without its credential is
// pointed at the Gemini mock, the others (Azure included) at the OpenAI mock.
func TestMockBackendsByProvider(t *testing.T) {
	file := []byte(`apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: g}
spec:
  provider: gemini
  credentialRef: {name: gemini-key}
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: az}
spec:
  provider: azure-openai
  endpoint: https://res.openai.azure.com
  credentialRef: {name: azure-key}
`)
	urls := func(provider string) string {
		if provider == "gemini" {
			return "http://gemini-mock/v1beta"
		}
		return "http://openai-mock/v1"
	}
	out, mocked, err := mockBackends(file, urls, gateway.EnvCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if len(mocked) != 2 || !strings.Contains(s, "endpoint: http://gemini-mock/v1beta") || !strings.Contains(s, "endpoint: http://openai-mock/v1") || strings.Contains(s, "credentialRef") {
		t.Fatalf("mocked %v:\n%s", mocked, s)
	}
}
