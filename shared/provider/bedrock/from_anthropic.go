package bedrock

import (
	"fmt"
	"strconv"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// fromAnthropic serves an Anthropic Messages client from Converse.
//
// Choices made where the protocols differ:
//   - cache_control on a system, message or tool block becomes a Converse
//     cachePoint right after it;
//   - thinking becomes additionalModelRequestFields.thinking, and thinking
//     and redacted_thinking blocks become reasoningContent (text with its
//     signature; redacted data byte for byte), both ways, so multi-turn
//     tool use with extended thinking works through Bedrock Claude;
//   - top_k becomes additionalModelRequestFields.top_k (Claude's own
//     field), metadata.user_id becomes requestMetadata.user_id;
//   - with stop_sequences, Converse is asked for Claude's stop_sequence
//     (additionalModelResponseFieldPaths), which becomes the answer's
//     stop_sequence; models that do not report one leave it null;
//   - guardrail_intervened and content_filtered stop reasons become
//     "refusal";
//   - output_config.format (or the older output_format) json_schema
//     becomes outputConfig.textFormat for the models in nativeJSONSchema,
//     which Bedrock holds to the schema. Other models get a forced tool
//     whose input schema is the schema; its input comes back as a text
//     block and the stop reason as end_turn (best effort: Bedrock does
//     not validate it), and it cannot be combined with tools (400);
//   - output_config.effort becomes outputConfig.effort; a model without
//     it is refused by Bedrock (400);
//   - server tools, URL sources, citations, containers, MCP servers and
//     context management are refused (400).
type fromAnthropic struct {
	base
	usage api.Usage

	// Stream state.
	started bool
	stopped bool // messageStop seen
	ended   bool // message_stop sent
	stop    string
	blocks  []openBlock // Bedrock content block index → Anthropic block
	// stopSequence is the sequence that ended the answer, when Converse
	// returned it.
	stopSequence *string
	// jsonTool is set when the output format forced the
	// structured-output tool, whose input is the answer's text.
	jsonTool bool
	unknown  int
}

type openBlock struct {
	bedrock int64
	index   int64
	kind    string // text, tool_use, thinking, redacted_thinking
	open    bool
}

// Request decodes the client's body strictly and builds a Converse request.
func (t *fromAnthropic) Request(body []byte) (string, []byte, error) {
	var req messages.Request
	if err := messages.Decode(body, &req); err != nil {
		return "", nil, api.DecodeError(err, "Messages", preset.Bedrock)
	}
	t.stream = req.Stream
	cr, err := t.converse(&req)
	if err != nil {
		return "", nil, err
	}
	return converseCall(t.model, req.Stream, cr)
}

func (t *fromAnthropic) converse(req *messages.Request) (*converseRequest, error) {
	switch {
	case req.ServiceTier != "" && req.ServiceTier != "auto":
		return nil, unsupported("service_tier", "service_tier "+req.ServiceTier)
	case req.AnthropicOnly() != "":
		return nil, unsupported(req.AnthropicOnly(), req.AnthropicOnly())
	}
	format, formatParam, err := req.Format()
	if err != nil {
		return nil, err
	}
	native := format != nil && textFormatFor(t.model)
	switch {
	case format != nil && format.Type != "json_schema":
		return nil, unsupported(formatParam+".type", formatParam+".type "+format.Type)
	case format != nil && !native && len(req.Tools) > 0:
		return nil, unsupported(formatParam, formatParam+" together with tools for model "+t.model)
	}
	cr := &converseRequest{Messages: []message{}}
	ic := inferenceConfig{Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.StopSequences}
	if req.MaxTokens > 0 {
		ic.MaxTokens = &req.MaxTokens
	}
	cr.InferenceConfig = &ic
	if len(req.StopSequences) > 0 {
		cr.AdditionalModelResponseFieldPaths = stopSequencePath
	}
	effort, err := req.Effort()
	if err != nil {
		return nil, err
	}
	if effort != "" {
		cr.OutputConfig = &outputConfig{Effort: effort}
	}
	for i, b := range req.System.AsBlocks() {
		if b.Type != messages.BlockText {
			return nil, unsupported(fmt.Sprintf("system[%d].type", i), b.Type+" system blocks")
		}
		if len(b.Citations) > 0 {
			return nil, unsupported(fmt.Sprintf("system[%d].citations", i), "citations")
		}
		cr.System = append(cr.System, systemBlock{Text: b.Text})
		if len(b.CacheControl) > 0 {
			cr.System = append(cr.System, systemBlock{CachePoint: defaultCachePoint})
		}
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role != messages.RoleUser && m.Role != messages.RoleAssistant {
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "unknown role %q", m.Role)
		}
		var content []contentBlock
		for j, b := range m.Content.AsBlocks() {
			at := fmt.Sprintf("messages[%d].content[%d]", i, j)
			cb, err := anthropicBlock(&b, at)
			if err != nil {
				return nil, err
			}
			content = append(content, cb)
			if len(b.CacheControl) > 0 {
				content = append(content, contentBlock{CachePoint: defaultCachePoint})
			}
		}
		if len(content) == 0 {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "messages need content")
		}
		cr.Messages = appendMessage(cr.Messages, m.Role, content...)
	}
	if len(req.Tools) > 0 {
		tc := &toolConfig{}
		for i, tl := range req.Tools {
			if tl.Type != "" && tl.Type != "custom" {
				return nil, unsupported(fmt.Sprintf("tools[%d].type", i), "the server tool "+tl.Type)
			}
			schema := tl.InputSchema
			if len(schema) == 0 {
				schema = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			tc.Tools = append(tc.Tools, tool{ToolSpec: &toolSpec{Name: tl.Name, Description: tl.Description, InputSchema: inputSchema{JSON: schema}}})
			if len(tl.CacheControl) > 0 {
				tc.Tools = append(tc.Tools, tool{CachePoint: defaultCachePoint})
			}
		}
		if c := req.ToolChoice; c != nil {
			if c.DisableParallelToolUse != nil && *c.DisableParallelToolUse {
				return nil, unsupported("tool_choice.disable_parallel_tool_use", "disable_parallel_tool_use")
			}
			switch c.Type {
			case "auto":
				tc.ToolChoice = &toolChoice{Auto: &struct{}{}}
			case "any":
				tc.ToolChoice = &toolChoice{Any: &struct{}{}}
			case "tool":
				tc.ToolChoice = &toolChoice{Tool: &namedTool{Name: c.Name}}
			default:
				return nil, unsupported("tool_choice.type", "tool_choice "+c.Type)
			}
		}
		cr.ToolConfig = tc
	} else if c := req.ToolChoice; c != nil && c.Type != "none" {
		return nil, badRequest("tool_choice", "tool_choice %s needs tools", c.Type)
	}
	if format != nil {
		schema := format.Schema
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		if native {
			tf, err := jsonSchemaFormat(schema, "", "")
			if err != nil {
				return nil, badRequest(formatParam+".schema", "%s.schema must be a JSON schema", formatParam)
			}
			if cr.OutputConfig == nil {
				cr.OutputConfig = &outputConfig{}
			}
			cr.OutputConfig.TextFormat = tf
		} else {
			cr.ToolConfig = jsonToolConfig(structuredOutputTool, "Answer with JSON matching this schema.", schema)
			t.jsonTool = true
		}
	}
	fields := map[string]any{}
	if th := req.Thinking; th != nil {
		thinking := map[string]any{"type": th.Type}
		if th.BudgetTokens > 0 {
			thinking["budget_tokens"] = th.BudgetTokens
		}
		fields["thinking"] = thinking
	}
	if req.TopK != nil {
		fields["top_k"] = *req.TopK
	}
	if len(fields) > 0 {
		cr.AdditionalModelRequestFields = fields
	}
	if req.Metadata != nil && req.Metadata.UserID != "" {
		cr.RequestMetadata = map[string]string{"user_id": req.Metadata.UserID}
	}
	return cr, nil
}

