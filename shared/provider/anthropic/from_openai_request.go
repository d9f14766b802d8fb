package anthropic

import (
	"math"
	"strconv"

	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/rawjson"
)

// fastRequest translates a plainly shaped chat completion request without
// reflection: one validating pass, a scan that reads the members, and an
// Anthropic request written by appending, its strings carried across
// without being decoded. It reads model, messages, stream,
// stream_options.include_usage, max_tokens, max_completion_tokens,
// temperature, top_p, stop, user and n 1, and messages of the roles system,
// developer, user and assistant whose content is a string. ok is false for
// anything else: another member, a repeated one, a key in another case or
// with escapes, null or a value of another JSON type, a number that is not
// plain digits where an integer goes, a temperature outside 0..1, content
// parts, tool calls. The caller then decodes the request whole
// (decodeRequest), so both ways translate alike and only the whole
// decoding refuses a request (FuzzFastRequest holds them to it).
func (t *FromOpenAI) fastRequest(body []byte) (out []byte, ok bool) {
	var f [len(requestShape)][]byte
	if !rawjson.ReadFields(body, false, requestShape[:], f[:]) {
		return nil, false
	}
	msgs, stream, options, maxTokens, maxCompletion, temperature, topP, stop, user, n :=
		f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]
	if n != nil && string(n) != "1" {
		return nil, false // more choices than Claude gives
	}

	var buf [16]turnText
	texts, ok := readMessages(msgs, buf[:0])
	if !ok {
		return nil, false
	}
	includeUsage := false
	if options != nil {
		var o [len(streamOptionsShape)][]byte
		if !rawjson.ReadFields(options, true, streamOptionsShape[:], o[:]) {
			return nil, false
		}
		includeUsage = string(o[0]) == "true"
	}
	var temp, top float64
	if temperature != nil {
		if temp, ok = readFloat(temperature); !ok || temp < 0 || temp > 1 {
			return nil, false // out of range: decodeRequest says why
		}
	}
	if topP != nil {
		if top, ok = readFloat(topP); !ok {
			return nil, false
		}
	}
	if stop != nil && !stringOrStrings(stop) {
		return nil, false
	}

	// The members in messages.Request's order, as json.Marshal writes them.
	out = make([]byte, 0, len(body)+len(t.model)+64)
	out = appendString(append(out, `{"model":`...), t.model)
	out = appendTurns(append(out, `,"messages":`...), texts)
	maxOut := rawjson.UintOf(maxTokens) // as chat.Request.MaxOutput, then convertThinking
	if maxCompletion != nil {
		maxOut = rawjson.UintOf(maxCompletion)
	}
	if maxOut <= 0 {
		maxOut = DefaultMaxTokens
	}
	out = strconv.AppendInt(append(out, `,"max_tokens":`...), maxOut, 10)
	out = appendSystem(out, texts)
	if len(user) > 2 { // not absent or empty
		out = rawjson.AppendLiteral(append(out, `,"metadata":{"user_id":`...), user, true)
		out = append(out, '}')
	}
	out = appendStop(out, stop)
	streaming := string(stream) == "true"
	if streaming {
		out = append(out, `,"stream":true`...)
	}
	if temperature != nil {
		out = appendFloat(append(out, `,"temperature":`...), temp)
	}
	if topP != nil {
		out = appendFloat(append(out, `,"top_p":`...), top)
	}
	out = append(out, '}')
	t.includeUsage = streaming && includeUsage
	return out, true
}

// The shapes fastRequest reads. A slot's position is its index in the
// values read.
var (
	requestShape = [...]rawjson.Field{{Key: "model", Kind: rawjson.String}, {Key: "messages", Kind: rawjson.Array},
		{Key: "stream", Kind: rawjson.Bool}, {Key: "stream_options", Kind: rawjson.Object},
		{Key: "max_tokens", Kind: rawjson.Uint}, {Key: "max_completion_tokens", Kind: rawjson.Uint},
		{Key: "temperature", Kind: rawjson.Number}, {Key: "top_p", Kind: rawjson.Number},
		{Key: "stop", Kind: rawjson.Any}, {Key: "user", Kind: rawjson.String}, {Key: "n", Kind: rawjson.Uint}}
	streamOptionsShape = [...]rawjson.Field{{Key: "include_usage", Kind: rawjson.Bool}}
	chatMessageShape   = [...]rawjson.Field{{Key: "role", Kind: rawjson.String}, {Key: "content", Kind: rawjson.String}, {Key: "name", Kind: rawjson.String}}
	messageRoles       = [...]string{chat.RoleSystem, chat.RoleDeveloper, chat.RoleUser, chat.RoleAssistant}
)

// Where a message goes: the system prompt, or a user or assistant turn.
const (
	roleSystem uint8 = iota
	roleUser
	roleAssistant
)

// turnText is one message read by readMessages: where it goes, and its
// content as the JSON string literal it came as.
type turnText struct {
	role uint8
	text []byte
}

// block reports whether the message adds a text block to its turn: a
// user's always, an assistant's unless empty (as userBlocks and
// assistantBlocks build them).
func (m turnText) block() bool {
	return m.role == roleUser || m.role == roleAssistant && len(m.text) > 2
}

