package anthropic

import (
	"strconv"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// StreamEvent translates one Anthropic stream event into chat completion
// chunks. Thinking arrives as reasoning_content deltas and its signature
// as one reasoning_signature delta; each tool_use block opens a tool call
// (index, id, name), its input_json_delta fragments follow as arguments.
func (t *FromOpenAI) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	if ev.Data == nil {
		return dst, nil // a comment or keep-alive
	}
	// The event decodes into values the translator keeps, so the index and
	// delta of each event cost no allocation; absent ones stay -1 and empty.
	t.idx, t.delta = -1, messages.EventDelta{}
	t.ev = messages.Event{Index: &t.idx, Delta: &t.delta}
	e := &t.ev
	if err := json.Unmarshal(ev.Data, e); err != nil {
		return dst, api.BadUpstreamBody(preset.Anthropic, "a stream event")
	}
	if e.Type == "" {
		e.Type = ev.Type
	}
	switch e.Type {
	case messages.EventMessageStart:
		if e.Message == nil {
			return dst, api.Errorf(api.ErrUpstream, "the anthropic backend sent message_start without a message")
		}
		return t.start(dst, e.Message.ID, e.Message.Model, &e.Message.Usage), nil
	case messages.EventContentBlockStart:
		if e.Index == nil || e.ContentBlock == nil {
			return dst, errMalformedStart
		}
		return t.blockStart(dst, *e.Index, e.ContentBlock)
	case messages.EventContentBlockDelta:
		return t.blockDelta(dst, e)
	case messages.EventContentBlockStop, messages.EventPing:
		return dst, nil
	case messages.EventMessageDelta:
		var stop *string
		if e.Delta != nil {
			stop = e.Delta.StopReason
		}
		return t.messageDelta(dst, e.Usage, stop), nil
	case messages.EventMessageStop:
		return t.messageStop(dst), nil
	case messages.EventError:
		return dst, eventError(e.Error)
	}
	t.skipped++
	return dst, nil
}

// messageStop ends the message, with the usage chunk when the client asked
// for one.
func (t *FromOpenAI) messageStop(dst []byte) []byte {
	t.stopped = true
	if t.includeUsage && t.started {
		u, _ := json.Marshal(chat.UsageOf(usageOf(&t.usage)))
		b := append(append([]byte(nil), t.head...), `,"choices":[],"usage":`...)
		b = append(append(b, u...), '}')
		dst = sse.AppendEvent(dst, "", b)
	}
	return dst
}

// start begins the answer: the role chunk, and the head every chunk
// repeats.
func (t *FromOpenAI) start(dst []byte, id, model string, u *messages.Usage) []byte {
	t.started = true
	t.usage, t.reported = *u, true
	t.head = append(t.head[:0], `{"id":`...)
	t.head = appendString(t.head, id)
	t.head = append(t.head, `,"object":"chat.completion.chunk","created":`...)
	t.head = strconv.AppendInt(t.head, t.now().Unix(), 10)
	t.head = append(t.head, `,"model":`...)
	t.head = appendString(t.head, model)
	t.prefix = append(append(t.prefix[:0], t.head...), `,"choices":[{"index":0,"delta":`...)
	return t.chunk(dst, `{"role":"assistant","content":""}`, "")
}

// messageDelta takes message_delta's usage (nil when absent) and stop
// reason (nil when absent or null): the finish chunk.
func (t *FromOpenAI) messageDelta(dst []byte, u *messages.Usage, stop *string) []byte {
	if u != nil {
		mergeUsage(&t.usage, u)
		t.reported = true
	}
	if stop != nil {
		return t.chunk(dst, `{}`, finishReason(*stop))
	}
	return dst
}

// chunk appends one chunk event with the given delta object and finish
// reason (none when empty).
func (t *FromOpenAI) chunk(dst []byte, delta, finish string) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, t.prefix...)
	dst = append(dst, delta...)
	if finish == "" {
		dst = append(dst, `,"finish_reason":null}]}`...)
	} else {
		dst = append(dst, `,"finish_reason":"`...)
		dst = append(dst, finish...)
		dst = append(dst, `"}]}`...)
	}
	return append(dst, "\n\n"...)
}

func (t *FromOpenAI) chunkBytes(dst []byte, delta []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, t.prefix...)
	dst = append(dst, delta...)
	dst = append(dst, `,"finish_reason":null}]}`...)
	return append(dst, "\n\n"...)
}

func (t *FromOpenAI) setBlock(i int64, k blockKind, tool int) {
	for int64(len(t.blocks)) <= i {
		t.blocks = append(t.blocks, blockOther)
		t.toolIdx = append(t.toolIdx, -1)
	}
	t.blocks[i], t.toolIdx[i] = k, tool
}

