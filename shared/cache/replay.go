package cache

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/rawjson"
	"github.com/sluicegw/sluice/shared/sse"
)

// Fresh is what makes a replayed answer a new one: its id and, in
// OpenAI's protocol, its creation time.
type Fresh struct {
	ID      string
	Created time.Time
}

// Plain is the stored answer as a plain body, byte for byte but for its
// id and creation time.
func Plain(p Protocol, e *Entry, f Fresh) []byte {
	out := setMember(e.Body, "id", rawjson.AppendString(nil, f.ID, false))
	switch p {
	case ChatCompletions:
		out = setMember(out, "created", strconv.AppendInt(nil, f.Created.Unix(), 10))
	case Responses:
		out = setMember(out, "created_at", strconv.AppendInt(nil, f.Created.Unix(), 10))
	}
	return out
}

// setMember returns body with the value of its top-level member key
// replaced by v; body is not changed.
func setMember(body []byte, key string, v []byte) []byte {
	start, end, ok := rawjson.MemberSpan(body, key)
	if !ok {
		return body
	}
	out := make([]byte, 0, len(body)-(end-start)+len(v))
	out = append(out, body[:start]...)
	out = append(out, v...)
	return append(out, body[end:]...)
}

// Stream appends the stored answer to dst as the stream a live answer
// would have been, in the client's protocol: OpenAI chat chunks (role,
// content in several deltas, tool-call deltas, finish reason, a usage
// chunk when includeUsage, [DONE]), Anthropic's message_start …
// message_stop, or the Responses API's response.created …
// response.completed.
func Stream(dst []byte, p Protocol, e *Entry, f Fresh, includeUsage bool) ([]byte, error) {
	switch p {
	case ChatCompletions:
		return chatStream(dst, e, f, includeUsage)
	case Messages:
		return messagesStream(dst, e, f)
	case Responses:
		return responsesStream(dst, e, f)
	}
	return dst, fmt.Errorf("cache: no stream replay for %s", p)
}

// pieceBytes is about how long each replayed delta is: several deltas per
// answer, as a live stream has, without one event per character.
const pieceBytes = 24

// pieces splits s into deltas of about pieceBytes, cut after a space where
// one is near and never inside a UTF-8 sequence.
func pieces(s string) []string {
	var out []string
	for len(s) > pieceBytes {
		cut := pieceBytes
		for i := pieceBytes; i < len(s) && i < 2*pieceBytes; i++ {
			if s[i-1] == ' ' {
				cut = i
				break
			}
		}
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" || out == nil {
		out = append(out, s)
	}
	return out
}

