package rawjson

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzValidJSON(f *testing.F) {
	for _, s := range append(bodies,
		``, ` `, `1`, `-0.5e+3`, `01`, `1.`, `.5`, `-`, `1e`, `"\u12"`, `"\u12G4"`, `"a\qb"`, "\"\x01\"", `"\/"`,
		`[1,]`, `[,1]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `[[[]]]`, `tru`, `nulll`, `[true,false,null]`, " {} \n",
		strings.Repeat("[", maxDepth+5)+strings.Repeat("]", maxDepth+5),
	) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !validJSON(body) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkJSONValid(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !json.Valid(body) {
			b.Fatal("invalid")
		}
	}
}
