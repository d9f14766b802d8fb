package gatewayapi

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected problems in testdata/invalid")

func load(t *testing.T, dir string) ([]*Object, []Problem) {
	t.Helper()
	files, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Validate(files)
}

func TestValidManifests(t *testing.T) {
	objs, probs := load(t, "../../examples")
	for _, p := range probs {
		t.Errorf("unexpected problem: %s", p)
	}
	tab, err := Compile(objs, 1, time.Unix(0, 0), func(*Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tab.Models(), ","); got != "claude-haiku-4-5,claude-sonnet-4-5,gpt-4o,gpt-4o-mini,llama-3.1-8b" {
		t.Errorf("models %s", got)
	}
	tests := []struct {
		name, path, model string
		wantBackend       string
	}{
		{"first model", "/v1/chat/completions", "gpt-4o-mini", "team-chat/openai"},
		{"second model", "/v1/embeddings", "gpt-4o", "team-chat/openai"},
		{"pool model", "/v1/chat/completions", "llama-3.1-8b", "team-search/llama"},
		{"claude by regex", "/v1/chat/completions", "claude-sonnet-4-5", "team-chat/anthropic"},
		{"claude on the Messages path", "/v1/messages", "claude-haiku-4-5", "team-chat/anthropic"},
		{"unknown model", "/v1/chat/completions", "claude", ""},
		{"outside /v1", "/v2/chat/completions", "gpt-4o", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.path, nil)
			r.Header.Set("X-Sluice-Model", tt.model)
			rule, _ := tab.Match(r, "localhost")
			got := ""
			switch {
			case rule != nil && rule.Backends[0].Pool > 0:
				got = tab.Pools[rule.Backends[0].Pool-1].Name
			case rule != nil:
				got = tab.Backends[rule.Backends[0].Backend].Name
			}
			if got != tt.wantBackend {
				t.Fatalf("backend %q, want %q", got, tt.wantBackend)
			}
		})
	}
}

// TestInvalidManifests compares every problem, as `sluice validate` prints
// it (refusals, conditions and notices), with the expected lines beside
// each case.
func TestInvalidManifests(t *testing.T) {
	cases, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, c := range cases {
		t.Run(filepath.Base(c), func(t *testing.T) {
			_, probs := load(t, c)
			var got []string
			for _, p := range probs {
				got = append(got, p.Printed())
			}
			golden := strings.TrimSuffix(c, ".yaml") + ".txt"
			if *update {
				os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := strings.Join(got, "\n"), strings.TrimSpace(string(want)); g != w {
				t.Fatalf("problems:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}
