package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

// cdkContext is the "context" object of ../cdk.json (feature flags): tests
// synthesize with the same flags as `make synth`.
func cdkContext(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return cfg.Context
}

// testProps are Props with a stand-in for the Lambda code: a directory
// holding a bootstrap file, as `make build` would.
func testProps(t *testing.T) Props {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return Props{GatewayAsset: dir, AdminAsset: dir}
}

// synthesized is one stack's template, as matchers and as plain JSON.
type synthesized struct {
	stack    awscdk.Stack
	template assertions.Template
	json     map[string]any
}

// synth builds the stack from p in a fresh app with cdk-nag's AwsSolutions
// checks, and fails the test on any unsuppressed finding: every variant of
// the stack must pass, not only the default.
func synth(t *testing.T, p Props) synthesized {
	t.Helper()
	ctx := cdkContext(t)
	app := awscdk.NewApp(&awscdk.AppProps{
		Context:            &ctx,
		Outdir:             jsii.String(t.TempDir()),
		AnalyticsReporting: jsii.Bool(false),
	})
	s, err := New(app, "Test", p)
	if err != nil {
		t.Fatal(err)
	}
	Check(app)
	tmpl := assertions.Template_FromStack(s, nil)
	ann := assertions.Annotations_FromStack(s)
	for _, find := range []func(*string, any) *[]*cxapi.SynthesisMessage{ann.FindError, ann.FindWarning} {
		for _, m := range *find(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-"))) {
			t.Errorf("cdk-nag: %s: %v", *m.Id, m.Entry.Data)
		}
	}
	return synthesized{stack: s, template: tmpl, json: *tmpl.ToJSON()}
}

// must runs an assertions call, turning its panic (a failed match) into a
// test error.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the template's resources of one type, by logical ID.
func (s synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// one returns the only resource of a type.
func (s synthesized) one(t *testing.T, typ string) map[string]any {
	t.Helper()
	rs := s.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("%d %s resources, want 1", len(rs), typ)
	}
	for _, r := range rs {
		return r
	}
	return nil
}

// props returns a resource's Properties.
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// logicalID finds the resource of a type whose logical ID starts with
// prefix (CDK appends a hash).
func (s synthesized) logicalID(t *testing.T, typ, prefix string) string {
	t.Helper()
	for id := range s.resources(typ) {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no %s named %s*", typ, prefix)
	return ""
}

// statements lists every IAM statement of the IAM::Policy resources whose
// roles include role (a logical ID).
func (s synthesized) statements(t *testing.T, role string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, pol := range s.resources("AWS::IAM::Policy") {
		p := props(pol)
		if !strings.Contains(fmt.Sprint(p["Roles"]), role) {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

// list normalizes an IAM Action or Resource (a string or a list) to a list.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// render flattens a template string value, Fn::Join of strings and Refs, into
// one string with pseudo parameters as <AWS::Region>.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if j, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, render(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if r, ok := v["Ref"].(string); ok {
			return "<" + r + ">"
		}
	}
	return toJSON(v)
}
