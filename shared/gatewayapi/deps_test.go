package gatewayapi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoKubernetesAPIPackages keeps k8s.io/api out of what this package
// links: once a binary links protobuf, the generated protobuf methods of
// every type in an imported k8s.io/api package stay in it, so kubetypes.go
// declares the three kinds Sluice reads. The tests may still import it.
func TestNoKubernetesAPIPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "grpcnotrace", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list gave too few packages to trust: %q", deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "k8s.io/api/") {
			t.Errorf("the package links %s", p)
		}
	}
}
