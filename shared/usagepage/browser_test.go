package usagepage

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the browser test's screenshot to docs/usage-page.png")

// chromium finds a headless-capable Chromium: Debian's chromium package
// (.ci/prereqs installs it), or another build by its usual names.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testing.Short() || os.Getenv("SLUICE_REQUIRE_SERVERS") != "1" {
		t.Skip("skipping: no chromium on PATH (set SLUICE_REQUIRE_SERVERS=1 to make this a failure)")
	}
	t.Fatal("no chromium on PATH: install Debian's chromium package (.ci/prereqs test does)")
	return ""
}

// browse loads url in headless Chromium, lets its scripts run, and
// returns what the mode flag asks for (--dump-dom: the DOM on stdout;
// --screenshot=FILE: a PNG).
func browse(t *testing.T, bin, url string, mode ...string) []byte {
	t.Helper()
	args := []string{"--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,1900", "--virtual-time-budget=15000"}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to sandbox as root (CI containers)
	}
	args = append(append(args, mode...), url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(mode, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

var figureTag = regexp.MustCompile(`<figure [^>]*class="chart"[^>]*>`)

func attr(tag, name string) (string, bool) {
	m := regexp.MustCompile(` ` + name + `(?:="([^"]*)")?[ >]`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// TestPageInBrowser signs in to the page in headless Chromium by the
// fragment link `make local` prints, and checks what the browser drew:
// every chart the page requires holds data points (the DOM after the
// scripts ran), and the screenshot is not blank and shows the series'
// colours.
func TestPageInBrowser(t *testing.T) {
	bin := chromium(t)
	srv := newTestPage(t, &fixture{})
	link := srv.URL + "/admin/ui/?since=14d#token=" + testToken

	dom := string(browse(t, bin, link, "--dump-dom"))
	if !strings.Contains(dom, `data-charts="done"`) {
		t.Fatalf("the charts' script did not run to its end; DOM:\n%s", dom)
	}
	figures := figureTag.FindAllString(dom, -1)
	if len(figures) < 8 {
		t.Fatalf("%d charts on the page, want at least 8; DOM:\n%s", len(figures), dom)
	}
	for _, f := range figures {
		view, _ := attr(f, "data-view")
		metric, _ := attr(f, "data-metric")
		state, _ := attr(f, "data-state")
		points, _ := attr(f, "data-points")
		n, _ := strconv.Atoi(points)
		if _, required := attr(f, "data-required"); required && (state != "drawn" || n == 0) {
			t.Errorf("chart %s/%s: state %q with %d points, want drawn with data: %s", view, metric, state, n, f)
		}
		if state == "failed" {
			t.Errorf("chart %s/%s failed: %s", view, metric, f)
		}
	}
	if got := strings.Count(dom, `class="uplot`); got < 8 {
		t.Errorf("%d uPlot charts in the DOM, want at least 8", got)
	}

	shot := filepath.Join(t.TempDir(), "usage-page.png")
	browse(t, bin, link, "--screenshot="+shot)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	inked, blue, orange := pixels(img)
	total := img.Bounds().Dx() * img.Bounds().Dy()
	t.Logf("screenshot %dx%d: %d%% inked, %d pixels of the first series' colour, %d of the second's",
		img.Bounds().Dx(), img.Bounds().Dy(), inked*100/total, blue, orange)
	if inked < total/50 {
		t.Errorf("the screenshot is nearly blank: %d of %d pixels differ from the background", inked, total)
	}
	// Every chart draws its first series in blue and its second in orange:
	// lines, points and fills of eight charts cover thousands of pixels.
	if blue < 2000 || orange < 2000 {
		t.Errorf("the charts' series hardly show: %d blue and %d orange pixels", blue, orange)
	}
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "usage-page.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pixels counts the pixels that are not the page's background, and those
// close to the first two series' colours (#2563eb, #ea580c).
func pixels(img image.Image) (inked, blue, orange int) {
	near := func(r, g, b, R, G, B int) bool {
		return abs(r-R) < 24 && abs(g-G) < 24 && abs(b-B) < 24
	}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r16, g16, b16, _ := img.At(x, y).RGBA()
			r, g, b := int(r16>>8), int(g16>>8), int(b16>>8)
			if !near(r, g, b, 0xf8, 0xfa, 0xfc) && !near(r, g, b, 0xff, 0xff, 0xff) {
				inked++
			}
			switch {
			case near(r, g, b, 0x25, 0x63, 0xeb):
				blue++
			case near(r, g, b, 0xea, 0x58, 0x0c):
				orange++
			}
		}
	}
	return inked, blue, orange
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
