package gemini

import (
	"strconv"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// FromAnthropic translates an Anthropic Messages exchange to Gemini's
// generateContent and streamGenerateContent. Gemini's thought parts become
// thinking blocks; a thoughtSignature becomes the signature of the thinking
// block before the part that carried it (an empty thinking block when the
// model's thoughts were not asked for), and goes back on the turn's first
// function call, or first part. output_config.format (or the older
// output_format) json_schema becomes responseMimeType application/json
// with responseJsonSchema; output_config.effort becomes a thinking level
// or budget (anthropicThinking).
type FromAnthropic struct {
	common
	client string
	model  string

	// stream state
	started bool
	id      string
	open    string // type of the open block: "", text, thinking
	index   int64  // index of the open block
	next    int64  // index of the next block
	calls   int
	finish  string // the stop reason, once Gemini gave its finishReason
}

const syntheticToolu = "toolu_sluice_"

// Request converts the Messages request to a generateContent body.
func (t *FromAnthropic) Request(body []byte) (string, []byte, error) {
	var r messages.Request
	if err := messages.Decode(body, &r); err != nil {
		return "", nil, api.DecodeError(err, "Messages", preset.Gemini)
	}
	g, err := fromMessages(&r, t.model)
	if err != nil {
		return "", nil, err
	}
	return generateCall(t.model, r.Stream, g)
}

func fromMessages(r *messages.Request, model string) (*request, error) {
	if p := r.AnthropicOnly(); p != "" {
		return nil, unsupported(p)
	}
	// metadata and service_tier have no Gemini counterpart and no effect on
	// the answer: accepted, not sent. cache_control marks are accepted too;
	// Gemini caches implicitly.
	g := &request{}
	cfg := &generationConfig{Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK, StopSequences: r.StopSequences}
	if r.MaxTokens > 0 {
		n := r.MaxTokens
		cfg.MaxOutputTokens = &n
	}
	tc, err := anthropicThinking(r, model)
	if err != nil {
		return nil, err
	}
	cfg.ThinkingConfig = tc
	format, formatParam, err := r.Format()
	if err != nil {
		return nil, err
	}
	if format != nil {
		if format.Type != "json_schema" {
			return nil, unsupported(formatParam + ".type")
		}
		cfg.ResponseMimeType, cfg.ResponseJSONSchema = "application/json", format.Schema
	}
	if b, _ := json.Marshal(cfg); string(b) != "{}" {
		g.GenerationConfig = cfg
	}
	if r.System != nil {
		for i, b := range r.System.AsBlocks() {
			if b.Type != messages.BlockText {
				return nil, unsupported("system[" + strconv.Itoa(i) + "].type")
			}
			if g.SystemInstruction == nil {
				g.SystemInstruction = &content{}
			}
			g.SystemInstruction.Parts = append(g.SystemInstruction.Parts, part{Text: b.Text})
		}
	}
	if len(r.Tools) > 0 {
		decls := make([]functionDeclaration, len(r.Tools))
		for i, tl := range r.Tools {
			if tl.Type != "" && tl.Type != "custom" {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: "tools[" + strconv.Itoa(i) + "].type", Message: "server tool " + strconv.Quote(tl.Type) + " is not supported by the gemini provider"}
			}
			decls[i] = functionDeclaration{Name: tl.Name, Description: tl.Description, ParametersJSONSchema: tl.InputSchema}
		}
		g.Tools = []tool{{FunctionDeclarations: decls}}
	}
	if c := r.ToolChoice; c != nil {
		if c.DisableParallelToolUse != nil && *c.DisableParallelToolUse {
			return nil, unsupported("tool_choice.disable_parallel_tool_use")
		}
		fc := functionCallingConfig{}
		switch c.Type {
		case "auto":
			fc.Mode = "AUTO"
		case "any":
			fc.Mode = "ANY"
		case "tool":
			fc.Mode, fc.AllowedFunctionNames = "ANY", []string{c.Name}
		case "none":
			fc.Mode = "NONE"
		default:
			return nil, unsupported("tool_choice.type")
		}
		g.ToolConfig = &toolConfig{FunctionCallingConfig: fc}
	}
	names := map[string]string{}
	for i, m := range r.Messages {
		param := "messages[" + strconv.Itoa(i) + "]"
		var parts []part
		var err error
		switch m.Role {
		case messages.RoleUser:
			parts, err = anthropicUser(m.Content.AsBlocks(), param, names)
			if err != nil {
				return nil, err
			}
			g.Contents = append(g.Contents, content{Role: "user", Parts: parts})
		case messages.RoleAssistant:
			parts, err = anthropicAssistant(m.Content.AsBlocks(), param, names)
			if err != nil {
				return nil, err
			}
			g.Contents = append(g.Contents, content{Role: "model", Parts: parts})
		default:
			return nil, &api.Error{Kind: api.ErrBadRequest, Param: param + ".role", Message: "unknown role " + strconv.Quote(m.Role)}
		}
	}
	if len(g.Contents) == 0 {
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "messages", Message: "messages must not be empty"}
	}
	return g, nil
}

