package rawjson

import "testing"

func TestReadFields(t *testing.T) {
	fields := []Field{{Key: "type", Kind: String}, {Key: "index", Kind: Uint}, {Key: "stop", Kind: NullOrString},
		{Key: "delta", Kind: Object}, {Key: "content", Kind: EmptyArray}, {Key: "extra", Kind: Any},
		{Key: "usage", Kind: NullOrObject}, {Key: "choices", Kind: NullOrArray}}
	checkFields(t, fields, []fieldsCase{
		{`{"type":"a","index":12,"stop":null,"delta":{"x":[1]},"content":[ ],"extra":[1,{}]}`, true, []string{`"a"`, "12", "null", `{"x":[1]}`, "[ ]", "[1,{}]"}},
		{`{"usage":null,"choices":null}`, true, []string{"", "", "", "", "", "", "null", "null"}},
		{`{"usage":{},"choices":[{}]}`, true, []string{"", "", "", "", "", "", "{}", "[{}]"}},
		{` { "index" : 0 } `, true, []string{"", "0", "", "", "", ""}},
		{`{}`, true, []string{"", "", "", "", "", ""}},
		{`{"type":"a","type":"b"}`, false, nil}, // repeated
		{`{"Type":"a"}`, false, nil},            // another case
		{`{"typ\u0065":"a"}`, false, nil},       // escaped key
		{`{"other":1}`, false, nil},             // unknown
		{`{"type":1}`, false, nil},
		{`{"index":-1}`, false, nil},
		{`{"index":01}`, false, nil},
		{`{"index":1.5}`, false, nil},
		{`{"index":1234567890123456789}`, false, nil}, // may not fit an int64
		{`{"stop":1}`, false, nil},
		{`{"delta":[]}`, false, nil},
		{`{"content":[1]}`, false, nil},
		{`{"usage":[]}`, false, nil},
		{`{"usage":0}`, false, nil},
		{`{"choices":{}}`, false, nil},
		{`{"choices":""}`, false, nil},
		{`{"type":"a"`, false, nil}, // not JSON
		{`[]`, false, nil},
	})
}

func TestReadFieldsKinds(t *testing.T) {
	fields := []Field{{Key: "type", Kind: String}, {Key: "index", Kind: Uint}, {Key: "stop", Kind: NullOrString},
		{Key: "delta", Kind: Object}, {Key: "content", Kind: EmptyArray}, {Key: "extra", Kind: Any},
		{Key: "list", Kind: Array}, {Key: "flag", Kind: Bool}, {Key: "num", Kind: Number}}
	checkFields(t, fields, []fieldsCase{
		{`{"type":"a","index":12,"stop":null,"delta":{"x":[1]},"content":[ ],"extra":[1,{}],"list":[1,"a"],"flag":false,"num":-0.5e-3}`, true,
			[]string{`"a"`, "12", "null", `{"x":[1]}`, "[ ]", "[1,{}]", `[1,"a"]`, "false", "-0.5e-3"}},
		{` { "index" : 0 } `, true, []string{"", "0", "", "", "", "", "", "", ""}},
		{`{"flag":true,"num":7}`, true, []string{"", "", "", "", "", "", "", "true", "7"}},
		{`{}`, true, []string{"", "", "", "", "", "", "", "", ""}},
		{`{"type":"a","type":"b"}`, false, nil}, // repeated
		{`{"Type":"a"}`, false, nil},            // another case
		{`{"typ\u0065":"a"}`, false, nil},       // escaped key
		{`{"other":1}`, false, nil},             // unknown
		{`{"type":1}`, false, nil},
		{`{"index":-1}`, false, nil},
		{`{"index":01}`, false, nil},
		{`{"index":1.5}`, false, nil},
		{`{"index":1234567890123456789}`, false, nil}, // may not fit an int64
		{`{"stop":1}`, false, nil},
		{`{"delta":[]}`, false, nil},
		{`{"content":[1]}`, false, nil},
		{`{"list":{}}`, false, nil},
		{`{"list":null}`, false, nil},
		{`{"flag":null}`, false, nil},
		{`{"flag":1}`, false, nil},
		{`{"num":"1"}`, false, nil},
		{`{"num":null}`, false, nil},
		{`{"type":"a"`, false, nil}, // not JSON
		{`[]`, false, nil},
	})
}

// fieldsCase is one body ReadFields reads with a test's fields: whether
// it succeeds, and then each field's value ("" when absent).
type fieldsCase struct {
	in   string
	ok   bool
	want []string
}

func checkFields(t *testing.T, fields []Field, cases []fieldsCase) {
	t.Helper()
	for _, c := range cases {
		vals := make([][]byte, len(fields))
		ok := ReadFields([]byte(c.in), false, fields, vals)
		if ok != c.ok {
			t.Errorf("ReadFields(%s) = %v, want %v", c.in, ok, c.ok)
			continue
		}
		for i, w := range c.want {
			if string(vals[i]) != w {
				t.Errorf("ReadFields(%s): %s = %q, want %q", c.in, fields[i].Key, vals[i], w)
			}
		}
	}
}

func TestUintOf(t *testing.T) {
	if n := UintOf([]byte("907")); n != 907 {
		t.Errorf("UintOf(907) = %d", n)
	}
}