// anthropicBlock converts one message content block.
func anthropicBlock(b *messages.Block, at string) (contentBlock, error) {
	if len(b.Citations) > 0 && string(b.Citations) != "null" {
		return contentBlock{}, unsupported(at+".citations", "citations")
	}
	switch b.Type {
	case messages.BlockText:
		return textBlock(b.Text), nil
	case messages.BlockImage:
		img, err := anthropicImage(b.Source, at)
		return contentBlock{Image: img}, err
	case messages.BlockDocument:
		doc, err := anthropicDocument(b, at)
		return contentBlock{Document: doc}, err
	case messages.BlockToolUse:
		input := b.Input
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		return contentBlock{ToolUse: &toolUseBlock{ToolUseID: b.ID, Name: b.Name, Input: input}}, nil
	case messages.BlockToolResult:
		tr := &toolResultBlock{ToolUseID: b.ToolUseID, Content: []toolResultContent{}}
		if b.IsError {
			tr.Status = "error"
		}
		for k, rb := range b.Content.AsBlocks() {
			rat := fmt.Sprintf("%s.content[%d]", at, k)
			switch rb.Type {
			case messages.BlockText:
				s := rb.Text
				tr.Content = append(tr.Content, toolResultContent{Text: &s})
			case messages.BlockImage:
				img, err := anthropicImage(rb.Source, rat)
				if err != nil {
					return contentBlock{}, err
				}
				tr.Content = append(tr.Content, toolResultContent{Image: img})
			case messages.BlockDocument:
				doc, err := anthropicDocument(&rb, rat)
				if err != nil {
					return contentBlock{}, err
				}
				tr.Content = append(tr.Content, toolResultContent{Document: doc})
			default:
				return contentBlock{}, unsupported(rat+".type", rb.Type+" blocks in tool results")
			}
		}
		return contentBlock{ToolResult: tr}, nil
	case messages.BlockThinking:
		rt := &reasoningText{}
		if b.Thinking != nil {
			rt.Text = *b.Thinking
		}
		if b.Signature != nil {
			rt.Signature = *b.Signature
		}
		return contentBlock{ReasoningContent: &reasoningContent{ReasoningText: rt}}, nil
	case messages.BlockRedactedThinking:
		return contentBlock{ReasoningContent: &reasoningContent{RedactedContent: b.Data}}, nil
	}
	return contentBlock{}, unsupported(at+".type", b.Type+" blocks")
}

