package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sluicegw/sluice/shared/admin"
)

// printResults prints what an apply did to each object, as kubectl apply
// does, and the route table version it stored (or, in a dry run, would).
func printResults(out io.Writer, resp admin.ApplyResponse) {
	counts := map[string]int{}
	for _, r := range resp.Results {
		counts[r.Result]++
		if resp.DryRun {
			fmt.Fprintf(out, "%s %s (dry run)\n", r.Object, r.Result)
		} else {
			fmt.Fprintf(out, "%s %s\n", r.Object, r.Result)
		}
	}
	var parts []string
	for _, r := range []string{admin.ResultCreated, admin.ResultConfigured, admin.ResultUnchanged} {
		if counts[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[r], r))
		}
	}
	tally := strings.Join(parts, ", ")
	switch {
	case resp.Unchanged && resp.DryRun:
		fmt.Fprintf(out, "dry run: nothing would change; route table version %d stays current\n", resp.Version)
	case resp.Unchanged:
		fmt.Fprintf(out, "nothing changed; route table version %d stays current\n", resp.Version)
	case resp.DryRun:
		fmt.Fprintf(out, "dry run: %s; would store route table version %d; nothing was stored\n", tally, resp.Version)
	default:
		fmt.Fprintf(out, "%s; route table version %d stored\n", tally, resp.Version)
	}
}
