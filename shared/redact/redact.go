// Package redact hides secrets and personal data in text before it is
// logged: a Redactor replaces every match of its patterns, built-in ones
// for API keys, bearer tokens, email addresses and card numbers, and those
// an operator configures, with a fixed mark.
package redact

import (
	"fmt"
	"regexp"
	"strings"
)

// Mark replaces what a pattern matched; its name says which pattern did,
// so a reader of the log knows what kind of value was there.
const Mark = "[REDACTED:%s]"

// Builtin names the built-in patterns, each on unless turned off.
const (
	APIKey      = "apiKey"
	BearerToken = "bearerToken"
	Email       = "email"
	CardNumber  = "cardNumber"
)

// builtins are the built-in patterns. API keys: OpenAI, Anthropic and
// Sluice keys (sk-...), AWS access key ids, Google API keys; bearer
// tokens after the word Bearer; card numbers of 13 to 19 digits, possibly
// grouped by spaces or dashes, that pass the Luhn check.
var builtins = [...]struct{ name, expr string }{
	{APIKey, `\b(?:sk-[A-Za-z0-9_\-]{16,}|(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[0-9A-Za-z_\-]{35})`},
	{BearerToken, `(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*`},
	{Email, `\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b`},
	{CardNumber, `\b\d(?:[ \-]?\d){12,18}\b`},
}

// Builtins lists the names of the built-in patterns.
func Builtins() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}

// IsBuiltin reports whether name is a built-in pattern's.
func IsBuiltin(name string) bool {
	for _, b := range builtins {
		if b.name == name {
			return true
		}
	}
	return false
}

// Pattern is an operator's pattern: an RE2 expression and the name its
// mark shows.
type Pattern struct {
	Name string
	Expr string
}

// Redactor replaces the matches of its patterns and the literal secrets
// it is given. It is safe for concurrent use.
type Redactor struct {
	rules []rule
}

type rule struct {
	re   *regexp.Regexp
	mark string
	luhn bool // a match is a card number only when its digits pass the Luhn check
}

// New compiles the built-in patterns except those named in off, then
// custom. An expression that does not compile is an error naming it.
func New(off []string, custom []Pattern) (*Redactor, error) {
	r := &Redactor{}
	for _, b := range builtins {
		if contains(off, b.name) {
			continue
		}
		r.rules = append(r.rules, rule{re: regexp.MustCompile(b.expr), mark: fmt.Sprintf(Mark, b.name), luhn: b.name == CardNumber})
	}
	for _, p := range custom {
		re, err := Compile(p.Expr)
		if err != nil {
			return nil, fmt.Errorf("redact: pattern %s: %w", p.Name, err)
		}
		r.rules = append(r.rules, rule{re: re, mark: fmt.Sprintf(Mark, p.Name)})
	}
	return r, nil
}

// Compile checks and compiles an operator's expression: RE2 syntax, and
// it must not match the empty string (it would mark every gap in a text).
func Compile(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("not a valid RE2 expression: %w", err)
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("expression %q matches the empty string", expr)
	}
	return re, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Redact returns s with every literal secret, then every pattern's
// matches, replaced by a mark. Secrets shorter than 8 bytes are ignored:
// hiding every "a" in a text hides nothing.
func (r *Redactor) Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 8 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED:secret]")
		}
	}
	if r == nil {
		return s
	}
	for _, ru := range r.rules {
		if !ru.luhn {
			s = ru.re.ReplaceAllLiteralString(s, ru.mark)
			continue
		}
		s = ru.re.ReplaceAllStringFunc(s, func(m string) string {
			if luhn(m) {
				return ru.mark
			}
			return m
		})
	}
	return s
}

// luhn reports whether the digits of s pass the Luhn checksum that every
// payment card number carries.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// Truncate cuts s to at most n bytes, at a character boundary, and notes
// the length of the whole text: total, when s is only the start of a text
// that long, else len(s). It keeps s whole when it fits and is the whole
// text, or when n <= 0.
func Truncate(s string, n, total int) string {
	total = max(total, len(s))
	if n <= 0 || len(s) <= n && total == len(s) {
		return s
	}
	cut := min(n, len(s))
	for cut > 0 && cut < len(s) && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…[cut, %d bytes in all]", total)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
