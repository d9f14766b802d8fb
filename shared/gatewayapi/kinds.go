package gatewayapi

import "sort"

// Kinds lists the kinds Sluice reads, sorted: what `sluice get` and
// `sluice delete` accept.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