// anthropicThinking maps thinking and output_config.effort to Gemini's
// thinkingConfig. A budget (thinking enabled, or disabled: budget 0) and
// an effort both say how much to think, and Gemini takes one control, so
// both together are refused. The effort becomes a thinkingLevel for
// Gemini 3 and later (xhigh and max: HIGH, its highest) and a budget for
// Gemini 2.5 and earlier, which have no levels (low 1,024, medium 8,192,
// high and above 24,576 tokens, the most every 2.5 model accepts).
// Adaptive thinking leaves the amount to the model (a dynamic budget on
// 2.5) and returns its thoughts.
func anthropicThinking(r *messages.Request, model string) (*thinkingConfig, error) {
	effort, err := r.Effort()
	if err != nil {
		return nil, err
	}
	var tc *thinkingConfig
	if th := r.Thinking; th != nil {
		switch th.Type {
		case "enabled":
			b := th.BudgetTokens
			tc = &thinkingConfig{ThinkingBudget: &b, IncludeThoughts: true}
		case "disabled":
			zero := int64(0)
			tc = &thinkingConfig{ThinkingBudget: &zero}
		case "adaptive":
			tc = &thinkingConfig{IncludeThoughts: true}
		default:
			return nil, unsupported("thinking.type")
		}
		if effort != "" && th.Type != "adaptive" {
			return nil, &api.Error{Kind: api.ErrBadRequest, Param: "output_config.effort",
				Message: "output_config.effort together with thinking " + th.Type + " is not supported by the gemini provider: Gemini takes either a thinking budget or a thinking level"}
		}
	}
	budgets := strings.HasPrefix(model, "gemini-1") || strings.HasPrefix(model, "gemini-2")
	if effort == "" {
		if tc != nil && tc.ThinkingBudget == nil && budgets {
			dynamic := int64(-1) // adaptive on Gemini 2.5
			tc.ThinkingBudget = &dynamic
		}
		return tc, nil
	}
	if tc == nil {
		tc = &thinkingConfig{}
	}
	level, budget := "HIGH", int64(24576)
	switch effort {
	case "low":
		level, budget = "LOW", 1024
	case "medium":
		level, budget = "MEDIUM", 8192
	}
	if budgets {
		tc.ThinkingBudget = &budget
	} else {
		tc.ThinkingLevel = level
	}
	return tc, nil
}

