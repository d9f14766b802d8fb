package ledger

// RoutesSubject and ErrorsSubject hold the counters the usage page reads
// beside each key's, consumer's and "all": in their rows Model names the
// route (namespace/name) or the error kind (its OpenAI code, such as
// upstream_error). Every settled request counts under its route, failed
// ones included; a failed one also counts under its error kind.
const (
	RoutesSubject = "routes"
	ErrorsSubject = "errors"
)

// InsightRows are the rows a settlement adds under RoutesSubject and
// ErrorsSubject; none when it names no route and no error.
func InsightRows(s Settlement) []BatchRow {
	if s.Route == "" && s.ErrorKind == "" {
		return nil
	}
	return appendInsightRows(nil, s, Day(s.At))
}

// appendInsightRows appends InsightRows(s) to dst, for the day s settled
// on: the batcher, on every request's path, passes a buffer on its stack
// and the day it has formatted already.
func appendInsightRows(dst []BatchRow, s Settlement, day string) []BatchRow {
	if s.Route != "" {
		row := UsageRow{Day: day, Model: s.Route, Requests: 1}
		if !s.NoUsage {
			row.InputTokens, row.OutputTokens = s.Usage.InputTokens, s.Usage.OutputTokens
			row.CachedTokens, row.ReasoningTokens = s.Usage.CachedTokens, s.Usage.ReasoningTokens
			row.CostMicros = s.Cost
		}
		dst = append(dst, BatchRow{Subject: RoutesSubject, Usage: row})
	}
	if s.ErrorKind != "" {
		dst = append(dst, BatchRow{Subject: ErrorsSubject, Usage: UsageRow{Day: day, Model: s.ErrorKind, Requests: 1}})
	}
	return dst
}
