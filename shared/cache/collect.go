package cache

import (
	"bytes"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
)

// Collector adds up a streamed answer, as the client received it, into
// the plain body a stored entry holds, so that a streamed miss can be
// replayed later to plain and streaming clients alike. It keeps only the
// answer being built and the unfinished line, and gives up past a size.
type Collector struct {
	p     Protocol
	limit int
	size  int

	line    []byte // the unfinished line
	event   string // the current event's name
	data    []byte // the current event's data
	hasData bool

	chat   chat.Response
	msg    messages.Response
	inputs [][]byte // partial tool inputs of Anthropic blocks, by index
	done   bool     // the stream ended as a whole answer does
	bad    bool     // an error event, an event that did not decode, or too large

	resp respCollect // the Responses answer being built
}

// maxIndex bounds the choice and tool-call indexes a stream may use: an
// upstream's stream is not trusted to keep them small.
const maxIndex = 128

// NewCollector returns a collector for a stream of protocol p that gives
// up once the stream passes limit bytes.
func NewCollector(p Protocol, limit int) *Collector {
	return &Collector{p: p, limit: limit}
}

// Write takes the next bytes of the stream, split anywhere.
func (c *Collector) Write(b []byte) {
	if c.bad {
		return
	}
	c.size += len(b)
	if c.size > c.limit {
		c.fail()
		return
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.line = append(c.line, b...)
			return
		}
		line := b[:i]
		if len(c.line) > 0 {
			c.line = append(c.line, line...)
			line = c.line
		}
		c.handleLine(bytes.TrimSuffix(line, []byte("\r")))
		c.line = c.line[:0]
		b = b[i+1:]
	}
}

func (c *Collector) fail() {
	c.bad = true
	c.line, c.data, c.inputs = nil, nil, nil
	c.chat, c.msg, c.resp = chat.Response{}, messages.Response{}, respCollect{}
}

func (c *Collector) handleLine(line []byte) {
	switch {
	case len(line) == 0:
		if c.hasData {
			c.handleEvent(c.event, c.data)
		}
		c.event, c.data, c.hasData = "", c.data[:0], false
	case bytes.HasPrefix(line, []byte("data:")):
		v := bytes.TrimPrefix(line[5:], []byte(" "))
		if c.hasData {
			c.data = append(c.data, '\n')
		}
		c.data, c.hasData = append(c.data, v...), true
	case bytes.HasPrefix(line, []byte("event:")):
		c.event = string(bytes.TrimSpace(line[6:]))
	}
}

func (c *Collector) handleEvent(name string, data []byte) {
	if c.bad {
		return
	}
	switch c.p {
	case ChatCompletions:
		c.chatEvent(data)
	case Responses:
		c.responsesEvent(name, data)
	default:
		c.messagesEvent(name, data)
	}
}

func (c *Collector) chatEvent(data []byte) {
	if string(data) == "[DONE]" {
		c.done = true
		return
	}
	var ch struct {
		chat.Chunk
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &ch); err != nil || len(ch.Error) > 0 {
		c.fail()
		return
	}
	r := &c.chat
	r.ID, r.Object, r.Created, r.Model = ch.ID, "chat.completion", ch.Created, ch.Model
	if ch.SystemFingerprint != "" {
		r.SystemFingerprint = ch.SystemFingerprint
	}
	if ch.Usage != nil {
		r.Usage = ch.Usage
	}
	for _, d := range ch.Choices {
		if d.Index < 0 || d.Index >= maxIndex {
			c.fail()
			return
		}
		for int64(len(r.Choices)) <= d.Index {
			r.Choices = append(r.Choices, chat.Choice{Index: int64(len(r.Choices)),
				Message: chat.Message{Role: chat.RoleAssistant}})
		}
		choice := &r.Choices[d.Index]
		m := &choice.Message
		if d.Delta.Content != nil && *d.Delta.Content != "" {
			if m.Content == nil {
				m.Content = &chat.Content{}
			}
			m.Content.Text += *d.Delta.Content
		}
		if d.Delta.Refusal != nil {
			m.Refusal += *d.Delta.Refusal
		}
		if d.Delta.ReasoningContent != nil {
			m.ReasoningContent += *d.Delta.ReasoningContent
		}
		for _, tc := range d.Delta.ToolCalls {
			i := int64(len(m.ToolCalls))
			if tc.Index != nil {
				i = *tc.Index
			}
			if i < 0 || i >= maxIndex {
				c.fail()
				return
			}
			for int64(len(m.ToolCalls)) <= i {
				m.ToolCalls = append(m.ToolCalls, chat.ToolCall{Type: "function"})
			}
			t := &m.ToolCalls[i]
			if tc.ID != "" {
				t.ID = tc.ID
			}
			if tc.Function.Name != "" {
				t.Function.Name = tc.Function.Name
			}
			t.Function.Arguments += tc.Function.Arguments
		}
		if d.FinishReason != nil {
			choice.FinishReason = *d.FinishReason
		}
	}
}

