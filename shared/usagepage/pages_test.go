package usagepage

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicegw/sluice/shared/admin"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the page functions")

// TestPagesGolden holds each page to the HTML in testdata, byte for byte:
// the ids, classes, data attributes and form fields there are what
// charts.js, login.js, page.css and the browser tests rely on.
func TestPagesGolden(t *testing.T) {
	reportOf := func(title, path, since string, rep admin.UsageReport) string {
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		return reportPage(reportView{Title: title, Path: path, Since: since, Periods: periods, Report: rep, Data: jsonForScript(data)})
	}
	tests := []struct {
		golden, page string
	}{
		{"login", loginPage(loginView{Title: "test", Path: "/admin/ui/", Hint: "Run make local: it prints the token.", Since: "14d"})},
		{"login_wrong", loginPage(loginView{Path: "/", Wrong: true})},
		{"report", reportOf("test", "/admin/ui/", "14d", fixtureReport())},
		{"report_empty", reportOf("", "/", "7d", admin.UsageReport{From: "2026-12-01", To: "2026-12-06", Days: []string{"2026-12-01"}})},
		{"error", errorPage(errorView{Title: "test", Path: "/admin/ui/", Error: "since: want 7d"})},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			file := filepath.Join("testdata", tt.golden+".golden")
			if *update {
				if err := os.WriteFile(file, []byte(tt.page), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if tt.page != string(want) {
				t.Errorf("%s differs from %s:\n%s", tt.golden, file, tt.page)
			}
		})
	}
}

// BenchmarkReportPage renders the two weeks' report of the fixture.
func BenchmarkReportPage(b *testing.B) {
	rep := fixtureReport()
	data, err := json.Marshal(rep)
	if err != nil {
		b.Fatal(err)
	}
	v := reportView{Title: "test", Path: "/admin/ui/", Since: "14d", Periods: periods, Report: rep, Data: jsonForScript(data)}
	b.ReportAllocs()
	for b.Loop() {
		reportPage(v)
	}
}
