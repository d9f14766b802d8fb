package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeManifests writes a Gateway and a route sending gpt-4o-mini to an
// OpenAI-protocol backend at endpoint.
func writeManifests(t *testing.T, dir, endpoint string) {
	t.Helper()
	m := strings.ReplaceAll(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: sluice, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 8080}]
---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: upstream, namespace: default}
spec:
  provider: openai
  endpoint: ENDPOINT
  models: [gpt-4o-mini]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: default}
spec:
  parentRefs: [{name: sluice}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1}
      headers: [{name: x-sluice-model, value: gpt-4o-mini}]
    backendRefs: [{group: sluice.dev, kind: AIBackend, name: upstream}]
`, "ENDPOINT", endpoint)
	if err := os.WriteFile(filepath.Join(dir, "routes.yaml"), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
}