func anthropicImage(s *messages.Source, at string) (*imageBlock, error) {
	if s == nil || s.Type != "base64" {
		return nil, unsupported(at+".source", "an image source other than base64")
	}
	format, ok := imageFormat(s.MediaType)
	if !ok {
		return nil, unsupported(at+".source.media_type", "image type "+s.MediaType)
	}
	return &imageBlock{Format: format, Source: blobSource{Bytes: s.Data}}, nil
}

func anthropicDocument(b *messages.Block, at string) (*documentBlock, error) {
	s := b.Source
	if s == nil {
		return nil, badRequest(at+".source", "documents need a source")
	}
	var data string
	switch s.Type {
	case "base64":
		data = s.Data
	case "text":
		data = base64Std(s.Data)
	default:
		return nil, unsupported(at+".source", "a document source of type "+s.Type)
	}
	format, ok := documentFormat(s.MediaType)
	if !ok {
		return nil, unsupported(at+".source.media_type", "document type "+s.MediaType)
	}
	if b.Context != "" {
		return nil, unsupported(at+".context", "document context")
	}
	return &documentBlock{Format: format, Name: documentName(b.Title, at), Source: blobSource{Bytes: data}}, nil
}

// structuredOutputTool is the tool forced for a structured output format.
const structuredOutputTool = "structured_output"

// stopReason maps a Converse stop reason to Anthropic's; the forced
// structured-output tool's tool_use is the answer's natural end.
func (t *fromAnthropic) stopReason(stop string) string {
	if t.jsonTool && stop == stopToolUse {
		return messages.StopEndTurn
	}
	return stopReason(stop)
}

// stopReason maps a Converse stop reason to Anthropic's.
func stopReason(stop string) string {
	switch stop {
	case stopEndTurn, stopToolUse, stopMaxTokens, stopSequence, stopContextWindowExceed:
		return stop
	case stopGuardrail, stopContentFiltered:
		return messages.StopRefusal
	}
	return messages.StopEndTurn
}

