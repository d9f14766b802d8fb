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

// unwanted are packages no shipped binary may link, and why.
var unwanted = []struct {
	prefix, why string
}{
	// Its executor calls reflect.Value.MethodByName, and once that is
	// reachable the linker must keep every exported method of every type
	// in the binary (go-redis's commands, the AWS SDK's): the binaries
	// double in size and their resident memory grows with them. grpc's
	// golang.org/x/net/trace brings it in without the grpcnotrace tag.
	{"text/template", "its MethodByName call keeps every exported method in the binary"},
	{"html/template", "it builds on text/template"},
	// Once protobuf is linked (by the OTLP exporters), its legacy path
	// calls Marshal and Unmarshal through interfaces, so the generated
	// protobuf methods of every type of an imported k8s.io/api package
	// stay in the binary: shared/gatewayapi declares the kinds it reads.
	{"k8s.io/api/", "its generated protobuf methods stay in a binary that links protobuf"},
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
