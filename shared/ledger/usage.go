package ledger

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Add sums o into r.
func (r *UsageRow) Add(o UsageRow) {
	r.Requests += o.Requests
	r.InputTokens += o.InputTokens
	r.OutputTokens += o.OutputTokens
	r.CachedTokens += o.CachedTokens
	r.ReasoningTokens += o.ReasoningTokens
	r.CostMicros += o.CostMicros
	r.Estimated += o.Estimated
	r.CacheHits += o.CacheHits
	r.SavedTokens += o.SavedTokens
	r.SavedCostMicros += o.SavedCostMicros
}

// Summarize groups rows by "model", "day" or "day,model" (every row as
// stored), sorted, and returns them with their total.
func Summarize(rows []UsageRow, by string) ([]UsageRow, UsageRow, error) {
	var total UsageRow
	var byDay, byModel bool
	switch by {
	case "model", "":
		byModel = true
	case "day":
		byDay = true
	case "day,model", "model,day":
		byDay, byModel = true, true
	default:
		return nil, total, fmt.Errorf("by must be model, day or day,model; got %q", by)
	}
	groups := map[string]*UsageRow{}
	for _, r := range rows {
		total.Add(r)
		var g UsageRow
		if byDay {
			g.Day = r.Day
		}
		if byModel {
			g.Model = r.Model
		}
		k := g.Day + "\x00" + g.Model
		if groups[k] == nil {
			groups[k] = &g
		}
		groups[k].Add(r)
	}
	out := make([]UsageRow, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Model < out[j].Model
	})
	return out, total, nil
}

// ParseSince reads a period back from now: "7d", "12h", "30m", or a date
// "2026-11-01". It returns the first UTC day it covers.
func ParseSince(s string, now time.Time) (string, error) {
	if s == "" {
		s = "7d"
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return Day(t), nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return "", fmt.Errorf("since: want a number of days like 7d, got %q", s)
		}
		return Day(now.AddDate(0, 0, -(n - 1))), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return "", fmt.Errorf("since: want 7d, 12h or a date like 2026-11-01, got %q", s)
	}
	return Day(now.Add(-d)), nil
}
