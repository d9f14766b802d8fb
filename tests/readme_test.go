package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The documents a newcomer reads, relative to the repository's root.
var docs = []string{"README.md", "docs/gateway-api.md", "docs/providers.md", "infra/README.md"}

// TestREADMEQuickStartFirst: the README's first section is the Quick start.
func TestREADMEQuickStartFirst(t *testing.T) {
	for _, line := range strings.Split(readDoc(t, "README.md"), "\n") {
		if strings.HasPrefix(line, "## ") {
			if line != "## Quick start" {
				t.Fatalf("the README's first section is %q, want ## Quick start", line)
			}
			return
		}
	}
	t.Fatal("the README has no sections")
}

// TestREADMELayout: the README's Layout section names every Go package of
// the repository (both modules), each on a line of its own.
func TestREADMELayout(t *testing.T) {
	readme := readDoc(t, "README.md")
	i := strings.Index(readme, "\n## Layout\n")
	if i < 0 {
		t.Fatal("the README has no ## Layout section")
	}
	section := readme[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	named := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			named[strings.TrimSuffix(f[0], "/")] = true
		}
	}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".tools", ".sluice", "build", "testdata", "node_modules", "cdk.out":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			pkg := filepath.ToSlash(filepath.Dir(rel))
			if !named[pkg] {
				t.Errorf("the README's Layout does not name the package %s", pkg)
				named[pkg] = true // once
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDocLinks: every relative link of the documents reaches a file, and
// every anchor a heading of the document it points into.
func TestDocLinks(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, doc := range docs {
		text := readDoc(t, doc)
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := doc
			if file != "" {
				path = filepath.ToSlash(filepath.Join(filepath.Dir(doc), file))
			}
			if _, err := os.Stat(filepath.Join("..", path)); err != nil {
				t.Errorf("%s: link %s: %v", doc, target, err)
				continue
			}
			if anchor != "" && !anchors(t, path)[anchor] {
				t.Errorf("%s: link %s: %s has no heading with the anchor #%s", doc, target, path, anchor)
			}
		}
	}
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// anchors are the ids a Markdown renderer gives the headings of a
// document, as GitHub makes them: lower case, punctuation dropped, spaces
// as hyphens.
func anchors(t *testing.T, path string) map[string]bool {
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(readDoc(t, path), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		out[b.String()] = true
	}
	return out
}
