package main

import (
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
