package rawjson

import (
	"bytes"
	"encoding/json"
)

// EachMember calls visit with the key and the value of each member of the
// JSON object in body, in order, until visit returns false. The key is the
// raw bytes between its quotes (escapes undecoded); the value is its raw
// JSON text. It reports false, without calling visit, when body is not one
// valid JSON object.
//
// It is the cheap way to read a few top-level members of a large body on
// the hot path: one validating pass (validJSON, as json.Valid but faster;
// neither allocates) and one skipping pass, instead of a reflective
// json.Unmarshal.
func EachMember(body []byte, visit func(key, value []byte) bool) bool {
	return validJSON(body) && EachValidMember(body, visit)
}

// EachValidMember is EachMember without the validating pass, for a value
// already validated: one that EachMember gave. It reports false when body
// is not an object.
func EachValidMember(body []byte, visit func(key, value []byte) bool) bool {
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	for body[i] != '}' {
		end := skipString(body, i)
		key := body[i+1 : end-1]
		i = skipSpace(body, skipSpace(body, end)+1) // past the ':'
		vend := skipValue(body, i)
		if !visit(key, body[i:vend]) {
			return true
		}
		i = skipSpace(body, vend)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return true
}

// EachValidElement calls visit with the raw JSON text of each element of
// the JSON array in body, in order, until visit returns false. body is a
// value already validated (one EachMember or ReadFields gave); it reports
// false when body is not an array.
func EachValidElement(body []byte, visit func(value []byte) bool) bool {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '[' {
		return false
	}
	i = skipSpace(body, i+1)
	for body[i] != ']' {
		end := skipValue(body, i)
		if !visit(body[i:end]) {
			return true
		}
		i = skipSpace(body, end)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return true
}

// MemberSpan finds the byte span of the value of the first top-level member
// named key in the JSON object body, as a json.Decoder reading the object
// token by token finds it (keys compared once unescaped, exactly). It is
// how a translator rewrites one member of a body it otherwise passes on
// byte for byte. A valid body whose keys have no escapes up to the match
// is scanned without reflection; any other goes through the decoder.
func MemberSpan(body []byte, key string) (start, end int, ok bool) {
	plain := true
	valid := EachMember(body, func(k, v []byte) bool {
		if bytes.IndexByte(k, '\\') >= 0 {
			plain = false
			return false
		}
		if string(k) == key {
			// v is body[start:end]: slicing keeps what lies beyond it.
			start = cap(body) - cap(v)
			end, ok = start+len(v), true
			return false
		}
		return true
	})
	if valid && plain {
		return start, end, ok
	}
	return memberSpanDecoding(body, key)
}

// memberSpanDecoding is MemberSpan through a json.Decoder.
func memberSpanDecoding(body []byte, key string) (start, end int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, 0, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, 0, false
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, 0, false
		}
		if name == key {
			end = int(dec.InputOffset())
			return end - len(raw), end, true
		}
	}
	return 0, 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		}
		break
	}
	return i
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the value starting at b[i]. b is
// valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
