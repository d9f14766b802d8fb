package browsertest

import (
	"strconv"
	"strings"
	"testing"
)

// CheckCharts fails t unless dom, a page as the browser left it after its
// scripts ran, has at least min charts and every chart it requires was
// drawn with data points. A chart is a <figure class="chart"> that the
// page's script marks: data-state (drawn, empty or failed), data-points
// (its non-zero points); data-required on the ones that must be drawn.
// The usage page follows this contract (shared/usagepage/assets/charts.js).
func CheckCharts(t testing.TB, dom string, min int) {
	t.Helper()
	if !strings.Contains(dom, `data-charts="done"`) {
		t.Fatalf("the charts' script did not run to its end; DOM:\n%s", dom)
	}
	figures := Tags(dom, "figure", "chart")
	if len(figures) < min {
		t.Fatalf("%d charts on the page, want at least %d; DOM:\n%s", len(figures), min, dom)
	}
	drawn := 0
	for _, f := range figures {
		view, _ := Attr(f, "data-view")
		metric, _ := Attr(f, "data-metric")
		state, _ := Attr(f, "data-state")
		points, _ := Attr(f, "data-points")
		n, _ := strconv.Atoi(points)
		if _, required := Attr(f, "data-required"); required && (state != "drawn" || n == 0) {
			t.Errorf("chart %s/%s: state %q with %d points, want drawn with data: %s", view, metric, state, n, f)
		}
		if state == "failed" {
			t.Errorf("chart %s/%s failed: %s", view, metric, f)
		}
		if state == "drawn" {
			drawn++
		}
	}
	if got := strings.Count(dom, `class="uplot`); got != drawn {
		t.Errorf("%d uPlot charts in the DOM, want the %d drawn", got, drawn)
	}
}