func anthropicUser(blocks []messages.Block, param string, names map[string]string) ([]part, error) {
	parts := make([]part, 0, len(blocks))
	for j, b := range blocks {
		bp := param + ".content[" + strconv.Itoa(j) + "]"
		switch b.Type {
		case messages.BlockText:
			parts = append(parts, part{Text: b.Text})
		case messages.BlockImage, messages.BlockDocument:
			p, err := anthropicSource(b.Source, bp+".source")
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
		case messages.BlockToolResult:
			name, ok := names[b.ToolUseID]
			if !ok {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: bp + ".tool_use_id",
					Message: "tool_use_id " + strconv.Quote(b.ToolUseID) + " matches no earlier tool_use block; the gemini provider needs it to name the function"}
			}
			var text strings.Builder
			for k, c := range b.Content.AsBlocks() {
				if c.Type != messages.BlockText {
					return nil, &api.Error{Kind: api.ErrBadRequest, Param: bp + ".content[" + strconv.Itoa(k) + "].type", Message: "tool results hold text only for the gemini provider"}
				}
				text.WriteString(c.Text)
			}
			parts = append(parts, part{FunctionResponse: &functionResponse{ID: sentID(b.ToolUseID), Name: name, Response: toolResponse(text.String(), b.IsError)}})
		default:
			return nil, &api.Error{Kind: api.ErrBadRequest, Param: bp + ".type", Message: "user content blocks of type " + strconv.Quote(b.Type) + " are not supported by the gemini provider"}
		}
	}
	return parts, nil
}

func anthropicSource(s *messages.Source, param string) (part, error) {
	if s == nil {
		return part{}, &api.Error{Kind: api.ErrBadRequest, Param: param, Message: "source is required"}
	}
	switch s.Type {
	case "base64":
		return part{InlineData: &blob{MimeType: s.MediaType, Data: s.Data}}, nil
	case "url":
		return mediaPart(s.URL, param+".url")
	case "text":
		return part{Text: s.Data}, nil
	}
	return part{}, unsupported(param + ".type")
}

func anthropicAssistant(blocks []messages.Block, param string, names map[string]string) ([]part, error) {
	parts := make([]part, 0, len(blocks))
	sig, firstCall := "", -1
	for j, b := range blocks {
		bp := param + ".content[" + strconv.Itoa(j) + "]"
		switch b.Type {
		case messages.BlockText:
			parts = append(parts, part{Text: b.Text})
		case messages.BlockToolUse:
			names[b.ID] = b.Name
			args := b.Input
			if len(args) == 0 {
				args = json.RawMessage("{}")
			}
			if firstCall < 0 {
				firstCall = len(parts)
			}
			_, callSig := splitSig(b.ID)
			parts = append(parts, part{FunctionCall: &functionCall{ID: sentID(b.ID), Name: b.Name, Args: args}, ThoughtSignature: callSig})
		case messages.BlockThinking:
			// The thought text is not sent back; the signature is.
			if b.Signature != nil && sig == "" {
				sig = *b.Signature
			}
		default:
			return nil, &api.Error{Kind: api.ErrBadRequest, Param: bp + ".type", Message: "assistant content blocks of type " + strconv.Quote(b.Type) + " are not supported by the gemini provider"}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, part{Text: ""})
	}
	if p := &parts[max(firstCall, 0)]; sig != "" && p.ThoughtSignature == "" {
		p.ThoughtSignature = sig
	}
	return parts, nil
}

// Usage is what Gemini reported.

// Error maps Gemini's error object.
func (t *FromAnthropic) Error(status int, body []byte) error { return upstreamError(status, body) }

// StreamError ends the client's stream with an Anthropic error event.
func (t *FromAnthropic) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, messages.EventError, api.AnthropicBody(err))
}

// stopReason is Anthropic's stop reason for a candidate's finishReason.
func (t *FromAnthropic) stopReason(reason string, calls bool) (string, error) {
	f, err := t.finishReason(reason, calls)
	switch {
	case err != nil:
		return "", err
	case f == chat.FinishLength:
		return messages.StopMaxTokens, nil
	case f == chat.FinishContentFilter:
		return messages.StopRefusal, nil
	case f == chat.FinishToolCalls:
		return messages.StopToolUse, nil
	}
	return messages.StopEndTurn, nil
}

func strp(s string) *string { return &s }

