package usagepage

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicegw/sluice/shared/browsertest"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the browser test's screenshot to docs/usage-page.png")

// TestPageInBrowser signs in to the page in headless Chromium by the
// fragment link `make local` prints, and checks what the browser drew:
// every chart the page requires holds data points (the DOM after the
// scripts ran), and the screenshot is not blank and shows the series'
// colours.
func TestPageInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	srv := newTestPage(t, &fixture{})
	link := srv.URL + "/admin/ui/?since=14d#token=" + testToken

	dom := browser.DOM(t, link)
	browsertest.CheckCharts(t, dom, 8)

	b := browser.Screenshot(t, link)
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

// TestSavingsChartInBrowser: the cache savings chart stays hidden while the
// ledger's rows carry no savings, and is drawn from them once they do
// (whatever saved…Tokens counters they carry).
func TestSavingsChartInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	p := mustPage(t)
	for _, withSavings := range []bool{false, true} {
		raw, err := json.Marshal(fixtureReport())
		if err != nil {
			t.Fatal(err)
		}
		if withSavings {
			var rep map[string]any
			json.Unmarshal(raw, &rep)
			for _, m := range rep["models"].([]any) {
				for i, d := range m.(map[string]any)["days"].([]any) {
					d.(map[string]any)["savedTokens"] = 1000 * (i + 1)
				}
			}
			raw, _ = json.Marshal(rep)
		}
		html := reportPage(reportView{Path: "/admin/ui/", Since: "14d", Periods: periods, Report: fixtureReport(), Data: jsonForScript(raw)})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/admin/ui/" {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, html)
				return
			}
			p.ServeHTTP(w, r) // the assets
		}))
		dom := browser.DOM(t, srv.URL+"/admin/ui/")
		srv.Close()
		browsertest.CheckCharts(t, dom, 8)
		var savings string
		for _, f := range browsertest.Tags(dom, "figure", "chart") {
			if m, _ := browsertest.Attr(f, "data-metric"); m == "savings" {
				savings = f
			}
		}
		state, _ := browsertest.Attr(savings, "data-state")
		_, hidden := browsertest.Attr(savings, "hidden")
		if withSavings && (state != "drawn" || hidden) || !withSavings && (state != "empty" || !hidden) {
			t.Errorf("with savings %v: the savings chart is %s", withSavings, savings)
		}
	}
}
