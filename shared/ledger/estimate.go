package ledger

import (
	"bytes"
	"encoding/json"
)

// Estimate is what admission knows of a request's size before it is sent.
type Estimate struct {
	// Input is an estimate of the prompt's tokens: the bytes of the JSON of
	// the prompt fields (messages, system, input, prompt, tools) divided by
	// three, rounded up. Real tokenizers average about four bytes per token
	// on English text, and the JSON syntax counts too, so this is meant to
	// over-estimate; a budget is only guaranteed when it does.
	Input int64
	// MaxOutput is the request's max_tokens (or max_completion_tokens, or
	// max_output_tokens); zero when it sets none.
	MaxOutput int64
}

// EstimateBody reads the estimate from a request body of the OpenAI or
// Anthropic APIs. A body that is not a JSON object estimates as its size.
func EstimateBody(body []byte) Estimate {
	var b struct {
		Messages            json.RawMessage `json:"messages"`
		System              json.RawMessage `json:"system"`
		Input               json.RawMessage `json:"input"`
		Prompt              json.RawMessage `json:"prompt"`
		Tools               json.RawMessage `json:"tools"`
		MaxTokens           int64           `json:"max_tokens"`
		MaxCompletionTokens int64           `json:"max_completion_tokens"`
		MaxOutputTokens     int64           `json:"max_output_tokens"`
	}
	if json.Unmarshal(body, &b) != nil {
		return Estimate{Input: tokensOfBytes(int64(len(body)), 3)}
	}
	n := len(b.Messages) + len(b.System) + len(b.Input) + len(b.Prompt) + len(b.Tools)
	e := Estimate{Input: tokensOfBytes(int64(n), 3)}
	for _, m := range []int64{b.MaxCompletionTokens, b.MaxTokens, b.MaxOutputTokens} {
		if m > 0 {
			e.MaxOutput = m
			break
		}
	}
	return e
}

func tokensOfBytes(n, per int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + per - 1) / per
}

// TextCounter counts the generated text of a stream as it passes, so a
// stream cut before the provider reported usage can still be charged: the
// string values of the fields that carry generated text, in OpenAI and
// Anthropic events. It does not parse the JSON; it only scans for the keys.
type TextCounter struct {
	n int64
}

var textKeys = [...][]byte{
	[]byte(`"content":"`), []byte(`"text":"`), []byte(`"reasoning_content":"`),
	[]byte(`"arguments":"`), []byte(`"thinking":"`), []byte(`"partial_json":"`),
}

// Add counts the text in one event's data: for each key, the values after
// its occurrences, found left to right, each search starting where the
// previous value ended. It makes one pass over the colons, checking the
// keys that end in `":"` there and keeping each key's own resume point,
// so it counts as six separate searches would.
func (c *TextCounter) Add(data []byte) {
	var next [len(textKeys)]int // where each key's search resumes
	for p := 1; p < len(data)-1; p++ {
		i := bytes.IndexByte(data[p:len(data)-1], ':')
		if i < 0 {
			return
		}
		p += i
		if data[p-1] != '"' || data[p+1] != '"' {
			continue
		}
		end := p + len(`:"`)
		for k, key := range textKeys {
			start := end - len(key)
			if start < next[k] || start < 0 || string(data[start:end]) != string(key) {
				continue
			}
			n := stringLen(data[end:])
			c.n += int64(n)
			next[k] = end + n
		}
	}
}

// stringLen is the length of an encoded JSON string body up to its closing
// quote.
func stringLen(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b)
}

// Bytes is the text counted so far, in bytes (escapes counted as written).
func (c *TextCounter) Bytes() int64 { return c.n }

// Tokens estimates the counted text's tokens at four bytes per token.
func (c *TextCounter) Tokens() int64 { return tokensOfBytes(c.n, 4) }
