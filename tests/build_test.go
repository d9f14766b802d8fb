package tests

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// goTags are the build tags every shipped binary is built with: the
// Makefile's GOTAGS, which the tests' and the bench's builds repeat.
const goTags = "grpcnotrace"

// shipped are the binaries people run.
var shipped = []string{"./local", "./functions/gateway", "./functions/admin", "./cmd/sluice"}

// TestBuildTagsAgree: the Makefile, the tests and the bench build with the
// same tags, so what is tested and measured is what ships.
func TestBuildTagsAgree(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GOTAGS := (.*)$`).FindSubmatch(mk)
	if m == nil || string(m[1]) != goTags {
		t.Fatalf("the Makefile's GOTAGS is %q, the tests build with %q", m, goTags)
	}
	bench, err := os.ReadFile("bench/setup.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), `const goTags = "`+goTags+`"`) {
		t.Errorf("tests/bench/setup.go does not build with %q", goTags)
	}
}

// unwanted are packages no shipped binary may link, and why. text/template
// comes in through grpc's golang.org/x/net/trace without the grpcnotrace
// tag; protobuf is linked by the OTLP exporters.
var unwanted = []struct {
	prefix, why string
}{
	{"text/template", "its reflect.Value.MethodByName call makes the linker keep every exported method of every type"},
	{"html/template", "it builds on text/template"},
	{"k8s.io/api/", "once protobuf is linked, the generated protobuf methods of all its types stay in the binary"},
}

// TestShippedBinariesLeaveOutHeavyPackages: no shipped binary imports a
// package of unwanted.
func TestShippedBinariesLeaveOutHeavyPackages(t *testing.T) {
	for _, pkg := range shipped {
		tags := goTags
		if strings.HasPrefix(pkg, "./functions/") {
			tags += ",lambda.norpc"
		}
		cmd := exec.Command("go", append([]string{"list", "-deps", "-tags", tags}, pkg)...)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 50 {
			t.Fatalf("go list -deps %s gave too few packages to trust: %q", pkg, deps)
		}
		for _, dep := range deps {
			for _, u := range unwanted {
				if dep == u.prefix || strings.HasSuffix(u.prefix, "/") && strings.HasPrefix(dep, u.prefix) {
					t.Errorf("%s (tags %s) imports %s: %s (go list -deps -f '{{.ImportPath}} {{.Imports}}' shows through what)", pkg, tags, dep, u.why)
				}
			}
		}
	}
}
