package json_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/json"
)

// request is a small wire shape: the behaviour below is what the
// translators' typed paths, error messages and reflection-free readers
// (rawjson) assume of the codec.
type request struct {
	Model    string          `json:"model"`
	Stream   bool            `json:"stream"`
	MaxToken *int64          `json:"max_tokens,omitempty"`
	Extra    json.RawMessage `json:"extra,omitempty"`
	Inner    *struct {
		Count int64 `json:"count"`
	} `json:"inner,omitempty"`
}

func TestUnmarshal(t *testing.T) {
	n := int64(7)
	for _, tc := range []struct {
		name string
		in   string
		want request
	}{
		{"members by tag", `{"model":"m","stream":true,"max_tokens":7}`, request{Model: "m", Stream: true, MaxToken: &n}},
		// rawjson.ReadFields declines a key in another case because of
		// this: a reader that skipped "MODEL" would disagree with the typed
		// path.
		{"names ignore case", `{"MODEL":"m","Stream":true}`, request{Model: "m", Stream: true}},
		{"last duplicate wins", `{"model":"a","model":"b"}`, request{Model: "b"}},
		{"null leaves the field", `{"model":null,"stream":null,"max_tokens":null}`, request{}},
		{"unknown members ignored", `{"model":"m","other":[1,{"a":2}]}`, request{Model: "m"}},
		{"raw value verbatim", `{"extra": [1, 2] }`, request{Extra: json.RawMessage(`[1, 2]`)}},
		{"escapes decoded", `{"model":"a\u00e9\n\"b"}`, request{Model: "aé\n\"b"}},
		{"invalid UTF-8 replaced", "{\"model\":\"a\xffb\"}", request{Model: "a\uFFFDb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got request
			if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		typeErr bool   // an *UnmarshalTypeError is wanted
		field   string // and its Field
	}{
		{name: "not JSON", in: `{"model":`},
		{name: "trailing data", in: `{"model":"m"} x`},
		{name: "wrong type", in: `{"stream":"yes"}`, typeErr: true, field: "stream"},
		{name: "nested wrong type", in: `{"inner":{"count":"1"}}`, typeErr: true, field: "inner.count"},
		{name: "float into integer", in: `{"max_tokens":1.5}`, typeErr: true, field: "max_tokens"},
		// api.PeekBody tells "not an object" by the empty Field.
		{name: "not an object", in: `[1]`, typeErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got request
			err := json.Unmarshal([]byte(tc.in), &got)
			if err == nil {
				t.Fatalf("decoded %+v", got)
			}
			var te *json.UnmarshalTypeError
			if isType := errors.As(err, &te); isType != tc.typeErr {
				t.Fatalf("%v: type error %v, want %v", err, isType, tc.typeErr)
			}
			if tc.typeErr && te.Field != tc.field {
				t.Fatalf("type error field %q, want %q", te.Field, tc.field)
			}
		})
	}
}

// TestUnmarshalDeep: a client controls the nesting of what the gateway
// decodes, so deep input must fail as an error, not exhaust the stack.
func TestUnmarshalDeep(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, tc := range []struct {
		name string
		in   string
		v    any
	}{
		{"into any", deep, new(any)},
		{"into a raw member", `{"extra":` + deep + `}`, new(request)},
		{"in a skipped member", `{"other":` + deep + `}`, new(request)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := json.Unmarshal([]byte(tc.in), tc.v); err == nil {
				t.Fatal("decoded")
			}
		})
	}
}

// TestDecoderStrict covers api.DecodeStrict: the translators turn the
// unknown-field error into a 400 naming the field by its text.
func TestDecoderStrict(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"model":"m","seed":1}`))
	dec.DisallowUnknownFields()
	var r request
	err := dec.Decode(&r)
	if err == nil || err.Error() != `json: unknown field "seed"` {
		t.Fatalf("unknown field: %v", err)
	}

	dec = json.NewDecoder(strings.NewReader(`{"model":"m"} {}`))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Model != "m" || !dec.More() {
		t.Fatalf("first value: %v, %+v, more %v", err, r, dec.More())
	}
}

func TestMarshal(t *testing.T) {
	n := int64(3)
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"struct in field order", request{Model: "m", MaxToken: &n}, `{"model":"m","stream":false,"max_tokens":3}`},
		{"HTML escaped", map[string]string{"t": "<a>&"}, `{"t":"\u003ca\u003e\u0026"}`},
		{"map keys sorted", map[string]int{"b": 2, "a": 1, "c": 3}, `{"a":1,"b":2,"c":3}`},
		{"raw value compacted", request{Model: "m", Extra: json.RawMessage("[1, \n 2]")}, `{"model":"m","stream":false,"extra":[1,2]}`},
		{"invalid UTF-8 replaced", "a\xffb", `"a\ufffdb"`},
		{"line separators escaped", "a\u2028b", `"a\u2028b"`},
		{"nil slice is null", []string(nil), `null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.in)
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
	if _, err := json.Marshal(request{Extra: json.RawMessage(`{bad`)}); err == nil {
		t.Fatal("an invalid raw value encoded")
	}
}

// TestEncoderNoEscape covers the translators' marshal without HTML
// escaping: text reaches the other side as the client wrote it.
func TestEncoderNoEscape(t *testing.T) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"t": "<a>&"}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "{\"t\":\"<a>&\"}\n" {
		t.Fatalf("got %q", got)
	}
}

func TestMarshalIndent(t *testing.T) {
	got, err := json.MarshalIndent(map[string][]int{"a": {1}}, "", "  ")
	if want := "{\n  \"a\": [\n    1\n  ]\n}"; err != nil || string(got) != want {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestValidCompactIndent(t *testing.T) {
	for _, tc := range []struct {
		in      string
		valid   bool
		compact string
	}{
		{`{ "a" : [ 1 , 2 ] }`, true, `{"a":[1,2]}`},
		{` "s" `, true, `"s"`},
		{`{"a":1,}`, false, ""},
		{`{"a":1} {}`, false, ""},
		{`01`, false, ""},
		{"\"\xff\"", true, "\"\xff\""},
	} {
		if got := json.Valid([]byte(tc.in)); got != tc.valid {
			t.Errorf("Valid(%q) = %v", tc.in, got)
		}
		var b bytes.Buffer
		err := json.Compact(&b, []byte(tc.in))
		if (err == nil) != tc.valid || b.String() != tc.compact {
			t.Errorf("Compact(%q) = %q, %v", tc.in, b.String(), err)
		}
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(`{"a":[1]}`), "", "\t"); err != nil || b.String() != "{\n\t\"a\": [\n\t\t1\n\t]\n}" {
		t.Fatalf("Indent: %q, %v", b.String(), err)
	}
}
