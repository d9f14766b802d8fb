package anthropic

import (
	"bytes"
	"strconv"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/rawjson"
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
	if out, ok, err := t.fastEvent(dst, ev.Data); ok {
		return out, err
	}
	return t.decodeEvent(dst, ev)
}

// decodeEvent translates any event, decoding it whole.
func (t *FromOpenAI) decodeEvent(dst []byte, ev sse.Event) ([]byte, error) {
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
		return t.start(dst, rawjson.Text{S: e.Message.ID}, rawjson.Text{S: e.Message.Model}, &e.Message.Usage), nil
	case messages.EventContentBlockStart:
		if e.Index == nil || e.ContentBlock == nil {
			return dst, errMalformedStart
		}
		b := e.ContentBlock
		start := blockStart{typ: b.Type, text: rawjson.Text{S: b.Text}, data: rawjson.Text{S: b.Data}, id: rawjson.Text{S: b.ID}, name: rawjson.Text{S: b.Name}}
		if b.Thinking != nil {
			start.thinking.S = *b.Thinking
		}
		return t.blockStart(dst, *e.Index, &start)
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
func (t *FromOpenAI) start(dst []byte, id, model rawjson.Text, u *messages.Usage) []byte {
	t.started = true
	t.usage, t.reported = *u, true
	t.head = append(t.head[:0], `{"id":`...)
	t.head = id.AppendJSON(t.head, true)
	t.head = append(t.head, `,"object":"chat.completion.chunk","created":`...)
	t.head = strconv.AppendInt(t.head, t.now().Unix(), 10)
	t.head = append(t.head, `,"model":`...)
	t.head = model.AppendJSON(t.head, true)
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

// blockStart is what content_block_start's block holds that the
// translation uses.
type blockStart struct {
	typ                            string
	text, thinking, data, id, name rawjson.Text
}

func (t *FromOpenAI) blockStart(dst []byte, index int64, b *blockStart) ([]byte, error) {
	if !t.started || index < 0 || index >= maxBlocks {
		return dst, errMalformedStart
	}
	delta := t.scratch[:0]
	defer func() { t.scratch = delta }()
	switch b.typ {
	case messages.BlockText:
		t.setBlock(index, blockText, -1)
		if b.text.Empty() {
			return dst, nil
		}
		delta = b.text.AppendJSON(append(delta, `{"content":`...), true)
	case messages.BlockThinking:
		t.setBlock(index, blockThinking, -1)
		if b.thinking.Empty() {
			return dst, nil
		}
		delta = b.thinking.AppendJSON(append(delta, `{"reasoning_content":`...), true)
	case messages.BlockRedactedThinking:
		t.setBlock(index, blockRedacted, -1)
		delta = b.data.AppendJSON(append(delta, `{"redacted_reasoning":[`...), true)
		delta = append(delta, ']')
	case messages.BlockToolUse:
		idx := t.tools
		t.tools++
		t.setBlock(index, blockToolUse, idx)
		delta = append(delta, `{"tool_calls":[{"index":`...)
		delta = strconv.AppendInt(delta, int64(idx), 10)
		delta = b.id.AppendJSON(append(delta, `,"id":`...), true)
		delta = b.name.AppendJSON(append(delta, `,"type":"function","function":{"name":`...), true)
		delta = append(delta, `,"arguments":""}}]`...)
	default:
		t.setBlock(index, blockOther, -1)
		t.skipped++
		return dst, nil
	}
	delta = append(delta, '}')
	return t.chunkBytes(dst, delta), nil
}

func (t *FromOpenAI) blockDelta(dst []byte, e *messages.Event) ([]byte, error) {
	if e.Index == nil || e.Delta == nil {
		return dst, errMalformedDelta
	}
	d := e.Delta
	var v rawjson.Text
	switch d.Type {
	case messages.DeltaText:
		v.S = d.Text
	case messages.DeltaThinking:
		v.S = d.Thinking
	case messages.DeltaSignature:
		v.S = d.Signature
	case messages.DeltaInputJSON:
		if d.PartialJSON != nil {
			v.S = *d.PartialJSON
		}
	}
	return t.appendDelta(dst, *e.Index, d.Type, v)
}

var errMalformedDelta = api.Errorf(api.ErrUpstream, "the anthropic backend sent a malformed content_block_delta")

// appendDelta appends the chunk for a delta of type typ to content block
// index.
func (t *FromOpenAI) appendDelta(dst []byte, index int64, typ string, v rawjson.Text) ([]byte, error) {
	if !t.started || index < 0 || typ == "" {
		return dst, errMalformedDelta
	}
	kind, tool := blockOther, -1
	if index < int64(len(t.blocks)) {
		kind, tool = t.blocks[index], t.toolIdx[index]
	}
	delta := t.scratch[:0]
	defer func() { t.scratch = delta }()
	switch {
	case typ == messages.DeltaText && kind == blockText:
		if v.Empty() {
			return dst, nil
		}
		delta = v.AppendJSON(append(delta, `{"content":`...), true)
	case typ == messages.DeltaThinking && kind == blockThinking:
		if v.Empty() {
			return dst, nil
		}
		delta = v.AppendJSON(append(delta, `{"reasoning_content":`...), true)
	case typ == messages.DeltaSignature && kind == blockThinking:
		delta = v.AppendJSON(append(delta, `{"reasoning_signature":`...), true)
	case typ == messages.DeltaInputJSON && kind == blockToolUse:
		if v.Empty() {
			return dst, nil
		}
		delta = append(delta, `{"tool_calls":[{"index":`...)
		delta = strconv.AppendInt(delta, int64(tool), 10)
		delta = v.AppendJSON(append(delta, `,"function":{"arguments":`...), true)
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

// fastEvent translates the events of an ordinary stream without
// reflection: one validating pass, then a scan that reads the few members
// the translation uses, and strings that go from event to chunk without
// being decoded when they have no escapes. ok is false, with dst untouched,
// for an event it does not read (error events, unknown kinds) and for one
// not shaped exactly as Anthropic sends it: a member it does not know, a
// repeated one, a key in another case or with escapes, a value of another
// JSON type, a number that is not plain digits. The caller then decodes the
// event whole, so both ways translate alike (FuzzFastEvent holds them to
// it).
func (t *FromOpenAI) fastEvent(dst, data []byte) (out []byte, ok bool, err error) {
	var ev [len(eventShape)][]byte
	if !rawjson.ReadFields(data, false, eventShape[:], ev[:]) {
		return dst, false, nil
	}
	typ, index, delta, message, block, usage := ev[0], ev[1], ev[2], ev[3], ev[4], ev[5]
	only := func(present ...[]byte) bool { // the members other than type present are these
		n := 0
		for _, v := range ev[1:] {
			if v != nil {
				n++
			}
		}
		for _, v := range present {
			if v == nil {
				return false
			}
			n--
		}
		return n == 0
	}
	switch string(typ) {
	case `"content_block_delta"`:
		if !only(index, delta) {
			return dst, false, nil
		}
		return t.fastDelta(dst, rawjson.UintOf(index), delta)
	case `"content_block_stop"`:
		return dst, only(index), nil
	case `"ping"`:
		return dst, only(), nil
	case `"message_stop"`:
		if !only() {
			return dst, false, nil
		}
		return t.messageStop(dst), true, nil
	case `"content_block_start"`:
		if !only(index, block) {
			return dst, false, nil
		}
		return t.fastBlockStart(dst, rawjson.UintOf(index), block)
	case `"message_start"`:
		if !only(message) {
			return dst, false, nil
		}
		var m [len(messageShape)][]byte
		var u messages.Usage
		if !rawjson.ReadFields(message, true, messageShape[:], m[:]) || m[7] == nil || !readUsage(m[7], &u) {
			return dst, false, nil
		}
		return t.start(dst, rawjson.Text{Lit: m[0]}, rawjson.Text{Lit: m[3]}, &u), true, nil
	case `"message_delta"`:
		if delta == nil || !only(delta) && !only(delta, usage) {
			return dst, false, nil
		}
		var d [len(messageDeltaShape)][]byte
		if !rawjson.ReadFields(delta, true, messageDeltaShape[:], d[:]) {
			return dst, false, nil
		}
		var up *messages.Usage
		if usage != nil {
			up = new(messages.Usage)
			if !readUsage(usage, up) {
				return dst, false, nil
			}
		}
		var stop *string
		if d[0] != nil && d[0][0] == '"' {
			if bytes.IndexByte(d[0], '\\') >= 0 {
				return dst, false, nil
			}
			s := stopReasonName(d[0][1 : len(d[0])-1])
			stop = &s
		}
		return t.messageDelta(dst, up, stop), true, nil
	}
	return dst, false, nil
}

// fastDelta reads content_block_delta's delta.
func (t *FromOpenAI) fastDelta(dst []byte, index int64, delta []byte) ([]byte, bool, error) {
	var d [len(deltaShape)][]byte
	if !rawjson.ReadFields(delta, true, deltaShape[:], d[:]) || d[0] == nil {
		return dst, false, nil
	}
	typ, ok := plainString(d[0], deltaTypes[:])
	if !ok {
		return dst, false, nil
	}
	// The member holding the value, by delta type: d[1+i] for deltaTypes[i].
	v := rawjson.Text{Lit: []byte(`""`)}
	for i, n := range deltaTypes {
		if n == typ {
			if d[1+i] != nil {
				v.Lit = d[1+i]
			}
		} else if d[1+i] != nil {
			return dst, false, nil // a member another delta type would hold
		}
	}
	out, err := t.appendDelta(dst, index, typ, v)
	return out, true, err
}

// fastBlockStart reads content_block_start's block.
func (t *FromOpenAI) fastBlockStart(dst []byte, index int64, block []byte) ([]byte, bool, error) {
	var b [len(blockShape)][]byte
	if !rawjson.ReadFields(block, true, blockShape[:], b[:]) || b[0] == nil {
		return dst, false, nil
	}
	typ, ok := plainString(b[0], blockTypes[:])
	if !ok {
		return dst, false, nil
	}
	lit := func(v []byte) rawjson.Text {
		if v == nil {
			return rawjson.Text{Lit: []byte(`""`)}
		}
		return rawjson.Text{Lit: v}
	}
	start := blockStart{typ: typ, text: lit(b[1]), thinking: lit(b[2]), data: lit(b[4]), id: lit(b[5]), name: lit(b[6])}
	out, err := t.blockStart(dst, index, &start)
	return out, true, err
}

// The shapes fastEvent reads: each member's key and the JSON type its value
// must have. A slot's position is its index in the values read.
var (
	eventShape = [...]rawjson.Field{{Key: "type", Kind: rawjson.String}, {Key: "index", Kind: rawjson.Uint}, {Key: "delta", Kind: rawjson.Object},
		{Key: "message", Kind: rawjson.Object}, {Key: "content_block", Kind: rawjson.Object}, {Key: "usage", Kind: rawjson.Object}}
	deltaShape = [...]rawjson.Field{{Key: "type", Kind: rawjson.String}, // then one member per deltaTypes entry
		{Key: "text", Kind: rawjson.String}, {Key: "thinking", Kind: rawjson.String}, {Key: "signature", Kind: rawjson.String}, {Key: "partial_json", Kind: rawjson.String}}
	deltaTypes = [...]string{messages.DeltaText, messages.DeltaThinking, messages.DeltaSignature, messages.DeltaInputJSON}
	blockShape = [...]rawjson.Field{{Key: "type", Kind: rawjson.String}, {Key: "text", Kind: rawjson.String}, {Key: "thinking", Kind: rawjson.String}, {Key: "signature", Kind: rawjson.String},
		{Key: "data", Kind: rawjson.String}, {Key: "id", Kind: rawjson.String}, {Key: "name", Kind: rawjson.String}, {Key: "input", Kind: rawjson.Object}}
	blockTypes   = [...]string{messages.BlockText, messages.BlockThinking, messages.BlockRedactedThinking, messages.BlockToolUse}
	messageShape = [...]rawjson.Field{{Key: "id", Kind: rawjson.String}, {Key: "type", Kind: rawjson.String}, {Key: "role", Kind: rawjson.String}, {Key: "model", Kind: rawjson.String},
		{Key: "content", Kind: rawjson.EmptyArray}, {Key: "stop_reason", Kind: rawjson.NullOrString}, {Key: "stop_sequence", Kind: rawjson.NullOrString}, {Key: "usage", Kind: rawjson.Object}}
	messageDeltaShape = [...]rawjson.Field{{Key: "stop_reason", Kind: rawjson.NullOrString}, {Key: "stop_sequence", Kind: rawjson.NullOrString}}
	usageShape        = [...]rawjson.Field{{Key: "input_tokens", Kind: rawjson.Uint}, {Key: "output_tokens", Kind: rawjson.Uint},
		{Key: "cache_creation_input_tokens", Kind: rawjson.Uint}, {Key: "cache_read_input_tokens", Kind: rawjson.Uint},
		{Key: "service_tier", Kind: rawjson.String}, {Key: "server_tool_use", Kind: rawjson.Any}, {Key: "cache_creation", Kind: rawjson.Any}}
	stopReasons = [...]string{messages.StopEndTurn, messages.StopMaxTokens, messages.StopSequence, messages.StopToolUse,
		messages.StopPauseTurn, messages.StopRefusal, messages.StopContextLimit}
)

// readUsage reads a usage object; false when it is not plainly shaped.
func readUsage(raw []byte, u *messages.Usage) bool {
	var v [len(usageShape)][]byte
	if !rawjson.ReadFields(raw, true, usageShape[:], v[:]) {
		return false
	}
	u.InputTokens, u.OutputTokens = rawjson.UintOf(v[0]), rawjson.UintOf(v[1])
	u.CacheCreationInputTokens, u.CacheReadInputTokens = rawjson.UintOf(v[2]), rawjson.UintOf(v[3])
	return true
}

// stopReasonName returns the constant for a known stop reason, so that no
// string is allocated for it.
func stopReasonName(b []byte) string {
	for _, n := range stopReasons {
		if string(b) == n {
			return n
		}
	}
	return string(b)
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
