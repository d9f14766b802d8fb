package anthropic

import "github.com/sluicegw/sluice/shared/api"

// member is one key of a JSON object read by readShape, with the JSON type
// its value must have.
type member struct {
	key  string
	kind jsonKind
}

type jsonKind uint8

const (
	jsonAny          jsonKind = iota
	jsonString                // a string
	jsonNullOrString          // null or a string
	jsonUint                  // digits alone, no leading zero, fits an int64
	jsonObject                // an object
	jsonEmptyArray            // []
)

// readShape reads the members of the JSON object obj into vals, by their
// position in shape (nil when absent). It reports false when obj is not an
// object or has a member not in shape, a member twice, or a value of
// another kind: then a reflective decoding would read something this does
// not. obj is validated first unless valid says it already was.
func readShape(obj []byte, valid bool, shape []member, vals [][]byte) bool {
	ok := true
	visit := func(k, v []byte) bool {
		for i := range shape {
			if string(k) != shape[i].key {
				continue
			}
			if vals[i] != nil || !shape[i].kind.holds(v) {
				ok = false
				return false
			}
			vals[i] = v
			return true
		}
		ok = false
		return false
	}
	if valid {
		if len(obj) == 0 || !api.EachValidMember(obj, visit) {
			return false
		}
	} else if !api.EachMember(obj, visit) {
		return false
	}
	return ok
}

func (k jsonKind) holds(v []byte) bool {
	switch k {
	case jsonString:
		return v[0] == '"'
	case jsonNullOrString:
		return v[0] == '"' || string(v) == "null"
	case jsonUint:
		if len(v) > 18 || v[0] == '0' && len(v) > 1 {
			return false
		}
		for _, c := range v {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	case jsonObject:
		return v[0] == '{'
	case jsonEmptyArray:
		if v[0] != '[' {
			return false
		}
		for _, c := range v[1 : len(v)-1] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
		return true
	}
	return true
}

// uintOf is the value of a jsonUint member, 0 when absent.
func uintOf(v []byte) int64 {
	var n int64
	for _, c := range v {
		n = n*10 + int64(c-'0')
	}
	return n
}
