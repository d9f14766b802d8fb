package gatewayapi

import (
	"strings"
	"testing"
)

func TestBedrockBackend(t *testing.T) {
	const doc = `apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: claude, namespace: team-a}
spec:
  provider: bedrock
`
	cases := []struct {
		name, spec, env string
		wantEndpoint    string
		wantRegion      string
		wantProblem     string
	}{
		{name: "region", spec: "  region: eu-west-3\n", wantEndpoint: "https://bedrock-runtime.eu-west-3.amazonaws.com", wantRegion: "eu-west-3"},
		{name: "env region", env: "us-west-2", wantEndpoint: "https://bedrock-runtime.us-west-2.amazonaws.com"},
		{name: "endpoint", spec: "  endpoint: http://127.0.0.1:9/\n", wantEndpoint: "http://127.0.0.1:9"},
		{name: "nothing", wantProblem: "spec.region: required for provider bedrock when spec.endpoint is not set (or set AWS_REGION where manifests are applied)"},
		{name: "bad endpoint", spec: "  endpoint: nope\n", wantProblem: `spec.endpoint: must be an http or https URL, got "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", c.env)
			objs, probs := Validate(map[string][]byte{"b.yaml": []byte(doc + c.spec)})
			if c.wantProblem != "" {
				if len(probs) != 1 || !strings.HasSuffix(probs[0].String(), c.wantProblem) {
					t.Fatalf("problems %v, want %q", probs, c.wantProblem)
				}
				return
			}
			if len(probs) != 0 {
				t.Fatalf("problems: %v", probs)
			}
			var o *Object
			for _, x := range objs {
				if x.Kind == "AIBackend" {
					o = x
				}
			}
			b := aiBackend(o)
			if b.Provider != "bedrock" || b.Endpoint != c.wantEndpoint || b.Region != c.wantRegion {
				t.Fatalf("backend %+v, want endpoint %s region %q", b, c.wantEndpoint, c.wantRegion)
			}
		})
	}
}
