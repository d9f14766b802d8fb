// Package cache is the gateway's response cache: the canonical key of a
// model request, the encoding of a stored answer, the Redis store, and the
// replay of a stored answer as a plain body or a stream in the client's
// protocol. The gateway declares the small interface it needs; this
// package knows nothing of routes or policies beyond the values passed in.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicegw/sluice/shared/json"
)

// Protocol is the client protocol and endpoint of a request: an answer
// given to one protocol's client is never served to another's.
type Protocol string

// The protocols whose answers are cached.
const (
	ChatCompletions Protocol = "openai.chat.completions"
	Messages        Protocol = "anthropic.messages"
	Responses       Protocol = "openai.responses"
)

// Selection names the question text a semantic lookup compares: the last
// user turn, or the last Turns messages of the conversation.
type Selection struct {
	// Turns is 0 for the last user turn, else how many of the last
	// messages make up the text.
	Turns int
}

// Scope is what a key is never shared across: the route (namespace, name
// and rule) and, when the policy draws it, the consumer or the key.
type Scope struct {
	Route  string // "namespace/name/rule"
	Tenant string // "" (the whole route), "consumer:NAME" or "key:ID"
}

// Request is the canonical form of a model request, split so that the
// semantic cache can compare the question text apart from its context.
type Request struct {
	Model string
	// Temperature is the sampling temperature asked for; a request that
	// sets none gets the provider's default of 1.
	Temperature float64
	// Context hashes everything that changes the answer except the
	// selected question text, whose places it keeps blank.
	Context [sha256.Size]byte
	// Texts are the selected question's text parts, in order.
	Texts []string
	// IncludeUsage is OpenAI's stream_options.include_usage: not part of
	// the key, but a streamed replay sends the usage chunk it asks for.
	IncludeUsage bool
	exact        [sha256.Size]byte
}

// Text is the selected question as one string, what an embedding is made of.
func (r *Request) Text() string { return strings.Join(r.Texts, "\n") }

// ErrNotJSON is returned for a body that is not a JSON object.
var ErrNotJSON = errors.New("cache: request body is not a JSON object")

// ignored lists the top-level members that never change the answer: how
// it is delivered and who the provider is told asked.
var ignored = map[Protocol][]string{
	ChatCompletions: {"stream", "stream_options", "user"},
	Messages:        {"stream", "metadata"},
	Responses:       {"stream", "stream_options", "user"},
}

// Canonical reads a request body of protocol p into its canonical form:
// member order, whitespace and the way a number is written do not matter,
// the members in ignored are left out, and every other member counts,
// those Sluice does not know included.
func Canonical(p Protocol, body []byte, sel Selection) (*Request, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotJSON
	}
	r := &Request{Temperature: 1}
	if so, ok := obj["stream_options"].(map[string]any); ok {
		r.IncludeUsage, _ = so["include_usage"].(bool)
	}
	for _, k := range ignored[p] {
		delete(obj, k)
	}
	r.Model, _ = obj["model"].(string)
	if n, ok := obj["temperature"].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			r.Temperature = f
		}
	}
	h := sha256.New()
	h.Write([]byte(p))
	h.Write([]byte{0})
	writeValue(h, obj)
	h.Sum(r.exact[:0])

	r.Texts = takeTexts(obj, sel)
	h.Reset()
	h.Write([]byte(p))
	h.Write([]byte{1})
	writeValue(h, obj)
	h.Sum(r.Context[:0])
	return r, nil
}

// ExactKey is the Redis key of the answer to r within s. The scope and
// the request are hashed together, so one scope's keys cannot be derived
// from another's.
func (s Scope) ExactKey(r *Request) string {
	return s.key("sluice:cache:e:", r.exact[:])
}

// ContextKey is the key under which the semantic cache keeps the
// questions asked in r's context within s.
func (s Scope) ContextKey(r *Request) string {
	return s.key("sluice:cache:s:", r.Context[:])
}

func (s Scope) key(prefix string, digest []byte) string {
	h := sha256.New()
	writeString(h, s.Route)
	writeString(h, s.Tenant)
	h.Write(digest)
	var sum [sha256.Size]byte
	return prefix + hex.EncodeToString(h.Sum(sum[:0]))
}

// takeTexts blanks the selected question text in the request's messages
// and returns it: the text of the last user turn, or of the last sel.Turns
// messages. Images, tool calls and tool results stay in the context.
func takeTexts(obj map[string]any, sel Selection) []string {
	msgs, _ := obj["messages"].([]any)
	from, to := len(msgs), len(msgs)
	if sel.Turns > 0 {
		from = max(0, len(msgs)-sel.Turns)
	} else {
		for i := len(msgs) - 1; i >= 0; i-- {
			if m, ok := msgs[i].(map[string]any); ok && m["role"] == "user" {
				from, to = i, i+1
				break
			}
		}
	}
	var texts []string
	for _, m := range msgs[from:to] {
		m, ok := m.(map[string]any)
		if !ok {
			continue
		}
		switch c := m["content"].(type) {
		case string:
			texts = append(texts, c)
			m["content"] = ""
		case []any:
			for _, part := range c {
				p, ok := part.(map[string]any)
				if !ok || p["type"] != "text" {
					continue
				}
				if s, ok := p["text"].(string); ok {
					texts = append(texts, s)
					p["text"] = ""
				}
			}
		}
	}
	return texts
}

// writeValue writes v to h in a form that is unambiguous (each value
// tagged, strings length-prefixed) and canonical (object members sorted,
// numbers written one way).
func writeValue(h hash.Hash, v any) {
	switch v := v.(type) {
	case nil:
		h.Write([]byte{'n'})
	case bool:
		if v {
			h.Write([]byte{'t'})
		} else {
			h.Write([]byte{'f'})
		}
	case json.Number:
		h.Write([]byte{'#'})
		writeString(h, canonicalNumber(string(v)))
	case string:
		h.Write([]byte{'s'})
		writeString(h, v)
	case []any:
		h.Write([]byte{'['})
		writeLen(h, len(v))
		for _, e := range v {
			writeValue(h, e)
		}
	case map[string]any:
		h.Write([]byte{'{'})
		writeLen(h, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			writeString(h, k)
			writeValue(h, v[k])
		}
	}
}

// canonicalNumber writes integers as they are and other numbers in Go's
// shortest form, so 1, 1.0 and 1e0 are one number while large integers
// (seeds) keep every digit.
func canonicalNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == float64(int64(f)) && f < 1<<53 && f > -(1<<53) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func writeLen(h hash.Hash, n int) {
	var b [binary.MaxVarintLen64]byte
	h.Write(b[:binary.PutUvarint(b[:], uint64(n))])
}

func writeString(h hash.Hash, s string) {
	writeLen(h, len(s))
	h.Write([]byte(s))
}
