package rawjson

// Field is one key of a JSON object read by ReadFields, with the kind of
// JSON value it must hold.
type Field struct {
	Key  string
	Kind Kind
}

// Kind is a kind of JSON value ReadFields accepts for a field.
type Kind uint8

const (
	Any          Kind = iota
	String            // a string
	NullOrString      // null or a string
	Uint              // digits alone, no leading zero, that fit an int64
	Object            // an object
	EmptyArray        // []
	NullOrObject      // null or an object
	NullOrArray       // null or an array
	Array             // an array
	Bool              // true or false
	Number            // a number, in any form JSON allows
)

// ReadFields reads the members of the JSON object obj into vals, by their
// field's position in fields (nil when absent), as raw JSON text. It
// reports false when obj is not an object or has a member not in fields, a
// member twice, or a value of another kind. It is how a translator reads
// the common, plainly shaped events and requests without reflection: on
// false it decodes obj whole, so both ways read alike. obj is validated
// first unless validated says it already was (a value ReadFields or
// EachMember gave).
func ReadFields(obj []byte, validated bool, fields []Field, vals [][]byte) bool {
	ok := true
	visit := func(k, v []byte) bool {
		for i := range fields {
			if string(k) != fields[i].Key {
				continue
			}
			if vals[i] != nil || !fields[i].Kind.holds(v) {
				ok = false
				return false
			}
			vals[i] = v
			return true
		}
		ok = false
		return false
	}
	if validated {
		if len(obj) == 0 || !EachValidMember(obj, visit) {
			return false
		}
	} else if !EachMember(obj, visit) {
		return false
	}
	return ok
}

func (k Kind) holds(v []byte) bool {
	switch k {
	case String:
		return v[0] == '"'
	case NullOrString:
		return v[0] == '"' || string(v) == "null"
	case Uint:
		if len(v) > 18 || v[0] == '0' && len(v) > 1 {
			return false
		}
		for _, c := range v {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	case Object:
		return v[0] == '{'
	case NullOrObject:
		return v[0] == '{' || string(v) == "null"
	case NullOrArray:
		return v[0] == '[' || string(v) == "null"
	case EmptyArray:
		if v[0] != '[' {
			return false
		}
		for _, c := range v[1 : len(v)-1] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
		return true
	case Array:
		return v[0] == '['
	case Bool:
		return string(v) == "true" || string(v) == "false"
	case Number:
		return v[0] == '-' || v[0] >= '0' && v[0] <= '9'
	}
	return true
}

// UintOf is the value of a Uint field, 0 when absent.
func UintOf(v []byte) int64 {
	var n int64
	for _, c := range v {
		n = n*10 + int64(c-'0')
	}
	return n
}
