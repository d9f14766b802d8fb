package openai

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/sse"
)

// streamState is where a translated stream stands.
type streamState struct {
	started  bool   // message_start sent
	open     int    // index of the open content block, -1 when none
	openKind string // its type: text, thinking, tool_use
	next     int    // index of the next content block
	tools    []toolBlock
	finish   string // the upstream's finish_reason, once seen
	stopSeq  string // the stop sequence that matched, when the backend says
	refusal  bool
	done     bool // message_stop sent
}

// toolBlock ties a streamed OpenAI tool call to its Anthropic block.
type toolBlock struct {
	index int64 // the tool call's index in OpenAI deltas
	block int
	args  []byte // the arguments so far
	open  bool   // started and not yet stopped
}

// wireChunk is a streamed chunk with the fields only some servers send.
type wireChunk struct {
	ID      string          `json:"id"`
	Choices []chunkChoice   `json:"choices"`
	Usage   *wireUsage      `json:"usage"`
	Error   json.RawMessage `json:"error"`
}

type chunkChoice struct {
	Index        int64           `json:"index"`
	Delta        chunkDelta      `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
	StopReason   json.RawMessage `json:"stop_reason"`
}

type chunkDelta struct {
	chat.Delta
	Reasoning *string `json:"reasoning"`
}

// StreamEvent translates one chunk into the Anthropic events it makes.
func (t *fromAnthropic) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	if ev.IsComment() {
		return dst, nil // keep-alives: nothing to say
	}
	if ev.Data == nil || (ev.Type != "" && ev.Type != "message") {
		if ev.Type == "error" {
			return dst, streamError(ev.Data)
		}
		t.skipped++
		return dst, nil
	}
	if t.st.done {
		t.skipped++
		return dst, nil
	}
	if bytes.Equal(bytes.TrimSpace(ev.Data), []byte("[DONE]")) {
		return t.end(dst), nil
	}
	return t.translateChunk(dst, ev.Data)
}

// translateChunk translates one chunk into the Anthropic events it makes.
func (t *fromAnthropic) translateChunk(dst, data []byte) ([]byte, error) {
	var c wireChunk
	if err := json.Unmarshal(data, &c); err != nil {
		return dst, api.BadUpstreamBody(providerName, "a stream event")
	}
	if len(c.Error) > 0 && string(c.Error) != "null" {
		return dst, streamError(data)
	}
	if !t.st.started {
		dst = t.start(dst, c.ID)
	}
	if c.Usage != nil {
		t.usage = c.Usage.api()
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue // Sluice never asks for n > 1
		}
		d := &ch.Delta
		r := d.ReasoningContent
		if r == nil {
			r = d.Reasoning
		}
		dst = t.text(dst, &textDelta{reasoning: strOf(r), signature: d.ReasoningSignature,
			redacted: d.RedactedReasoning, content: strOf(d.Content), refusal: strOf(d.Refusal)})
		for _, tc := range d.ToolCalls {
			var idx int64
			if tc.Index != nil {
				idx = *tc.Index
			}
			dst = t.toolDelta(dst, idx, tc.ID, tc.Function.Name, tc.Function.Arguments)
		}
		if ch.FinishReason != nil {
			dst = t.finishDelta(dst, *ch.FinishReason, ch.StopReason)
		}
	}
	return dst, nil
}

// textDelta is what a choice's delta says besides its tool calls.
type textDelta struct {
	reasoning, signature, content, refusal string
	redacted                               []string
}

// text translates a choice's delta but for its tool calls, in the order
// a whole message has them: thinking and its signature, redacted thinking,
// text, refusal.
func (t *fromAnthropic) text(dst []byte, d *textDelta) []byte {
	if d.reasoning != "" && !t.omitThinking {
		dst = t.openBlock(dst, messages.BlockThinking)
		dst = t.delta(dst, "thinking_delta", "thinking", d.reasoning)
	}
	if d.signature != "" {
		dst = t.openBlock(dst, messages.BlockThinking)
		dst = t.delta(dst, "signature_delta", "signature", d.signature)
	}
	for _, data := range d.redacted {
		dst = t.closeAll(dst)
		t.buf = append(t.buf[:0], `{"type":"redacted_thinking","data":`...)
		t.buf = appendString(t.buf, data)
		t.buf = append(t.buf, '}')
		dst = t.startBlock(dst, t.buf, messages.BlockRedactedThinking)
		dst = t.closeBlock(dst)
	}
	if d.content != "" {
		dst = t.openBlock(dst, messages.BlockText)
		dst = t.delta(dst, "text_delta", "text", d.content)
	}
	if d.refusal != "" {
		t.st.refusal = true
		dst = t.openBlock(dst, messages.BlockText)
		dst = t.delta(dst, "text_delta", "text", d.refusal)
	}
	return dst
}

// finishDelta takes a choice's finish_reason (none when empty) and the
// stop_reason vLLM sends with it: the open blocks close.
func (t *fromAnthropic) finishDelta(dst []byte, finish string, stopReason json.RawMessage) []byte {
	if finish == "" {
		return dst
	}
	t.st.finish = finish
	if len(t.st.tools) > 0 && t.st.finish == chat.FinishStop {
		t.st.finish = chat.FinishToolCalls
	}
	if s := t.matchedStop(stopReason); s != "" {
		t.st.stopSeq = s
	}
	return t.closeAll(dst)
}

// toolDelta opens a tool_use block for a call seen first, then sends its
// argument text as input_json_delta.
func (t *fromAnthropic) toolDelta(dst []byte, idx int64, id, name, args string) []byte {
	var tb *toolBlock
	for i := range t.st.tools {
		if t.st.tools[i].index == idx {
			tb = &t.st.tools[i]
		}
	}
	if tb == nil {
		// OpenAI sends one call's arguments whole before the next call
		// starts, so the open call is done: close it. A call whose
		// arguments are not yet whole JSON stays open, and the deltas
		// of both interleave, as the protocol allows.
		if prev := t.openTool(); prev == nil || json.Valid(prev.args) {
			dst = t.closeBlock(dst)
		}
		t.st.tools = append(t.st.tools, toolBlock{index: idx, block: t.st.next, open: true})
		tb = &t.st.tools[len(t.st.tools)-1]
		t.buf = append(t.buf[:0], `{"type":"tool_use","id":`...)
		t.buf = appendString(t.buf, id)
		t.buf = append(t.buf, `,"name":`...)
		t.buf = appendString(t.buf, name)
		t.buf = append(t.buf, `,"input":{}}`...)
		dst = t.startBlock(dst, t.buf, messages.BlockToolUse)
	}
	if args == "" {
		return dst
	}
	tb.args = append(tb.args, args...)
	t.buf = append(t.buf[:0], `{"type":"content_block_delta","index":`...)
	t.buf = strconv.AppendInt(t.buf, int64(tb.block), 10)
	t.buf = append(t.buf, `,"delta":{"type":"input_json_delta","partial_json":`...)
	t.buf = appendString(t.buf, args)
	t.buf = append(t.buf, `}}`...)
	return sse.AppendEvent(dst, messages.EventContentBlockDelta, t.buf)
}

// strOf is the string p points to; empty when nil.
func strOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (t *fromAnthropic) start(dst []byte, id string) []byte {
	t.st.started = true
	t.buf = append(t.buf[:0], `{"type":"message_start","message":{"id":`...)
	t.buf = appendString(t.buf, messageID(id))
	t.buf = append(t.buf, `,"type":"message","role":"assistant","model":`...)
	t.buf = appendString(t.buf, t.client)
	t.buf = append(t.buf, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`...)
	return sse.AppendEvent(dst, messages.EventMessageStart, t.buf)
}

// openBlock makes sure a block of kind is open, closing another first.
func (t *fromAnthropic) openBlock(dst []byte, kind string) []byte {
	if t.st.open >= 0 && t.st.openKind == kind {
		return dst
	}
	dst = t.closeAll(dst)
	switch kind {
	case messages.BlockThinking:
		t.buf = append(t.buf[:0], `{"type":"thinking","thinking":"","signature":""}`...)
	default:
		t.buf = append(t.buf[:0], `{"type":"text","text":""}`...)
	}
	return t.startBlock(dst, t.buf, kind)
}

// startBlock sends content_block_start for block (the JSON in t.buf) and
// marks it open.
func (t *fromAnthropic) startBlock(dst, block []byte, kind string) []byte {
	var ev []byte
	ev = append(ev, `{"type":"content_block_start","index":`...)
	ev = strconv.AppendInt(ev, int64(t.st.next), 10)
	ev = append(ev, `,"content_block":`...)
	ev = append(ev, block...)
	ev = append(ev, '}')
	t.st.open, t.st.openKind = t.st.next, kind
	t.st.next++
	return sse.AppendEvent(dst, messages.EventContentBlockStart, ev)
}

// openTool is the tool block last started, if it is still open.
func (t *fromAnthropic) openTool() *toolBlock {
	if t.st.openKind != messages.BlockToolUse || len(t.st.tools) == 0 {
		return nil
	}
	return &t.st.tools[len(t.st.tools)-1]
}

// closeAll closes the latest block and any tool block left open by
// interleaved calls.
func (t *fromAnthropic) closeAll(dst []byte) []byte {
	dst = t.closeBlock(dst)
	for i := range t.st.tools {
		if tb := &t.st.tools[i]; tb.open {
			tb.open = false
			t.buf = append(t.buf[:0], `{"type":"content_block_stop","index":`...)
			t.buf = strconv.AppendInt(t.buf, int64(tb.block), 10)
			t.buf = append(t.buf, '}')
			dst = sse.AppendEvent(dst, messages.EventContentBlockStop, t.buf)
		}
	}
	return dst
}

// closeBlock closes the block last started.
func (t *fromAnthropic) closeBlock(dst []byte) []byte {
	if t.st.open < 0 {
		return dst
	}
	if tb := t.openTool(); tb != nil {
		tb.open = false
	}
	t.buf = append(t.buf[:0], `{"type":"content_block_stop","index":`...)
	t.buf = strconv.AppendInt(t.buf, int64(t.st.open), 10)
	t.buf = append(t.buf, '}')
	t.st.open, t.st.openKind = -1, ""
	return sse.AppendEvent(dst, messages.EventContentBlockStop, t.buf)
}

// delta sends a content_block_delta of the open block.
func (t *fromAnthropic) delta(dst []byte, typ, field, text string) []byte {
	t.buf = append(t.buf[:0], `{"type":"content_block_delta","index":`...)
	t.buf = strconv.AppendInt(t.buf, int64(t.st.open), 10)
	t.buf = append(t.buf, `,"delta":{"type":"`...)
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, `","`...)
	t.buf = append(t.buf, field...)
	t.buf = append(t.buf, `":`...)
	t.buf = appendString(t.buf, text)
	t.buf = append(t.buf, `}}`...)
	return sse.AppendEvent(dst, messages.EventContentBlockDelta, t.buf)
}

// end closes what is open and sends message_delta and message_stop.
func (t *fromAnthropic) end(dst []byte) []byte {
	if !t.st.started {
		dst = t.start(dst, "")
	}
	dst = t.closeAll(dst)
	if t.st.finish == "" && len(t.st.tools) > 0 {
		t.st.finish = chat.FinishToolCalls // [DONE] without a finish_reason
	}
	reason, seq := t.stopReason(t.st.finish)
	u := messages.UsageOf(t.usage)
	t.buf = append(t.buf[:0], `{"type":"message_delta","delta":{"stop_reason":"`...)
	t.buf = append(t.buf, reason...)
	t.buf = append(t.buf, `","stop_sequence":`...)
	if seq != nil {
		t.buf = appendString(t.buf, *seq)
	} else {
		t.buf = append(t.buf, "null"...)
	}
	t.buf = append(t.buf, `},"usage":{"input_tokens":`...)
	t.buf = strconv.AppendInt(t.buf, u.InputTokens, 10)
	t.buf = append(t.buf, `,"cache_creation_input_tokens":`...)
	t.buf = strconv.AppendInt(t.buf, u.CacheCreationInputTokens, 10)
	t.buf = append(t.buf, `,"cache_read_input_tokens":`...)
	t.buf = strconv.AppendInt(t.buf, u.CacheReadInputTokens, 10)
	t.buf = append(t.buf, `,"output_tokens":`...)
	t.buf = strconv.AppendInt(t.buf, u.OutputTokens, 10)
	t.buf = append(t.buf, `}}`...)
	dst = sse.AppendEvent(dst, messages.EventMessageDelta, t.buf)
	dst = sse.AppendEvent(dst, messages.EventMessageStop, []byte(`{"type":"message_stop"}`))
	t.st.done = true
	return dst
}

// StreamEnd finishes the client's stream at the upstream's clean end. A
// backend that sent its finish_reason but no "data: [DONE]" has finished;
// one that stopped before its finish_reason was cut.
func (t *fromAnthropic) StreamEnd(dst []byte) ([]byte, error) {
	if t.st.done {
		return dst, nil
	}
	if t.st.finish != "" {
		return t.end(dst), nil
	}
	return dst, api.Errorf(api.ErrUpstream, "the backend stream ended before the message was complete")
}

// StreamError ends the stream with Anthropic's error event; no
// message_stop follows, so clients do not take it for a finished message.
func (t *fromAnthropic) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, messages.EventError, api.AnthropicBody(err))
}

// streamError reads an error object sent mid-stream.
func streamError(data []byte) error {
	e := openAIError(http.StatusBadGateway, data)
	e.Status = 0
	switch {
	case e.Type == "rate_limit_error" || e.Code == "rate_limit_exceeded":
		e.Kind = api.ErrRateLimited
	case e.Code == "context_length_exceeded":
		e.Kind = api.ErrBadRequest
	case e.Type == "server_error" && strings.Contains(e.Message, "overload"):
		e.Kind = api.ErrUnavailable
	}
	withCode(e)
	return e
}
