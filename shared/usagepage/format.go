package usagepage

import (
	"fmt"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/ledger"
)

// tokens is a row's input and output tokens together.
func tokens(r ledger.UsageRow) int64 {
	return r.InputTokens + r.OutputTokens
}

// count writes n short: 950, 12.3k, 4.56M.
func count(n int64) string {
	f := float64(n)
	switch {
	case n < 1000 && n > -1000:
		return fmt.Sprint(n)
	case n < 1_000_000 && n > -1_000_000:
		return trim(fmt.Sprintf("%.1f", f/1e3)) + "k"
	case n < 1_000_000_000 && n > -1_000_000_000:
		return trim(fmt.Sprintf("%.2f", f/1e6)) + "M"
	}
	return trim(fmt.Sprintf("%.2f", f/1e9)) + "G"
}

func trim(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// usd writes micro-dollars as dollars, with cents below $1000.
func usd(m ledger.Micros) string {
	d := float64(m) / 1e6
	switch {
	case d >= 1000:
		return fmt.Sprintf("$%.0f", d)
	case d > 0 && d < 0.01:
		return fmt.Sprintf("$%.4f", d)
	}
	return fmt.Sprintf("$%.2f", d)
}

// share is part as a percentage of whole, 0 to 100, for a bar's width.
func share(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) * 100 / float64(whole)
}

// rate is part as a percentage of whole, written for people.
func rate(part, whole int64) string {
	if whole <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", float64(part)*100/float64(whole))
}

// label names a series: a key's name beside its id.
func label(s admin.UsageSeries) string {
	if s.Label != "" && s.Label != s.Name {
		return s.Name + " (" + s.Label + ")"
	}
	return s.Name
}

// name names a series by its name alone.
func name(s admin.UsageSeries) string {
	return s.Name
}