// Response converts a generateContent answer to a message.
func (t *FromAnthropic) Response(body []byte) ([]byte, error) {
	r, err := t.read(body)
	if err != nil {
		return nil, err
	}
	out := messages.Response{ID: "msg_" + orDefault(r.ResponseID), Type: "message", Role: messages.RoleAssistant, Model: t.client, Content: []messages.Block{}}
	stop := messages.StopRefusal
	if len(r.Candidates) == 0 && (r.PromptFeedback == nil || r.PromptFeedback.BlockReason == "") {
		return nil, api.Errorf(api.ErrUpstream, "the gemini backend answered no candidates")
	}
	if len(r.Candidates) > 0 {
		c := r.Candidates[0]
		calls := 0
		if c.Content != nil {
			for i := range c.Content.Parts {
				p := &c.Content.Parts[i]
				switch {
				case p.Thought:
					last := len(out.Content) - 1
					if last >= 0 && out.Content[last].Type == messages.BlockThinking && *out.Content[last].Signature == "" {
						*out.Content[last].Thinking += p.Text
					} else {
						out.Content = append(out.Content, messages.Block{Type: messages.BlockThinking, Thinking: strp(p.Text), Signature: strp("")})
					}
					if p.ThoughtSignature != "" {
						*out.Content[len(out.Content)-1].Signature = p.ThoughtSignature
					}
					continue
				case p.ThoughtSignature != "":
					last := len(out.Content) - 1
					if last >= 0 && out.Content[last].Type == messages.BlockThinking && *out.Content[last].Signature == "" {
						*out.Content[last].Signature = p.ThoughtSignature
					} else {
						out.Content = append(out.Content, messages.Block{Type: messages.BlockThinking, Thinking: strp(""), Signature: strp(p.ThoughtSignature)})
					}
				}
				switch {
				case p.FunctionCall != nil:
					id := p.FunctionCall.ID
					if id == "" {
						id = callID(syntheticToolu, t.callSeed(r.ResponseID), calls, p.FunctionCall.Name)
					}
					id = withSig(id, p.ThoughtSignature)
					calls++
					out.Content = append(out.Content, messages.Block{Type: messages.BlockToolUse, ID: id, Name: p.FunctionCall.Name, Input: json.RawMessage(argsOf(p.FunctionCall.Args))})
				case p.Text != "":
					last := len(out.Content) - 1
					if last >= 0 && out.Content[last].Type == messages.BlockText {
						out.Content[last].Text += p.Text
					} else {
						out.Content = append(out.Content, messages.Block{Type: messages.BlockText, Text: p.Text})
					}
				case p.ThoughtSignature != "":
				default:
					t.skip(p)
				}
			}
		}
		var err error
		if stop, err = t.stopReason(c.FinishReason, calls > 0); err != nil {
			return nil, err
		}
	}
	out.StopReason = &stop
	out.Usage = messages.UsageOf(t.usage)
	return json.Marshal(out)
}

