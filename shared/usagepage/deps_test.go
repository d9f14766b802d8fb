package usagepage

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTemplatePackages keeps text/template (html/template builds on it)
// out of everything this package links: its reflect.Value.MethodByName
// call makes the linker keep every exported method of every reachable
// type in the binaries that serve the page. grpc's golang.org/x/net/trace,
// the other way in, is left out by grpc's grpcnotrace build tag, so the
// dependencies are listed with it.
func TestNoTemplatePackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "grpcnotrace", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list gave too few packages to trust: %q", deps)
	}
	for _, p := range deps {
		if p == "text/template" || p == "html/template" {
			t.Errorf("the usage page links %s", p)
		}
	}
}