var errMalformedStart = api.Errorf(api.ErrUpstream, "the anthropic backend sent a malformed content_block_start")

// blockStart translates content_block_start: the chunk that opens what the
// block holds, if it holds anything yet.
func (t *FromOpenAI) blockStart(dst []byte, index int64, b *messages.Block) ([]byte, error) {
	if !t.started || index < 0 || index >= maxBlocks {
		return dst, errMalformedStart
	}
	delta := t.scratch[:0]
	defer func() { t.scratch = delta }()
	switch b.Type {
	case messages.BlockText:
		t.setBlock(index, blockText, -1)
		if b.Text == "" {
			return dst, nil
		}
		delta = appendString(append(delta, `{"content":`...), b.Text)
	case messages.BlockThinking:
		t.setBlock(index, blockThinking, -1)
		if b.Thinking == nil || *b.Thinking == "" {
			return dst, nil
		}
		delta = appendString(append(delta, `{"reasoning_content":`...), *b.Thinking)
	case messages.BlockRedactedThinking:
		t.setBlock(index, blockRedacted, -1)
		delta = appendString(append(delta, `{"redacted_reasoning":[`...), b.Data)
		delta = append(delta, ']')
	case messages.BlockToolUse:
		idx := t.tools
		t.tools++
		t.setBlock(index, blockToolUse, idx)
		delta = append(delta, `{"tool_calls":[{"index":`...)
		delta = strconv.AppendInt(delta, int64(idx), 10)
		delta = appendString(append(delta, `,"id":`...), b.ID)
		delta = appendString(append(delta, `,"type":"function","function":{"name":`...), b.Name)
		delta = append(delta, `,"arguments":""}}]`...)
	default:
		t.setBlock(index, blockOther, -1)
		t.skipped++
		return dst, nil
	}
	delta = append(delta, '}')
	return t.chunkBytes(dst, delta), nil
}

var errMalformedDelta = api.Errorf(api.ErrUpstream, "the anthropic backend sent a malformed content_block_delta")

// blockDelta translates content_block_delta: the chunk that carries the
// delta to the content block it names.
func (t *FromOpenAI) blockDelta(dst []byte, e *messages.Event) ([]byte, error) {
	if e.Index == nil || e.Delta == nil {
		return dst, errMalformedDelta
	}
	d, index, typ := e.Delta, *e.Index, e.Delta.Type
	if !t.started || index < 0 || typ == "" {
		return dst, errMalformedDelta
	}
	var v string
	switch typ {
	case messages.DeltaText:
		v = d.Text
	case messages.DeltaThinking:
		v = d.Thinking
	case messages.DeltaSignature:
		v = d.Signature
	case messages.DeltaInputJSON:
		if d.PartialJSON != nil {
			v = *d.PartialJSON
		}
	}
	kind, tool := blockOther, -1
	if index < int64(len(t.blocks)) {
		kind, tool = t.blocks[index], t.toolIdx[index]
	}
	delta := t.scratch[:0]
	defer func() { t.scratch = delta }()
	switch {
	case typ == messages.DeltaText && kind == blockText:
		if v == "" {
			return dst, nil
		}
		delta = appendString(append(delta, `{"content":`...), v)
	case typ == messages.DeltaThinking && kind == blockThinking:
		if v == "" {
			return dst, nil
		}
		delta = appendString(append(delta, `{"reasoning_content":`...), v)
	case typ == messages.DeltaSignature && kind == blockThinking:
		delta = appendString(append(delta, `{"reasoning_signature":`...), v)
	case typ == messages.DeltaInputJSON && kind == blockToolUse:
		if v == "" {
			return dst, nil
		}
		delta = append(delta, `{"tool_calls":[{"index":`...)
		delta = strconv.AppendInt(delta, int64(tool), 10)
		delta = appendString(append(delta, `,"function":{"arguments":`...), v)
		delta = append(delta, `}}]`...)
	default:
		// citations_delta (the OpenAI path never asks for citations), or a
		// delta for a block kind this version does not translate.
		t.skipped++
		return dst, nil
	}
	delta = append(delta, '}')
	return t.chunkBytes(dst, delta), nil
}

// StreamEnd closes the client's stream with "data: [DONE]" after
// message_stop; a stream that ended before it was cut.
func (t *FromOpenAI) StreamEnd(dst []byte) ([]byte, error) {
	if !t.stopped {
		return dst, api.Errorf(api.ErrUpstream, "the anthropic stream ended before message_stop")
	}
	return append(dst, "data: [DONE]\n\n"...), nil
}

// StreamError ends the stream with OpenAI's error event.
func (t *FromOpenAI) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

// SkippedEvents counts the upstream events and content blocks not
// translated; the gateway puts the count on the request's log line.
func (t *FromOpenAI) SkippedEvents() int { return t.skipped }