// StreamEvent converts one streamGenerateContent event to Messages events.
func (t *FromAnthropic) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	r, ok, err := t.readEvent(ev)
	if !ok {
		return dst, err
	}
	if !t.started {
		t.started = true
		t.id = "msg_" + orDefault(r.ResponseID)
		u := messages.UsageOf(t.usage)
		u.OutputTokens = 0
		dst = t.event(dst, messages.Event{Type: messages.EventMessageStart, Message: &messages.Response{
			ID: t.id, Type: "message", Role: messages.RoleAssistant, Model: t.client, Content: []messages.Block{}, Usage: u,
		}})
	}
	if len(r.Candidates) == 0 {
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			t.finish = messages.StopRefusal
		}
		return dst, nil
	}
	t.skipped += len(r.Candidates) - 1 // Messages has one candidate
	c := r.Candidates[0]
	if c.Content != nil {
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			switch {
			case p.Thought:
				if t.open != messages.BlockThinking {
					dst = t.start(dst, messages.Block{Type: messages.BlockThinking, Thinking: strp(""), Signature: strp("")})
				}
				if p.Text != "" {
					dst = t.delta(dst, messages.EventDelta{Type: messages.DeltaThinking, Thinking: p.Text})
				}
				if p.ThoughtSignature != "" {
					dst = t.sign(dst, p.ThoughtSignature)
				}
				continue
			case p.ThoughtSignature != "":
				if t.open != messages.BlockThinking {
					dst = t.start(dst, messages.Block{Type: messages.BlockThinking, Thinking: strp(""), Signature: strp("")})
				}
				dst = t.sign(dst, p.ThoughtSignature)
			}
			switch {
			case p.FunctionCall != nil:
				id := p.FunctionCall.ID
				if id == "" {
					id = callID(syntheticToolu, t.callSeed(r.ResponseID), t.calls, p.FunctionCall.Name)
				}
				id = withSig(id, p.ThoughtSignature)
				t.calls++
				dst = t.start(dst, messages.Block{Type: messages.BlockToolUse, ID: id, Name: p.FunctionCall.Name, Input: json.RawMessage("{}")})
				args := argsOf(p.FunctionCall.Args)
				dst = t.delta(dst, messages.EventDelta{Type: messages.DeltaInputJSON, PartialJSON: &args})
				dst = t.stop(dst)
			case p.Text != "":
				if t.open != messages.BlockText {
					dst = t.start(dst, messages.Block{Type: messages.BlockText, Text: ""})
				}
				dst = t.delta(dst, messages.EventDelta{Type: messages.DeltaText, Text: p.Text})
			case p.ThoughtSignature != "":
			default:
				t.skip(p)
			}
		}
	}
	if c.FinishReason != "" && t.finish == "" {
		stop, err := t.stopReason(c.FinishReason, t.calls > 0)
		if err != nil {
			return dst, err
		}
		t.finish = stop
	}
	return dst, nil
}

// sign sends the signature of the open thinking block and closes it.
func (t *FromAnthropic) sign(dst []byte, sig string) []byte {
	dst = t.delta(dst, messages.EventDelta{Type: messages.DeltaSignature, Signature: sig})
	return t.stop(dst)
}

func (t *FromAnthropic) event(dst []byte, e messages.Event) []byte {
	b, _ := json.Marshal(e)
	return sse.AppendEvent(dst, e.Type, b)
}

// start closes the open block and opens b.
func (t *FromAnthropic) start(dst []byte, b messages.Block) []byte {
	dst = t.stop(dst)
	t.open, t.index = b.Type, t.next
	t.next++
	i := t.index
	if b.Type == messages.BlockText {
		// Block drops an empty text; Anthropic's stream sends "text":"".
		return sse.AppendEvent(dst, messages.EventContentBlockStart,
			[]byte(`{"type":"content_block_start","index":`+strconv.FormatInt(i, 10)+`,"content_block":{"type":"text","text":""}}`))
	}
	return t.event(dst, messages.Event{Type: messages.EventContentBlockStart, Index: &i, ContentBlock: &b})
}

func (t *FromAnthropic) delta(dst []byte, d messages.EventDelta) []byte {
	i := t.index
	return t.event(dst, messages.Event{Type: messages.EventContentBlockDelta, Index: &i, Delta: &d})
}

func (t *FromAnthropic) stop(dst []byte) []byte {
	if t.open == "" {
		return dst
	}
	t.open = ""
	i := t.index
	return t.event(dst, messages.Event{Type: messages.EventContentBlockStop, Index: &i})
}

// StreamEnd closes the open block and sends message_delta and
// message_stop; a stream that ended before Gemini's finishReason was cut.
func (t *FromAnthropic) StreamEnd(dst []byte) ([]byte, error) {
	if t.finish == "" {
		return dst, api.Errorf(api.ErrUpstream, "the gemini stream ended before its finish reason")
	}
	dst = t.stop(dst)
	u := messages.UsageOf(t.usage)
	dst = t.event(dst, messages.Event{Type: messages.EventMessageDelta, Delta: &messages.EventDelta{StopReason: &t.finish}, Usage: &u})
	return t.event(dst, messages.Event{Type: messages.EventMessageStop}), nil
}
