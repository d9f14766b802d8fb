package openai

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/rawjson"
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
	if out, ok := t.fastChunk(dst, ev.Data); ok {
		return out, nil
	}
	return t.decodeChunk(dst, ev.Data)
}

// decodeChunk translates any chunk, decoding it whole.
func (t *fromAnthropic) decodeChunk(dst, data []byte) ([]byte, error) {
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
		dst = t.text(dst, &textDelta{reasoning: strOf(r), signature: rawjson.Text{S: d.ReasoningSignature},
			redacted: d.RedactedReasoning, content: strOf(d.Content), refusal: strOf(d.Refusal)})
		for _, tc := range d.ToolCalls {
			var idx int64
			if tc.Index != nil {
				idx = *tc.Index
			}
			dst = t.toolDelta(dst, idx, rawjson.Text{S: tc.ID}, rawjson.Text{S: tc.Function.Name}, rawjson.Text{S: tc.Function.Arguments})
		}
		if ch.FinishReason != nil {
			dst = t.finishDelta(dst, *ch.FinishReason, ch.StopReason)
		}
	}
	return dst, nil
}

// textDelta is what a choice's delta says besides its tool calls.
type textDelta struct {
	reasoning, signature, content, refusal rawjson.Text
	redacted                               []string
}

// text translates a choice's delta but for its tool calls, in the order
// a whole message has them: thinking and its signature, redacted thinking,
// text, refusal.
func (t *fromAnthropic) text(dst []byte, d *textDelta) []byte {
	if !d.reasoning.Empty() && !t.omitThinking {
		dst = t.openBlock(dst, messages.BlockThinking)
		dst = t.delta(dst, "thinking_delta", "thinking", d.reasoning)
	}
	if !d.signature.Empty() {
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
	if !d.content.Empty() {
		dst = t.openBlock(dst, messages.BlockText)
		dst = t.delta(dst, "text_delta", "text", d.content)
	}
	if !d.refusal.Empty() {
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
func (t *fromAnthropic) toolDelta(dst []byte, idx int64, id, name, args rawjson.Text) []byte {
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
		t.buf = id.AppendJSON(t.buf, false)
		t.buf = append(t.buf, `,"name":`...)
		t.buf = name.AppendJSON(t.buf, false)
		t.buf = append(t.buf, `,"input":{}}`...)
		dst = t.startBlock(dst, t.buf, messages.BlockToolUse)
	}
	if args.Empty() {
		return dst
	}
	tb.args = args.AppendValue(tb.args)
	t.buf = append(t.buf[:0], `{"type":"content_block_delta","index":`...)
	t.buf = strconv.AppendInt(t.buf, int64(tb.block), 10)
	t.buf = append(t.buf, `,"delta":{"type":"input_json_delta","partial_json":`...)
	t.buf = args.AppendJSON(t.buf, false)
	t.buf = append(t.buf, `}}`...)
	return sse.AppendEvent(dst, messages.EventContentBlockDelta, t.buf)
}

// strOf is the string p points to; none when nil.
func strOf(p *string) rawjson.Text {
	if p == nil {
		return rawjson.Text{}
	}
	return rawjson.Text{S: *p}
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
func (t *fromAnthropic) delta(dst []byte, typ, field string, text rawjson.Text) []byte {
	t.buf = append(t.buf[:0], `{"type":"content_block_delta","index":`...)
	t.buf = strconv.AppendInt(t.buf, int64(t.st.open), 10)
	t.buf = append(t.buf, `,"delta":{"type":"`...)
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, `","`...)
	t.buf = append(t.buf, field...)
	t.buf = append(t.buf, `":`...)
	t.buf = text.AppendJSON(t.buf, false)
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

// fastChunk translates the chunks of an ordinary stream without
// reflection: one validating pass, then scans that read the members the
// translation uses, and strings that go from chunk to event without being
// decoded. ok is false, with dst and the stream's state untouched, for a
// chunk not shaped as OpenAI and the common compatible servers send it: a
// member it does not know (an error among them), a repeated one, a key in
// another case or with escapes, a value of another JSON type, a number that
// is not plain digits, more than one choice. The caller then decodes the
// chunk whole, so both ways translate alike (FuzzFastChunk holds them to
// it).
func (t *fromAnthropic) fastChunk(dst, data []byte) ([]byte, bool) {
	var c [len(chunkShape)][]byte
	if !rawjson.ReadFields(data, false, chunkShape[:], c[:]) {
		return dst, false
	}
	id, choices, usage := c[0], c[1], c[2]
	// Everything is read and checked before the state changes.
	var u wireUsage
	if usage != nil && usage[0] == '{' && !readChunkUsage(usage, &u) {
		return dst, false
	}
	var ch [len(choiceShape)][]byte
	var d [len(deltaShape)][]byte
	n := 0
	if choices != nil && choices[0] == '[' {
		ok := true
		rawjson.EachValidElement(choices, func(v []byte) bool {
			n++
			ok = n == 1 && rawjson.ReadFields(v, true, choiceShape[:], ch[:])
			return ok
		})
		if !ok {
			return dst, false
		}
	}
	var finish string
	if n == 1 {
		if ch[1] != nil && !rawjson.ReadFields(ch[1], true, deltaShape[:], d[:]) {
			return dst, false
		}
		if tc := d[6]; tc != nil && tc[0] == '[' {
			ok := true
			rawjson.EachValidElement(tc, func(v []byte) bool {
				_, _, _, _, ok = readToolCall(v)
				return ok
			})
			if !ok {
				return dst, false
			}
		}
		if f := ch[2]; f != nil && f[0] == '"' {
			b, ok := plainString(f)
			if !ok {
				return dst, false
			}
			finish = finishName(b)
		}
	}
	if !t.st.started {
		var s []byte
		if id != nil && id[0] == '"' {
			var ok bool
			if s, ok = plainString(id); !ok {
				return dst, false
			}
		}
		dst = t.start(dst, string(s))
	}
	if usage != nil && usage[0] == '{' {
		t.usage = u.api()
	}
	if n == 0 || rawjson.UintOf(ch[0]) != 0 {
		return dst, true // no choice, or not the first: Sluice never asks for n > 1
	}
	reasoning := d[3]
	if reasoning == nil || reasoning[0] == 'n' {
		reasoning = d[4] // reasoning_content absent or null: "reasoning"
	}
	dst = t.text(dst, &textDelta{reasoning: litOf(reasoning), signature: litOf(d[5]), content: litOf(d[1]), refusal: litOf(d[2])})
	if tc := d[6]; tc != nil && tc[0] == '[' {
		rawjson.EachValidElement(tc, func(v []byte) bool {
			idx, callID, name, args, _ := readToolCall(v)
			dst = t.toolDelta(dst, idx, callID, name, args)
			return true
		})
	}
	return t.finishDelta(dst, finish, ch[3]), true
}

// The shapes fastChunk reads: each member's key and the JSON type its value
// must have; a slot's position is its index in the values read. Members
// marked ignored are ones the translation does not use, which the whole
// decoding skips too; the usual ones come first, as they are looked up in
// order.
var (
	chunkShape = [...]rawjson.Field{{Key: "id", Kind: rawjson.NullOrString}, {Key: "choices", Kind: rawjson.NullOrArray}, {Key: "usage", Kind: rawjson.NullOrObject},
		// ignored: OpenAI's, then Azure's, Groq's and OpenRouter's.
		{Key: "object", Kind: rawjson.String}, {Key: "created", Kind: rawjson.Uint}, {Key: "model", Kind: rawjson.String},
		{Key: "service_tier", Kind: rawjson.NullOrString}, {Key: "system_fingerprint", Kind: rawjson.NullOrString}, {Key: "obfuscation", Kind: rawjson.String},
		{Key: "prompt_filter_results", Kind: rawjson.Any}, {Key: "x_groq", Kind: rawjson.Any}, {Key: "provider", Kind: rawjson.String}}
	choiceShape = [...]rawjson.Field{{Key: "index", Kind: rawjson.Uint}, {Key: "delta", Kind: rawjson.Object},
		{Key: "finish_reason", Kind: rawjson.NullOrString}, {Key: "stop_reason", Kind: rawjson.Any},
		// ignored: OpenAI's, then Azure's, SGLang's and OpenRouter's.
		{Key: "logprobs", Kind: rawjson.Any}, {Key: "content_filter_results", Kind: rawjson.Any}, {Key: "matched_stop", Kind: rawjson.Any},
		{Key: "native_finish_reason", Kind: rawjson.NullOrString}}
	deltaShape = [...]rawjson.Field{{Key: "role", Kind: rawjson.NullOrString}, {Key: "content", Kind: rawjson.NullOrString}, {Key: "refusal", Kind: rawjson.NullOrString},
		{Key: "reasoning_content", Kind: rawjson.NullOrString}, {Key: "reasoning", Kind: rawjson.NullOrString},
		{Key: "reasoning_signature", Kind: rawjson.NullOrString}, {Key: "tool_calls", Kind: rawjson.NullOrArray},
		// ignored: OpenRouter's structured copy of the reasoning text.
		{Key: "reasoning_details", Kind: rawjson.Any}}
	toolCallShape = [...]rawjson.Field{{Key: "index", Kind: rawjson.Uint}, {Key: "id", Kind: rawjson.NullOrString},
		{Key: "type", Kind: rawjson.NullOrString}, {Key: "function", Kind: rawjson.Object}}
	functionShape = [...]rawjson.Field{{Key: "name", Kind: rawjson.NullOrString}, {Key: "arguments", Kind: rawjson.NullOrString}}
	usageShape    = [...]rawjson.Field{{Key: "prompt_tokens", Kind: rawjson.Uint}, {Key: "completion_tokens", Kind: rawjson.Uint}, {Key: "total_tokens", Kind: rawjson.Uint},
		{Key: "prompt_tokens_details", Kind: rawjson.NullOrObject}, {Key: "completion_tokens_details", Kind: rawjson.NullOrObject},
		// ignored: DeepSeek's cache figures.
		{Key: "prompt_cache_hit_tokens", Kind: rawjson.Uint}, {Key: "prompt_cache_miss_tokens", Kind: rawjson.Uint}}
	promptDetailsShape = [...]rawjson.Field{{Key: "cached_tokens", Kind: rawjson.Uint}, {Key: "audio_tokens", Kind: rawjson.Uint},
		{Key: "cache_write_tokens", Kind: rawjson.Uint}}
	completionDetailsShape = [...]rawjson.Field{{Key: "reasoning_tokens", Kind: rawjson.Uint}, {Key: "audio_tokens", Kind: rawjson.Uint},
		// ignored
		{Key: "accepted_prediction_tokens", Kind: rawjson.Uint}, {Key: "rejected_prediction_tokens", Kind: rawjson.Uint}}
	finishReasons = [...]string{chat.FinishStop, chat.FinishLength, chat.FinishToolCalls, chat.FinishContentFilter, "function_call"}
)

// readChunkUsage reads a usage object as json.Unmarshal would fill u; false
// when it is not plainly shaped.
func readChunkUsage(raw []byte, u *wireUsage) bool {
	var v [len(usageShape)][]byte
	if !rawjson.ReadFields(raw, true, usageShape[:], v[:]) {
		return false
	}
	u.PromptTokens, u.CompletionTokens = rawjson.UintOf(v[0]), rawjson.UintOf(v[1])
	if p := v[3]; p != nil && p[0] == '{' {
		var d [len(promptDetailsShape)][]byte
		if !rawjson.ReadFields(p, true, promptDetailsShape[:], d[:]) {
			return false
		}
		u.PromptTokensDetails = promptDetails{CachedTokens: rawjson.UintOf(d[0]), CacheWriteTokens: rawjson.UintOf(d[2])}
	}
	if c := v[4]; c != nil && c[0] == '{' {
		var d [len(completionDetailsShape)][]byte
		if !rawjson.ReadFields(c, true, completionDetailsShape[:], d[:]) {
			return false
		}
		u.CompletionTokensDetails = completionDetails{ReasoningTokens: rawjson.UintOf(d[0])}
	}
	return true
}

// readToolCall reads one tool call of a delta; ok is false when it is not
// plainly shaped.
func readToolCall(v []byte) (idx int64, id, name, args rawjson.Text, ok bool) {
	var tc [len(toolCallShape)][]byte
	var fn [len(functionShape)][]byte
	if !rawjson.ReadFields(v, true, toolCallShape[:], tc[:]) || tc[3] != nil && !rawjson.ReadFields(tc[3], true, functionShape[:], fn[:]) {
		return 0, rawjson.Text{}, rawjson.Text{}, rawjson.Text{}, false
	}
	return rawjson.UintOf(tc[0]), litOf(tc[1]), litOf(fn[0]), litOf(fn[1]), true
}

// litOf is a string member read raw: none when absent or null.
func litOf(v []byte) rawjson.Text {
	if v == nil || v[0] == 'n' {
		return rawjson.Text{}
	}
	return rawjson.Text{Lit: v}
}

// plainString is the value of a JSON string literal that needs no
// decoding (no escapes, valid UTF-8); ok is false for any other.
func plainString(lit []byte) ([]byte, bool) {
	b := lit[1 : len(lit)-1]
	if bytes.IndexByte(b, '\\') >= 0 || !utf8.Valid(b) {
		return nil, false
	}
	return b, true
}

// finishName returns the constant for a known finish reason, so that no
// string is allocated for it.
func finishName(b []byte) string {
	for _, n := range finishReasons {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}
