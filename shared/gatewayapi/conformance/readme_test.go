package conformance

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the conformance table in docs/gateway-api.md")

const (
	tableStart = "<!-- conformance table: go test ./shared/gatewayapi/conformance -update -->\n"
	tableEnd   = "<!-- end of conformance table -->\n"
)

// TestREADME: the conformance section of docs/gateway-api.md (the README
// points there) lists every upstream test with what becomes of it, as the
// suite says.
func TestREADME(t *testing.T) {
	const path = "../../../docs/gateway-api.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no conformance table between %q and %q", path, tableStart, tableEnd)
	}
	want := table()
	if *update {
		os.WriteFile(path, []byte(readme[:i+len(tableStart)]+want+readme[j:]), 0o644)
		return
	}
	if got := readme[i+len(tableStart) : j]; got != want {
		t.Errorf("the conformance table of docs/gateway-api.md is stale; run go test ./shared/gatewayapi/conformance -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func table() string {
	byName := map[string]*Test{}
	for _, tt := range Tests() {
		byName[tt.Name] = tt
	}
	var b strings.Builder
	for i, names := range [][]string{Upstream, UpstreamListenerSet} {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("| Upstream test (" + Release + ") | Through the local process |\n|---|---|\n")
		for _, name := range names {
			tt := byName[name]
			switch {
			case tt.NoCounterpart != "":
				b.WriteString("| `" + name + "` | no counterpart: " + tt.NoCounterpart + " |\n")
			case tt.Note != "":
				b.WriteString("| `" + name + "` | passes; " + tt.Note + " |\n")
			default:
				b.WriteString("| `" + name + "` | passes |\n")
			}
		}
	}
	return b.String()
}