// Response translates a Converse answer into an Anthropic message.
func (t *fromAnthropic) Response(body []byte) ([]byte, error) {
	r, err := readResponse(body)
	if err != nil {
		return nil, err
	}
	resp := messages.Response{ID: "msg_" + t.newID(), Type: "message", Role: messages.RoleAssistant, Model: t.client, Content: []messages.Block{}}
	if r.Output.Message != nil {
		for _, b := range r.Output.Message.Content {
			switch {
			case b.Text != nil:
				resp.Content = append(resp.Content, messages.Block{Type: messages.BlockText, Text: *b.Text})
			case b.ToolUse != nil && t.jsonTool && b.ToolUse.Name == structuredOutputTool:
				resp.Content = append(resp.Content, messages.Block{Type: messages.BlockText, Text: compactJSON(b.ToolUse.Input)})
			case b.ToolUse != nil:
				input := b.ToolUse.Input
				if len(input) == 0 {
					input = json.RawMessage("{}")
				}
				resp.Content = append(resp.Content, messages.Block{Type: messages.BlockToolUse, ID: b.ToolUse.ToolUseID, Name: b.ToolUse.Name, Input: input})
			case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
				text, sig := b.ReasoningContent.ReasoningText.Text, b.ReasoningContent.ReasoningText.Signature
				resp.Content = append(resp.Content, messages.Block{Type: messages.BlockThinking, Thinking: &text, Signature: &sig})
			case b.ReasoningContent != nil && b.ReasoningContent.RedactedContent != "":
				resp.Content = append(resp.Content, messages.Block{Type: messages.BlockRedactedThinking, Data: b.ReasoningContent.RedactedContent})
			default:
				return nil, api.Errorf(api.ErrUpstream, "bedrock answered a content block Sluice cannot translate for Anthropic clients")
			}
		}
	}
	stop := t.stopReason(r.StopReason)
	resp.StopReason = &stop
	if stop == messages.StopSequence {
		resp.StopSequence = r.AdditionalModelResponseFields.matched()
	}
	if r.Usage != nil {
		t.usage = r.Usage.api()
		resp.Usage = messages.UsageOf(t.usage)
	}
	return json.Marshal(resp)
}

// Usage is what Bedrock reported.
func (t *fromAnthropic) Usage() api.Usage { return t.usage }

// StreamEvent translates one ConverseStream event into Anthropic events.
// Blocks open lazily: Converse starts a tool-use block explicitly but a
// text or reasoning block only with its first delta.
func (t *fromAnthropic) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	e, err := readEvent(ev)
	if err != nil {
		return dst, err
	}
	if !t.started {
		t.started = true
		dst = t.event(dst, &messages.Event{Type: messages.EventMessageStart, Message: &messages.Response{
			ID: "msg_" + t.newID(), Type: "message", Role: messages.RoleAssistant, Model: t.client, Content: []messages.Block{}}})
	}
	switch ev.Type {
	case evMessageStart:
		return dst, nil
	case evContentBlockStart:
		if e.Start == nil || e.Start.ToolUse == nil {
			t.unknown++ // Converse starts only tool-use blocks explicitly
			return dst, nil
		}
		if t.jsonTool && e.Start.ToolUse.Name == structuredOutputTool {
			// The structured answer streams as text.
			return t.open(dst, e.ContentBlockIndex, messages.Block{Type: messages.BlockText}), nil
		}
		empty := json.RawMessage("{}")
		return t.open(dst, e.ContentBlockIndex, messages.Block{Type: messages.BlockToolUse, ID: e.Start.ToolUse.ToolUseID, Name: e.Start.ToolUse.Name, Input: empty}), nil
	case evContentBlockDelta:
		d := e.Delta
		switch {
		case d == nil:
		case d.Text != nil:
			dst, idx := t.ensure(dst, e.ContentBlockIndex, messages.BlockText)
			return t.delta(dst, idx, messages.EventDelta{Type: messages.DeltaText, Text: *d.Text}), nil
		case d.ToolUse != nil:
			b := t.block(e.ContentBlockIndex)
			if b != nil && t.jsonTool && b.kind == messages.BlockText {
				return t.delta(dst, b.index, messages.EventDelta{Type: messages.DeltaText, Text: d.ToolUse.Input}), nil
			}
			if b == nil || b.kind != messages.BlockToolUse {
				return dst, api.Errorf(api.ErrUpstream, "bedrock sent tool input for a block it never started")
			}
			in := d.ToolUse.Input
			return t.delta(dst, b.index, messages.EventDelta{Type: messages.DeltaInputJSON, PartialJSON: &in}), nil
		case d.ReasoningContent != nil:
			rc := d.ReasoningContent
			switch {
			case rc.Text != nil:
				dst, idx := t.ensure(dst, e.ContentBlockIndex, messages.BlockThinking)
				return t.delta(dst, idx, messages.EventDelta{Type: messages.DeltaThinking, Thinking: *rc.Text}), nil
			case rc.Signature != nil:
				dst, idx := t.ensure(dst, e.ContentBlockIndex, messages.BlockThinking)
				return t.delta(dst, idx, messages.EventDelta{Type: messages.DeltaSignature, Signature: *rc.Signature}), nil
			case rc.RedactedContent != nil:
				// Anthropic sends redacted thinking whole, in its start event.
				if t.block(e.ContentBlockIndex) != nil {
					return dst, api.Errorf(api.ErrUpstream, "bedrock sent redacted reasoning into an open block")
				}
				return t.open(dst, e.ContentBlockIndex, messages.Block{Type: messages.BlockRedactedThinking, Data: *rc.RedactedContent}), nil
			}
		}
		t.unknown++
		return dst, nil
	case evContentBlockStop:
		b := t.block(e.ContentBlockIndex)
		if b == nil || !b.open {
			return dst, nil // an empty block: nothing was opened
		}
		b.open = false
		idx := b.index
		return t.event(dst, &messages.Event{Type: messages.EventContentBlockStop, Index: &idx}), nil
	case evMessageStop:
		t.stopped = true
		t.stop = t.stopReason(e.StopReason)
		if t.stop == messages.StopSequence {
			t.stopSequence = e.AdditionalModelResponseFields.matched()
		}
		return dst, nil
	case evMetadata:
		if e.Usage != nil {
			t.usage = e.Usage.api()
		}
		return t.finish(dst), nil
	}
	t.unknown++
	return dst, nil
}

