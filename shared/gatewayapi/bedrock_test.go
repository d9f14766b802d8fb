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
	// Without an endpoint the compiled backend keeps only its region: the
	// gateway addresses Bedrock Runtime in it, or in its own region when
	// the manifest names none, so validation never depends on the shell.
	cases := []struct {
		name, spec   string
		wantEndpoint string
		wantRegion   string
		wantProblem  string
	}{
		{name: "region", spec: "  region: eu-west-3\n", wantRegion: "eu-west-3"},
		{name: "nothing: the gateway's region", wantEndpoint: ""},
		{name: "endpoint", spec: "  endpoint: http://127.0.0.1:9/\n", wantEndpoint: "http://127.0.0.1:9"},
		{name: "bad region", spec: "  region: Mars\n", wantProblem: `spec.region: must be an AWS region such as us-east-1, got "Mars"`},
		{name: "bad endpoint", spec: "  endpoint: nope\n", wantProblem: `spec.endpoint: must be an http or https URL, got "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "us-west-2") // read by nothing here
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
