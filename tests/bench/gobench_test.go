package main

import (
	"strings"
	"testing"
)

func TestGoBenchReport(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/sluicegw/sluice/shared/route
cpu: Intel(R) Xeon(R) Processor
BenchmarkMatch1000-2   	17585432	        65.87 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	github.com/sluicegw/sluice/shared/route	1.650s
pkg: github.com/sluicegw/sluice/shared/sse
BenchmarkReader-2   	  120000	      9876 ns/op	    4096 B/op	      12 allocs/op
BenchmarkNoMem-2   	  120000	      1.5 ns/op
BenchmarkOwn-2   	  1000	      900 ns/op	  40 b-ns/op	  7 a-ns/op
`
	benches := parseGoBench(out)
	if len(benches) != 4 {
		t.Fatalf("parsed %+v", benches)
	}
	report := renderGoBench(benches, "`make bench`")
	for _, want := range []string{
		"Route matching over 1,000 routes (`route.Table.Match`, `BenchmarkMatch1000-2`): **65.87 ns/op, 0 allocs/op**",
		"| shared/route | BenchmarkMatch1000-2 | 65.87 | 0 | 0 |  |",
		"| shared/sse | BenchmarkReader-2 | 9,876 | 4,096 | 12 |  |",
		"| shared/sse | BenchmarkNoMem-2 | 1.5 | — | — |  |",
		"| shared/sse | BenchmarkOwn-2 | 900 | — | — | 7 a-ns/op, 40 b-ns/op |",
		"From `make bench`, one run each",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
