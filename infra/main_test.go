package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAsset(t *testing.T) {
	dir := t.TempDir()
	built := filepath.Join(dir, "gateway.zip")
	if err := os.WriteFile(built, []byte("zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, given, def string
		want             string
		wantMissing      []string
	}{
		{"context value wins", "/elsewhere/code.zip", built, "/elsewhere/code.zip", nil},
		{"make build output", "", built, built, nil},
		{"placeholder when not built", "", filepath.Join(dir, "admin.zip"), placeholderAsset, []string{filepath.Join(dir, "admin.zip")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, missing := asset(c.given, c.def, nil)
			if got != c.want || !reflect.DeepEqual(missing, c.wantMissing) {
				t.Errorf("asset(%q, %q) = %q, %q; want %q, %q", c.given, c.def, got, missing, c.want, c.wantMissing)
			}
		})
	}
}

func TestPlaceholderIsExecutable(t *testing.T) {
	fi, err := os.Stat(filepath.Join(placeholderAsset, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 {
		t.Errorf("placeholder/bootstrap mode %v, want executable", fi.Mode())
	}
}

// TestCdkJSON pins the settings that keep `cdk synth` offline and the
// template stable.
func TestCdkJSON(t *testing.T) {
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, _ := cfg["context"].(map[string]any)
	checks := []struct {
		name      string
		got, want any
	}{
		{"app", cfg["app"], "go run ."},
		{"output", cfg["output"], "cdk.out"},
		{"versionReporting", cfg["versionReporting"], false},
		{"notices", cfg["notices"], false},
		{"cli-telemetry", ctx["cli-telemetry"], false},
		// true would add a Node.js custom resource (and its IAM) to strip
		// the default security group, which nothing here uses.
		{"restrictDefaultSecurityGroup", ctx["@aws-cdk/aws-ec2:restrictDefaultSecurityGroup"], false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("cdk.json %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