func (c *Collector) messagesEvent(name string, data []byte) {
	var ev messages.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		c.fail()
		return
	}
	if name == "" {
		name = ev.Type
	}
	r := &c.msg
	switch name {
	case messages.EventMessageStart:
		if ev.Message != nil {
			*r = *ev.Message
			r.Content = nil
		}
	case messages.EventContentBlockStart:
		if ev.Index == nil || ev.ContentBlock == nil || *ev.Index != int64(len(r.Content)) {
			c.fail()
			return
		}
		r.Content = append(r.Content, *ev.ContentBlock)
		c.inputs = append(c.inputs, nil)
	case messages.EventContentBlockDelta:
		if ev.Index == nil || *ev.Index < 0 || *ev.Index >= int64(len(r.Content)) || ev.Delta == nil {
			c.fail()
			return
		}
		b, d := &r.Content[*ev.Index], ev.Delta
		switch d.Type {
		case messages.DeltaText:
			b.Text += d.Text
		case messages.DeltaInputJSON:
			if d.PartialJSON != nil {
				c.inputs[*ev.Index] = append(c.inputs[*ev.Index], *d.PartialJSON...)
			}
		case messages.DeltaThinking:
			t := d.Thinking
			if b.Thinking != nil {
				t = *b.Thinking + t
			}
			b.Thinking = &t
		case messages.DeltaSignature:
			s := d.Signature
			b.Signature = &s
		}
	case messages.EventContentBlockStop:
		if ev.Index == nil || *ev.Index < 0 || *ev.Index >= int64(len(r.Content)) {
			c.fail()
			return
		}
		if in := c.inputs[*ev.Index]; in != nil {
			r.Content[*ev.Index].Input = json.RawMessage(in)
		}
	case messages.EventMessageDelta:
		if ev.Delta != nil {
			r.StopReason, r.StopSequence = ev.Delta.StopReason, ev.Delta.StopSequence
		}
		if ev.Usage != nil {
			r.Usage.OutputTokens = ev.Usage.OutputTokens
			if ev.Usage.InputTokens > 0 {
				r.Usage.InputTokens = ev.Usage.InputTokens
			}
		}
	case messages.EventMessageStop:
		c.done = true
	case messages.EventError:
		c.fail()
	}
}

// Answer returns the plain body the stream added up to, and its finish
// reason (OpenAI's finish_reason, Anthropic's stop_reason, or a Responses
// status read as one); ok is false when the stream was not one whole
// answer. An OpenAI chat stream carries usage only when the client asked
// for it: the body then takes u, the usage the provider reported to the
// gateway.
func (c *Collector) Answer(u api.Usage) (body []byte, finish string, ok bool) {
	if c.bad || !c.done {
		return nil, "", false
	}
	if c.p == Responses {
		return c.responsesAnswer()
	}
	var err error
	if c.p == ChatCompletions {
		if len(c.chat.Choices) == 0 {
			return nil, "", false
		}
		for _, ch := range c.chat.Choices {
			if ch.FinishReason == "" {
				return nil, "", false
			}
		}
		finish = c.chat.Choices[0].FinishReason
		if c.chat.Usage == nil && u.Reported {
			c.chat.Usage = chat.UsageOf(u)
		}
		body, err = json.Marshal(&c.chat)
	} else {
		if c.msg.StopReason == nil {
			return nil, "", false
		}
		finish = *c.msg.StopReason
		c.msg.Type, c.msg.Role = "message", messages.RoleAssistant
		if c.msg.Content == nil {
			c.msg.Content = []messages.Block{}
		}
		body, err = json.Marshal(&c.msg)
	}
	if err != nil {
		return nil, "", false
	}
	return body, finish, true
}

// Finish reads the finish reason of a plain answer of protocol p; ok is
// false when the body is not a whole answer.
func Finish(p Protocol, body []byte) (finish string, ok bool) {
	if p == Responses {
		return responsesFinish(body)
	}
	if p == ChatCompletions {
		var r struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if json.Unmarshal(body, &r) != nil || len(r.Choices) == 0 {
			return "", false
		}
		for _, c := range r.Choices {
			if c.FinishReason == "" {
				return "", false
			}
		}
		return r.Choices[0].FinishReason, true
	}
	var r struct {
		StopReason *string `json:"stop_reason"`
	}
	if json.Unmarshal(body, &r) != nil || r.StopReason == nil {
		return "", false
	}
	return *r.StopReason, true
}

// responsesFinish reads a Responses answer's status as a finish reason:
// completed is stop, or tool_calls when it calls a function; incomplete is
// a length cut; anything else is not a whole answer.
func responsesFinish(body []byte) (string, bool) {
	var r struct {
		Status string `json:"status"`
		Output []struct {
			Type string `json:"type"`
		} `json:"output"`
	}
	if json.Unmarshal(body, &r) != nil {
		return "", false
	}
	switch r.Status {
	case "completed":
		for _, o := range r.Output {
			if o.Type == "function_call" {
				return chat.FinishToolCalls, true
			}
		}
		return chat.FinishStop, true
	case "incomplete":
		return chat.FinishLength, true
	}
	return "", false
}

// Storable reports whether an answer that finished for reason may be
// stored: whole answers always, answers cut at the token limit and answers
// that call tools only when the policy allows.
func Storable(reason string, allowLength, allowTools bool) bool {
	switch reason {
	case chat.FinishStop, messages.StopEndTurn, messages.StopSequence:
		return true
	case chat.FinishLength, messages.StopMaxTokens:
		return allowLength
	case chat.FinishToolCalls, messages.StopToolUse, "function_call":
		return allowTools
	}
	return false
}
