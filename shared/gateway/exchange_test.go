package gateway

import (
	"io"
	"strings"
	"testing"
)

func TestReadUpTo(t *testing.T) {
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name string
		body string
		hint int64
		max  int64
	}{
		{"exact hint", "hello", 5, 100},
		{"no hint", long, -1, 1 << 20},
		{"hint too small", long, 10, 1 << 20},
		{"hint too large", "hi", 1000, 1 << 20},
		{"cut at max", long, -1, 100},
		{"cut at max with hint", long, 3000, 2999},
		{"empty", "", 0, 10},
		{"max zero", "abc", 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// iotest-like: one byte per Read, then the same whole.
			for _, r := range []io.Reader{strings.NewReader(tt.body), io.LimitReader(&oneByte{tt.body}, 1<<30)} {
				got, err := readUpTo(r, tt.hint, tt.max)
				want, _ := io.ReadAll(io.LimitReader(strings.NewReader(tt.body), tt.max))
				if err != nil || string(got) != string(want) {
					t.Fatalf("readUpTo = %q, %v; want %q", got, err, want)
				}
			}
		})
	}
}

type oneByte struct{ s string }

func (o *oneByte) Read(p []byte) (int, error) {
	if o.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.s[0]
	o.s = o.s[1:]
	return 1, nil
}
