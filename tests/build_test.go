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

// TestShippedBinariesLeaveOutTemplates: no shipped binary links
// text/template. Its executor calls reflect.Value.MethodByName, and once
// that is reachable the linker must keep every exported method of every
// type in the binary (go-redis's commands, the Kubernetes API types'):
// the binaries double in size and their resident memory grows with them.
func TestShippedBinariesLeaveOutTemplates(t *testing.T) {
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
		for _, dep := range strings.Fields(string(out)) {
			if dep == "text/template" || dep == "html/template" {
				t.Errorf("%s (tags %s) imports %s (go list -deps -f '{{.ImportPath}} {{.Imports}}' shows through what)", pkg, tags, dep)
			}
		}
	}
}