// readMessages reads the messages array; ok is false unless every message
// is an object of a known role (without escapes) and string content.
func readMessages(msgs []byte, dst []turnText) ([]turnText, bool) {
	ok := true
	if msgs != nil && !rawjson.EachValidElement(msgs, func(v []byte) bool {
		var m [len(chatMessageShape)][]byte
		if !rawjson.ReadFields(v, true, chatMessageShape[:], m[:]) || m[0] == nil || m[1] == nil {
			ok = false
			return false
		}
		role, known := plainString(m[0], messageRoles[:])
		if !known {
			ok = false
			return false
		}
		r := roleSystem
		switch role {
		case chat.RoleUser:
			r = roleUser
		case chat.RoleAssistant:
			r = roleAssistant
		}
		dst = append(dst, turnText{role: r, text: m[1]})
		return true
	}) {
		return nil, false
	}
	return dst, ok
}

// appendTurns appends the messages array as convertMessages builds it:
// system texts left out (they go to the system prompt), consecutive
// messages of one role (system ones between them skipped) joined in one
// turn, an empty assistant text dropped, and a turn of one text sent as a
// string.
func appendTurns(out []byte, texts []turnText) []byte {
	out = append(out, '[')
	sep := false
	for i := 0; i < len(texts); {
		role := texts[i].role
		if role == roleSystem {
			i++
			continue
		}
		j, n := i, 0
		for ; j < len(texts) && (texts[j].role == role || texts[j].role == roleSystem); j++ {
			if texts[j].role == role && texts[j].block() {
				n++
			}
		}
		if sep {
			out = append(out, ',')
		}
		sep = true
		if role == roleUser {
			out = append(out, `{"role":"user","content":`...)
		} else {
			out = append(out, `{"role":"assistant","content":`...)
		}
		switch n {
		case 0:
			out = append(out, `""`...)
		case 1:
			for _, m := range texts[i:j] {
				if m.role == role && m.block() {
					out = rawjson.AppendLiteral(out, m.text, true)
				}
			}
		default:
			out = append(out, '[')
			k := 0
			for _, m := range texts[i:j] {
				if m.role != role || !m.block() {
					continue
				}
				if k > 0 {
					out = append(out, ',')
				}
				k++
				out = appendTextBlock(out, m.text)
			}
			out = append(out, ']')
		}
		out = append(out, '}')
		i = j
	}
	return append(out, ']')
}

// appendSystem appends the system prompt, one text block per non-empty
// system or developer message, as textBlocks builds it; none when there
// are none.
func appendSystem(out []byte, texts []turnText) []byte {
	n := 0
	for _, m := range texts {
		if m.role != roleSystem || len(m.text) == 2 {
			continue
		}
		if n == 0 {
			out = append(out, `,"system":[`...)
		} else {
			out = append(out, ',')
		}
		n++
		out = appendTextBlock(out, m.text)
	}
	if n > 0 {
		out = append(out, ']')
	}
	return out
}

// appendTextBlock appends a text block holding the JSON string literal
// lit; an empty text is left out, as omitempty does.
func appendTextBlock(out, lit []byte) []byte {
	if len(lit) == 2 {
		return append(out, `{"type":"text"}`...)
	}
	out = rawjson.AppendLiteral(append(out, `{"type":"text","text":`...), lit, true)
	return append(out, '}')
}

// stringOrStrings reports whether stop is a string or an array of strings.
func stringOrStrings(stop []byte) bool {
	if stop[0] == '"' {
		return true
	}
	ok := true
	return rawjson.EachValidElement(stop, func(v []byte) bool {
		ok = v[0] == '"'
		return ok
	}) && ok
}

// appendStop appends stop_sequences for stop (a string or an array of
// strings; nil when absent), left out when there are none.
func appendStop(out, stop []byte) []byte {
	if stop == nil {
		return out
	}
	if stop[0] == '"' {
		out = rawjson.AppendLiteral(append(out, `,"stop_sequences":[`...), stop, true)
		return append(out, ']')
	}
	n := 0
	rawjson.EachValidElement(stop, func(v []byte) bool {
		if n == 0 {
			out = append(out, `,"stop_sequences":[`...)
		} else {
			out = append(out, ',')
		}
		n++
		out = rawjson.AppendLiteral(out, v, true)
		return true
	})
	if n > 0 {
		out = append(out, ']')
	}
	return out
}

// readFloat reads a JSON number as encoding/json reads it into a float64;
// ok is false where it would fail.
func readFloat(num []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(num), 64)
	return f, err == nil
}

// appendFloat writes f as encoding/json writes a float64.
func appendFloat(out []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	out = strconv.AppendFloat(out, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		if n := len(out); n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	return out
}

// plainString returns the one of names that the JSON string literal lit
// holds, without escapes; ok is false for any other.
func plainString(lit []byte, names []string) (string, bool) {
	if lit[0] != '"' {
		return "", false
	}
	for _, n := range names {
		if string(lit[1:len(lit)-1]) == n {
			return n, true
		}
	}
	return "", false
}
