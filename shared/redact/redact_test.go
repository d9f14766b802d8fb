package redact

import (
	"strings"
	"testing"
)

func TestRedactBuiltins(t *testing.T) {
	r, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in, want string
	}{
		{"openai key", "my key is sk-proj-abcdefghijklmnop1234 ok", "my key is [REDACTED:apiKey] ok"},
		{"sluice key", "use sk-sluice-k1a2b3-0123456789abcdef0123", "use [REDACTED:apiKey]"},
		{"anthropic key", "sk-ant-api03-AAAAAAAAAAAAAAAAAAAA_x", "[REDACTED:apiKey]"},
		{"aws access key id", "id AKIAIOSFODNN7EXAMPLE.", "id [REDACTED:apiKey]."},
		{"bearer token", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "Authorization: [REDACTED:bearerToken]"},
		{"email", "write to jane.doe+ai@example.co.uk today", "write to [REDACTED:email] today"},
		{"card number grouped", "card 4111 1111 1111 1111 exp 12/30", "card [REDACTED:cardNumber] exp 12/30"},
		{"card number plain", "5500005555555559", "[REDACTED:cardNumber]"},
		{"digits failing luhn kept", "order 1234567890123 shipped", "order 1234567890123 shipped"},
		{"nothing to hide", "What is the capital of France?", "What is the capital of France?"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Redact(c.in); got != c.want {
				t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestRedactCustomAndOff(t *testing.T) {
	r, err := New([]string{Email}, []Pattern{{Name: "employeeId", Expr: `EMP-\d{6}`}})
	if err != nil {
		t.Fatal(err)
	}
	got := r.Redact("EMP-123456 is jane@example.com", "literal-secret-value")
	if want := "[REDACTED:employeeId] is jane@example.com"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := r.Redact("x literal-secret-value y", "literal-secret-value", "short"); got != "x [REDACTED:secret] y" {
		t.Errorf("literal secret: got %q", got)
	}
}

func TestNewRefusesBadPatterns(t *testing.T) {
	for _, expr := range []string{`(unclosed`, `a*`, `(?=lookahead)`} {
		if _, err := New(nil, []Pattern{{Name: "p", Expr: expr}}); err == nil {
			t.Errorf("New accepted %q", expr)
		}
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		in       string
		n, total int
		want     string
	}{
		{"hello", 10, 0, "hello"},
		{"hello", 0, 0, "hello"},
		{"hello world", 5, 0, "hello…[cut, 11 bytes in all]"},
		{"héllo", 2, 0, "h…[cut, 6 bytes in all]"},
		{"hello", 10, 50, "hello…[cut, 50 bytes in all]"},
		{strings.Repeat("a", 20), 10, 30, strings.Repeat("a", 10) + "…[cut, 30 bytes in all]"},
	}
	for _, c := range cases {
		if got := Truncate(c.in, c.n, c.total); got != c.want {
			t.Errorf("Truncate(%q, %d, %d) = %q, want %q", c.in, c.n, c.total, got, c.want)
		}
	}
}