func chatStream(dst []byte, e *Entry, f Fresh, includeUsage bool) ([]byte, error) {
	var r chat.Response
	if err := json.Unmarshal(e.Body, &r); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	base := chat.Chunk{ID: f.ID, Object: "chat.completion.chunk", Created: f.Created.Unix(), Model: r.Model,
		SystemFingerprint: r.SystemFingerprint}
	var err error
	emit := func(c chat.ChunkChoice) {
		if err != nil {
			return
		}
		ch := base
		ch.Choices = []chat.ChunkChoice{c}
		var b []byte
		if b, err = json.Marshal(ch); err == nil {
			dst = sse.AppendEvent(dst, "", b)
		}
	}
	for _, c := range r.Choices {
		empty := ""
		emit(chat.ChunkChoice{Index: c.Index, Delta: chat.Delta{Role: chat.RoleAssistant, Content: &empty}})
		m := &c.Message
		if m.ReasoningContent != "" {
			for _, s := range pieces(m.ReasoningContent) {
				emit(chat.ChunkChoice{Index: c.Index, Delta: chat.Delta{ReasoningContent: &s}})
			}
		}
		if text := m.Content.String(); text != "" {
			for _, s := range pieces(text) {
				emit(chat.ChunkChoice{Index: c.Index, Delta: chat.Delta{Content: &s}})
			}
		}
		if m.Refusal != "" {
			for _, s := range pieces(m.Refusal) {
				emit(chat.ChunkChoice{Index: c.Index, Delta: chat.Delta{Refusal: &s}})
			}
		}
		for i, tc := range m.ToolCalls {
			idx := int64(i)
			emit(chat.ChunkChoice{Index: c.Index, Delta: chat.Delta{ToolCalls: []chat.ToolCall{{Index: &idx, ID: tc.ID,
				Type: "function", Function: chat.ToolCallFunction{Name: tc.Function.Name}}}}})
			for _, s := range pieces(tc.Function.Arguments) {
				emit(chat.ChunkChoice{Index: c.Index, Delta: chat.Delta{ToolCalls: []chat.ToolCall{{Index: &idx,
					Function: chat.ToolCallFunction{Arguments: s}}}}})
			}
		}
		finish := c.FinishReason
		emit(chat.ChunkChoice{Index: c.Index, FinishReason: &finish})
	}
	if err != nil {
		return dst, err
	}
	if includeUsage {
		u := base
		u.Choices = []chat.ChunkChoice{}
		u.Usage = r.Usage
		if u.Usage == nil {
			u.Usage = chat.UsageOf(e.Usage)
		}
		b, err := json.Marshal(u)
		if err != nil {
			return dst, err
		}
		dst = sse.AppendEvent(dst, "", b)
	}
	return sse.AppendEvent(dst, "", []byte("[DONE]")), nil
}

func messagesStream(dst []byte, e *Entry, f Fresh) ([]byte, error) {
	var r messages.Response
	if err := json.Unmarshal(e.Body, &r); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	var err error
	emit := func(ev messages.Event) {
		if err != nil {
			return
		}
		var b []byte
		if b, err = json.Marshal(ev); err == nil {
			dst = sse.AppendEvent(dst, ev.Type, b)
		}
	}
	start := r
	start.ID = f.ID
	start.Content = []messages.Block{}
	start.StopReason, start.StopSequence = nil, nil
	start.Usage.OutputTokens = min(1, r.Usage.OutputTokens)
	emit(messages.Event{Type: messages.EventMessageStart, Message: &start})
	for i, b := range r.Content {
		idx := int64(i)
		open := b
		var deltas []messages.EventDelta
		switch b.Type {
		case messages.BlockText:
			open.Text, open.Citations = "", nil
			for _, s := range pieces(b.Text) {
				deltas = append(deltas, messages.EventDelta{Type: messages.DeltaText, Text: s})
			}
		case messages.BlockToolUse, messages.BlockServerToolUse:
			open.Input = json.RawMessage("{}")
			if len(b.Input) > 0 {
				for _, s := range pieces(string(b.Input)) {
					deltas = append(deltas, messages.EventDelta{Type: messages.DeltaInputJSON, PartialJSON: &s})
				}
			}
		case messages.BlockThinking:
			empty := ""
			open.Thinking, open.Signature = &empty, &empty
			if b.Thinking != nil {
				for _, s := range pieces(*b.Thinking) {
					deltas = append(deltas, messages.EventDelta{Type: messages.DeltaThinking, Thinking: s})
				}
			}
			if b.Signature != nil {
				deltas = append(deltas, messages.EventDelta{Type: messages.DeltaSignature, Signature: *b.Signature})
			}
		}
		emit(messages.Event{Type: messages.EventContentBlockStart, Index: &idx, ContentBlock: &open})
		for j := range deltas {
			emit(messages.Event{Type: messages.EventContentBlockDelta, Index: &idx, Delta: &deltas[j]})
		}
		emit(messages.Event{Type: messages.EventContentBlockStop, Index: &idx})
	}
	u := r.Usage
	emit(messages.Event{Type: messages.EventMessageDelta,
		Delta: &messages.EventDelta{StopReason: r.StopReason, StopSequence: r.StopSequence}, Usage: &u})
	emit(messages.Event{Type: messages.EventMessageStop})
	return dst, err
}
