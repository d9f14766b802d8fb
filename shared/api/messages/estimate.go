package messages

import (
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/json"
)

// Figures of the count_tokens estimate.
const (
	// CharsPerToken is the ratio the estimate assumes: about four
	// characters of English text or code per token.
	CharsPerToken = 4
	// ImageTokens is what one image or PDF document counts: Anthropic's
	// figure for an image of about 1.15 megapixels, the largest it takes
	// without resizing. The estimate cannot see an image's size.
	ImageTokens = 1600
)

// EstimateTokens estimates the input tokens of a count_tokens (or
// Messages) request for a backend that cannot count them itself. It is an
// estimate, not the provider's tokenizer: characters / CharsPerToken
// (rounded up) over the system prompt, every message's text, thinking,
// tool-use input and tool-result content, and every tool's name,
// description and input schema; each image or base64 document adds
// ImageTokens, and each message and tool a few tokens of framing. Fields
// the estimate does not know are ignored, so it never refuses a request
// the provider would take.
func EstimateTokens(body []byte) (int64, error) {
	var r struct {
		System   *Content  `json:"system"`
		Messages []Message `json:"messages"`
		Tools    []Tool    `json:"tools"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, err
	}
	var e estimate
	e.blocks(r.System.AsBlocks())
	for i := range r.Messages {
		e.fixed += 4 // role and turn framing
		e.blocks(r.Messages[i].Content.AsBlocks())
	}
	for _, t := range r.Tools {
		e.fixed += 8
		e.chars(t.Name)
		e.chars(t.Description)
		e.chars(string(t.InputSchema))
	}
	return e.fixed + (e.n+CharsPerToken-1)/CharsPerToken, nil
}

type estimate struct {
	n     int64 // characters seen
	fixed int64 // tokens counted whole
}

func (e *estimate) chars(s string) { e.n += int64(utf8.RuneCountInString(s)) }

func (e *estimate) blocks(bs []Block) {
	for i := range bs {
		b := &bs[i]
		switch b.Type {
		case BlockImage:
			e.fixed += ImageTokens
		case BlockDocument:
			if b.Source != nil && b.Source.Type == "text" {
				e.chars(b.Source.Data)
			} else {
				e.fixed += ImageTokens
			}
		}
		e.chars(b.Text)
		e.chars(b.Name)
		e.chars(string(b.Input))
		e.chars(b.Data)
		if b.Thinking != nil {
			e.chars(*b.Thinking)
		}
		if b.Content != nil {
			e.blocks(b.Content.AsBlocks())
		}
	}
}
