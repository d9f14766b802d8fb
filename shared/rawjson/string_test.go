package rawjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "line\nbreak\r\ttab\x01\b\f\x7f", "<a href='x'>&</a>",
		"ünïcødé 漢字 🙂", "bad \xff utf8", "sep\u2028\u2029"} {
		for _, html := range []bool{true, false} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			enc.Encode(s)
			if got := string(AppendString(nil, s, html)); got != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
				t.Errorf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want.Bytes())
			}
		}
	}
}

// FuzzAppendString checks AppendString against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "line\nbreak\r\ttab\x01\b\f\x7f", "<a>&amp;", "bad \xff utf8", "sep\u2028\u2029 🙂"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s, html); !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want.Bytes())
		}
	})
}

// FuzzAppendLiteral checks AppendLiteral against its definition:
// json.Unmarshal of the literal into a string, then AppendString.
func FuzzAppendLiteral(f *testing.F) {
	for _, s := range []string{`""`, `"plain"`, `"q\"uote\\back\/"`, `"line\nbreak\r\ttab\b\f"`, `"<a>&amp;"`,
		`"\u00e9\u6f22 🙂 \ud83d\ude42"`, `"lone \ud83d here"`, `"low \ude42 first"`, `"\ud83d\u0041"`, "\"bad \xff utf8\"",
		`"sep\u2028 ` + "\u2029" + `"`, `"\u0000\u001f"`} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, lit []byte, html bool) {
		var s string
		if len(lit) < 2 || lit[0] != '"' || !bytes.Equal(bytes.TrimSpace(lit), lit) || json.Unmarshal(lit, &s) != nil {
			return
		}
		want := AppendString(nil, s, html)
		if got := AppendLiteral([]byte("x"), lit, html); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("AppendLiteral(%s, html=%v) = %s, want %s", lit, html, got[1:], want)
		}
	})
}
