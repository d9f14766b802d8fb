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
pkg: github.com/sluicegw/sluice/shared/vectorindex
BenchmarkLSHNearest100k-2   	    2000	    555743 ns/op	         0.9385 hit-ratio	         0.374 p50-ms	         5.278 p99-ms	   99040 B/op	     457 allocs/op
`
	benches := parseGoBench(out)
	if len(benches) != 5 {
		t.Fatalf("parsed %+v", benches)
	}
	report := renderGoBench(benches, "`make bench`")
	for _, want := range []string{
		"Route matching over 1,000 routes (`route.Table.Match`, `BenchmarkMatch1000-2`): **65.87 ns/op, 0 allocs/op**",
		"| shared/route | BenchmarkMatch1000-2 | 65.87 | 0 | 0 |  |",
		"| shared/sse | BenchmarkReader-2 | 9,876 | 4,096 | 12 |  |",
		"| shared/sse | BenchmarkNoMem-2 | 1.5 | — | — |  |",
		"| shared/sse | BenchmarkOwn-2 | 900 | — | — | 7 a-ns/op, 40 b-ns/op |",
		"Semantic cache index lookup, LSH at 100,000 entries in one scope on redis-server (`BenchmarkLSHNearest100k-2`): **p50 0.374 ms, p99 5.278 ms** (target p50 under 2 ms: PASS)",
		"From `make bench`, one run each",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
