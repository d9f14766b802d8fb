package rawjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// bodies are request bodies of every shape the scanners must read as
// encoding/json does: seeds for the fuzz tests.
var bodies = []string{
	`{"model":"gpt-4o","stream":true,"messages":[]}`,
	`{"messages":[{"role":"user","content":"hi \"model\": x"}],"model":"m"}`,
	` { "model" : "m" , "stream" : false } `,
	`{"model":"a","model":"b","stream":true,"stream":null}`,
	`{"model":"a","model":null}`,
	`{"Model":"a"}`, `{"MODEL":"a","model":"b"}`, `{"\u006dodel":"x"}`, `{"ſtream":true,"model":"m"}`,
	`{"model":"caf\u00e9"}`, `{"model":"caf` + "\xff" + `"}`, `{"model":"é"}`,
	`{"model":1}`, `{"model":"m","stream":"yes"}`, `{"model":"m","stream":1}`,
	`{"model":"m",`, `[]`, `null`, `{"model":"m"} x`, `{}`, `{"x":{"model":"y"},"model":"m"}`,
	`{"a":[1,2,{"b":"]}"}],"model":"m","c":-1.5e3,"d":null,"e":true}`, `{"model":""}`,
}

func benchBody() []byte {
	return []byte(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` + strings.Repeat("Tell me about gateways. ", 40) + `"}],"temperature":0.2}`)
}

// FuzzEachValidElement checks EachValidElement against json.Unmarshal into
// []json.RawMessage, for any valid JSON array.
func FuzzEachValidElement(f *testing.F) {
	for _, s := range []string{`[]`, ` [ ] `, `[1]`, `[ {"a":[1,"]"]} , null,"x\"]", -1.5e3 ,true]`, `[[],[[]],{}]`, `{}`, `"[1]"`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		var want []json.RawMessage
		isArray := json.Unmarshal(body, &want) == nil && want != nil
		var got []string
		ok := EachValidElement(body, func(v []byte) bool {
			got = append(got, string(v))
			return true
		})
		if ok != isArray {
			t.Fatalf("EachValidElement(%q) = %v, want %v", body, ok, isArray)
		}
		if len(got) != len(want) {
			t.Fatalf("EachValidElement(%q) gave %q, want %q", body, got, want)
		}
		for i := range got {
			if got[i] != string(want[i]) {
				t.Fatalf("EachValidElement(%q) gave %q, want %q", body, got, want)
			}
		}
	})
}

func TestEachValidElement(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want []string
	}{
		{`[]`, true, nil},
		{` [ ] `, true, nil},
		{`[1,"a,]",{"b":[2,3]}, [ ] ,null]`, true, []string{"1", `"a,]"`, `{"b":[2,3]}`, "[ ]", "null"}},
		{`{"a":1}`, false, nil},
		{`"[1]"`, false, nil},
	}
	for _, tt := range tests {
		var got []string
		ok := EachValidElement([]byte(tt.in), func(v []byte) bool {
			got = append(got, string(v))
			return true
		})
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("EachValidElement(%s) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	n := 0
	EachValidElement([]byte(`[1,2,3]`), func([]byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("visited %d elements after stopping at the second", n)
	}
}

// FuzzMemberSpan checks MemberSpan's scan against the decoder it falls
// back to, for any body.
func FuzzMemberSpan(f *testing.F) {
	for _, s := range []string{`{"model":"gpt","stream":true}`, ` { "a" : 1 , "model" : "x" } `, `{"model":1,"model":2}`,
		`{"mod\u0065l":"a","model":"b"}`, `{"Model":"a"}`, `{"model":"a"`, `{"x":{"model":"y"}}`, `[]`, `{}`, `{"model":"a"} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, e, ok := MemberSpan(body, "model")
		ws, we, wok := memberSpanDecoding(body, "model")
		if s != ws || e != we || ok != wok {
			t.Fatalf("MemberSpan(%q) = %d, %d, %v; the decoder finds %d, %d, %v", body, s, e, ok, ws, we, wok)
		}
	})
}
