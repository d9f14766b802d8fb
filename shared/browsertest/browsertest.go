// Package browsertest loads pages in headless Chromium for the tests: the
// DOM as the page's scripts left it, and a screenshot. Chromium is Debian's
// chromium package (.ci/prereqs installs it for `make test`); a test
// without it skips, unless SLUICE_REQUIRE_SERVERS=1 makes that a failure.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Browser runs headless Chromium, one process per page load.
type Browser struct {
	bin string
	// Width and Height size the window, in CSS pixels (default 1280×1900).
	Width, Height int
}

// New finds Chromium on PATH.
func New(t testing.TB) *Browser {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return &Browser{bin: p, Width: 1280, Height: 1900}
		}
	}
	if testing.Short() || os.Getenv("SLUICE_REQUIRE_SERVERS") != "1" {
		t.Skip("skipping: no chromium on PATH (set SLUICE_REQUIRE_SERVERS=1 to make this a failure)")
	}
	t.Fatal("no chromium on PATH: install Debian's chromium package (`.ci/prereqs test` does)")
	return nil
}

// DOM loads url, lets its scripts run (in Chromium's virtual time, so a
// slow machine waits longer rather than failing), and returns the DOM.
func (b *Browser) DOM(t testing.TB, url string) string {
	t.Helper()
	return string(b.run(t, url, "--dump-dom"))
}

// Screenshot loads url as DOM does and returns a PNG of the window.
func (b *Browser) Screenshot(t testing.TB, url string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "screenshot.png")
	b.run(t, url, "--screenshot="+path)
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	return png
}

func (b *Browser) run(t testing.TB, url, mode string) []byte {
	t.Helper()
	args := []string{"--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio",
		"--user-data-dir=" + t.TempDir(), "--window-size=" + itoa(b.Width) + "," + itoa(b.Height),
		"--virtual-time-budget=15000"}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium will not sandbox as root (CI containers)
	}
	args = append(args, mode, url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", mode, err, stderr.String())
	}
	return stdout.Bytes()
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}

// Tags returns the start tags in dom of elements of the given name whose
// class list holds class.
func Tags(dom, name, class string) []string {
	re := regexp.MustCompile(`<` + name + `\s[^>]*class="[^"]*\b` + regexp.QuoteMeta(class) + `\b[^"]*"[^>]*>`)
	return re.FindAllString(dom, -1)
}

// Attr returns an attribute's value in a start tag, and whether it is there.
func Attr(tag, name string) (string, bool) {
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `(?:="([^"]*)")?[\s/>]`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return strings.ReplaceAll(m[1], "&amp;", "&"), true
}