// finish closes open blocks and sends message_delta (stop reason, usage)
// and message_stop, once.
func (t *fromAnthropic) finish(dst []byte) []byte {
	if t.ended || !t.stopped {
		return dst
	}
	t.ended = true
	for i := range t.blocks {
		if b := &t.blocks[i]; b.open {
			b.open = false
			idx := b.index
			dst = t.event(dst, &messages.Event{Type: messages.EventContentBlockStop, Index: &idx})
		}
	}
	mu := messages.UsageOf(t.usage)
	stop := t.stop
	dst = t.event(dst, &messages.Event{Type: messages.EventMessageDelta, Delta: &messages.EventDelta{StopReason: &stop, StopSequence: t.stopSequence}, Usage: &mu})
	return t.event(dst, &messages.Event{Type: messages.EventMessageStop})
}

func (t *fromAnthropic) block(bedrock int64) *openBlock {
	for i := range t.blocks {
		if t.blocks[i].bedrock == bedrock {
			return &t.blocks[i]
		}
	}
	return nil
}

// open starts an Anthropic block for Bedrock block index bi.
func (t *fromAnthropic) open(dst []byte, bi int64, b messages.Block) []byte {
	idx := int64(len(t.blocks))
	t.blocks = append(t.blocks, openBlock{bedrock: bi, index: idx, kind: b.Type, open: true})
	if b.Type == messages.BlockText {
		// Anthropic starts text blocks with "text":"", which Block omits.
		data := strconv.AppendInt([]byte(`{"type":"content_block_start","index":`), idx, 10)
		data = append(data, `,"content_block":{"type":"text","text":""}}`...)
		return sse.AppendEvent(dst, messages.EventContentBlockStart, data)
	}
	return t.event(dst, &messages.Event{Type: messages.EventContentBlockStart, Index: &idx, ContentBlock: &b})
}

// ensure opens a block of kind for bi unless it is open already.
func (t *fromAnthropic) ensure(dst []byte, bi int64, kind string) ([]byte, int64) {
	if b := t.block(bi); b != nil {
		return dst, b.index
	}
	start := messages.Block{Type: kind}
	if kind == messages.BlockThinking {
		empty, none := "", ""
		start.Thinking, start.Signature = &empty, &none
	}
	dst = t.open(dst, bi, start)
	return dst, int64(len(t.blocks) - 1)
}

func (t *fromAnthropic) delta(dst []byte, idx int64, d messages.EventDelta) []byte {
	return t.event(dst, &messages.Event{Type: messages.EventContentBlockDelta, Index: &idx, Delta: &d})
}

func (t *fromAnthropic) event(dst []byte, e *messages.Event) []byte {
	b, _ := json.Marshal(e) // plain structs: cannot fail
	return sse.AppendEvent(dst, e.Type, b)
}

// StreamEnd finishes the message if Bedrock stopped without a metadata
// event; a stream that ends before messageStop was cut.
func (t *fromAnthropic) StreamEnd(dst []byte) ([]byte, error) {
	if !t.stopped {
		return dst, api.Errorf(api.ErrUpstream, "the bedrock stream ended before its messageStop event")
	}
	return t.finish(dst), nil
}

// StreamError ends the stream with an Anthropic error event.
func (t *fromAnthropic) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "error", api.AnthropicBody(err))
}

// SkippedEvents counts stream events this translator had no use for; the
// gateway puts the count on the request's log line.
func (t *fromAnthropic) SkippedEvents() int { return t.unknown }
