package gemini

import (
	"strconv"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// FromOpenAI translates an OpenAI Chat Completions exchange to Gemini's
// generateContent and streamGenerateContent.
type FromOpenAI struct {
	common
	client string // the model the client named
	model  string // the model Gemini knows

	stream       bool
	includeUsage bool

	// stream state
	id      string
	created int64
	cands   []candState
}

// candState is a streamed candidate's progress.
type candState struct {
	started  bool // the role chunk was sent
	calls    int  // tool calls sent so far (their next index)
	finished bool
	signed   bool // a reasoning_signature was sent
}

// maxCandidates bounds the candidate index a stream may use, so a broken
// upstream cannot make the state grow without limit.
const maxCandidates = 64

// synthetic marks call ids Sluice made up; they are not sent back to Gemini.
const synthetic = "call_sluice_"

// Request converts the chat request to a generateContent body.
func (t *FromOpenAI) Request(body []byte) (string, []byte, error) {
	var r chat.Request
	if err := chat.Decode(body, &r); err != nil {
		return "", nil, api.DecodeError(err, "Chat Completions", preset.Gemini)
	}
	t.stream = r.Stream
	t.includeUsage = r.StreamOptions != nil && r.StreamOptions.IncludeUsage
	g, err := fromChat(&r)
	if err != nil {
		return "", nil, err
	}
	return generateCall(t.model, r.Stream, g)
}

func fromChat(r *chat.Request) (*request, error) {
	switch {
	case r.Logprobs != nil && *r.Logprobs:
		return nil, unsupported("logprobs")
	case r.TopLogprobs != nil:
		return nil, unsupported("top_logprobs")
	case len(r.LogitBias) > 0:
		return nil, unsupported("logit_bias")
	case len(r.Audio) > 0:
		return nil, unsupported("audio")
	case len(r.Prediction) > 0:
		return nil, unsupported("prediction")
	case len(r.WebSearchOptions) > 0:
		return nil, unsupported("web_search_options")
	case r.Verbosity != "":
		return nil, unsupported("verbosity")
	case r.ParallelToolCalls != nil && !*r.ParallelToolCalls:
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "parallel_tool_calls", Message: "parallel_tool_calls=false is not supported by the gemini provider"}
	case r.ServiceTier != "" && r.ServiceTier != "auto" && r.ServiceTier != "default":
		return nil, unsupported("service_tier")
	}
	for _, m := range r.Modalities {
		if m != "text" {
			return nil, unsupported("modalities")
		}
	}
	// user, metadata, store, prompt_cache_key and safety_identifier have no
	// effect on the answer and no Gemini counterpart: accepted, not sent.
	g := &request{}
	cfg := &generationConfig{
		Temperature: r.Temperature, TopP: r.TopP, Seed: r.Seed,
		PresencePenalty: r.PresencePenalty, FrequencyPenalty: r.FrequencyPenalty, CandidateCount: r.N,
	}
	if n := r.MaxOutput(); n > 0 {
		cfg.MaxOutputTokens = &n
	}
	if r.Stop != nil {
		cfg.StopSequences = r.Stop.Values
	}
	if f := r.ResponseFormat; f != nil {
		switch f.Type {
		case "text", "":
		case "json_object":
			cfg.ResponseMimeType = "application/json"
		case "json_schema":
			cfg.ResponseMimeType = "application/json"
			if f.JSONSchema != nil {
				cfg.ResponseJSONSchema = f.JSONSchema.Schema
			}
		default:
			return nil, unsupported("response_format.type")
		}
	}
	tc, err := chatThinking(r)
	if err != nil {
		return nil, err
	}
	cfg.ThinkingConfig = tc
	if b, _ := json.Marshal(cfg); string(b) != "{}" {
		g.GenerationConfig = cfg
	}

	if len(r.Tools) > 0 {
		decls := make([]functionDeclaration, len(r.Tools))
		for i, tl := range r.Tools {
			if tl.Type != "function" {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: "tools[" + strconv.Itoa(i) + "].type", Message: "tools of type " + strconv.Quote(tl.Type) + " are not supported by the gemini provider"}
			}
			// strict is accepted: Gemini validates calls against the
			// schema it is given but has no switch for it.
			decls[i] = functionDeclaration{Name: tl.Function.Name, Description: tl.Function.Description, ParametersJSONSchema: tl.Function.Parameters}
		}
		g.Tools = []tool{{FunctionDeclarations: decls}}
	}
	if c := r.ToolChoice; c != nil {
		fc := functionCallingConfig{}
		switch {
		case c.Function != "":
			fc.Mode, fc.AllowedFunctionNames = "ANY", []string{c.Function}
		case c.Mode == "none":
			fc.Mode = "NONE"
		case c.Mode == "auto":
			fc.Mode = "AUTO"
		case c.Mode == "required":
			fc.Mode = "ANY"
		default:
			return nil, unsupported("tool_choice")
		}
		g.ToolConfig = &toolConfig{FunctionCallingConfig: fc}
	}

	names := map[string]string{} // tool call id → function name
	lastTool := false
	for i, m := range r.Messages {
		param := "messages[" + strconv.Itoa(i) + "]"
		switch {
		case m.Name != "":
			return nil, unsupported(param + ".name")
		case len(m.Audio) > 0:
			return nil, unsupported(param + ".audio")
		case len(m.FunctionCall) > 0:
			return nil, unsupported(param + ".function_call")
		case len(m.RedactedReasoning) > 0:
			return nil, unsupported(param + ".redacted_reasoning")
		}
		isTool := false
		switch m.Role {
		case chat.RoleSystem, chat.RoleDeveloper:
			parts, err := userParts(m.Content, param)
			if err != nil {
				return nil, err
			}
			for _, p := range parts {
				if p.InlineData != nil || p.FileData != nil {
					return nil, &api.Error{Kind: api.ErrBadRequest, Param: param + ".content", Message: "system messages hold text only for the gemini provider"}
				}
			}
			if g.SystemInstruction == nil {
				g.SystemInstruction = &content{}
			}
			g.SystemInstruction.Parts = append(g.SystemInstruction.Parts, parts...)
		case chat.RoleUser:
			parts, err := userParts(m.Content, param)
			if err != nil {
				return nil, err
			}
			g.Contents = append(g.Contents, content{Role: "user", Parts: parts})
		case chat.RoleAssistant:
			var parts []part
			if s := m.Content.String(); s != "" {
				parts = append(parts, part{Text: s})
			}
			if m.Refusal != "" {
				parts = append(parts, part{Text: m.Refusal})
			}
			first := len(parts)
			for j, c := range m.ToolCalls {
				args, err := parseArgs(c.Function.Arguments, param+".tool_calls["+strconv.Itoa(j)+"].function.arguments")
				if err != nil {
					return nil, err
				}
				names[c.ID] = c.Function.Name
				_, sig := splitSig(c.ID)
				parts = append(parts, part{FunctionCall: &functionCall{ID: sentID(c.ID), Name: c.Function.Name, Args: args}, ThoughtSignature: sig})
			}
			// reasoning_content is not sent back: Gemini restores its
			// reasoning from the signature.
			if m.ReasoningSignature != "" && len(parts) > 0 {
				if first == len(parts) {
					first = 0
				}
				if parts[first].ThoughtSignature == "" {
					parts[first].ThoughtSignature = m.ReasoningSignature
				}
			}
			if len(parts) == 0 {
				parts = []part{{Text: ""}}
			}
			g.Contents = append(g.Contents, content{Role: "model", Parts: parts})
		case chat.RoleTool:
			isTool = true
			name, ok := names[m.ToolCallID]
			if !ok {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: param + ".tool_call_id",
					Message: "tool_call_id " + strconv.Quote(m.ToolCallID) + " matches no earlier assistant tool call; the gemini provider needs it to name the function"}
			}
			p := part{FunctionResponse: &functionResponse{ID: sentID(m.ToolCallID), Name: name, Response: toolResponse(m.Content.String(), false)}}
			if lastTool {
				last := &g.Contents[len(g.Contents)-1]
				last.Parts = append(last.Parts, p)
			} else {
				g.Contents = append(g.Contents, content{Role: "user", Parts: []part{p}})
			}
		default:
			return nil, &api.Error{Kind: api.ErrBadRequest, Param: param + ".role", Message: "unknown role " + strconv.Quote(m.Role)}
		}
		lastTool = isTool
	}
	if len(g.Contents) == 0 {
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "messages", Message: "the gemini provider needs at least one user message"}
	}
	return g, nil
}

// chatThinking reads reasoning_effort, or Sluice's thinking extension.
func chatThinking(r *chat.Request) (*thinkingConfig, error) {
	if len(r.Thinking) > 0 {
		var th struct {
			Type         string `json:"type"`
			BudgetTokens int64  `json:"budget_tokens"`
		}
		if err := json.Unmarshal(r.Thinking, &th); err != nil {
			return nil, &api.Error{Kind: api.ErrBadRequest, Param: "thinking", Message: "thinking must be {\"type\":\"enabled\",\"budget_tokens\":N}"}
		}
		switch th.Type {
		case "enabled":
			return &thinkingConfig{ThinkingBudget: &th.BudgetTokens, IncludeThoughts: true}, nil
		case "disabled":
			zero := int64(0)
			return &thinkingConfig{ThinkingBudget: &zero}, nil
		}
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "thinking.type", Message: "thinking.type must be enabled or disabled"}
	}
	var budget int64
	switch r.ReasoningEffort {
	case "":
		return nil, nil
	case "none", "minimal":
		return &thinkingConfig{ThinkingBudget: &budget}, nil
	case "low":
		budget = 1024
	case "medium":
		budget = 8192
	case "high":
		budget = 24576
	default:
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "reasoning_effort", Message: "reasoning_effort must be none, minimal, low, medium or high"}
	}
	return &thinkingConfig{ThinkingBudget: &budget, IncludeThoughts: true}, nil
}

// userParts converts a user (or system) message's content.
func userParts(c *chat.Content, param string) ([]part, error) {
	if c == nil {
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: param + ".content", Message: "content is required"}
	}
	if !c.IsParts {
		return []part{{Text: c.Text}}, nil
	}
	parts := make([]part, 0, len(c.Parts))
	for j, p := range c.Parts {
		pp := param + ".content[" + strconv.Itoa(j) + "]"
		switch p.Type {
		case chat.PartText:
			parts = append(parts, part{Text: p.Text})
		case chat.PartImageURL:
			if p.ImageURL == nil {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: pp + ".image_url", Message: "image_url is required"}
			}
			mp, err := mediaPart(p.ImageURL.URL, pp+".image_url.url")
			if err != nil {
				return nil, err
			}
			parts = append(parts, mp)
		case chat.PartInputAudio:
			var a struct {
				Data   string `json:"data"`
				Format string `json:"format"`
			}
			if json.Unmarshal(p.InputAudio, &a) != nil || a.Data == "" {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: pp + ".input_audio", Message: "input_audio needs data and format"}
			}
			parts = append(parts, part{InlineData: &blob{MimeType: "audio/" + a.Format, Data: a.Data}})
		case chat.PartFile:
			if p.File == nil || p.File.FileData == "" {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: pp + ".file.file_id", Message: "file_id is not supported by the gemini provider; send file_data"}
			}
			mp, err := mediaPart(p.File.FileData, pp+".file.file_data")
			if err != nil || mp.InlineData == nil {
				return nil, &api.Error{Kind: api.ErrBadRequest, Param: pp + ".file.file_data", Message: "file_data must be a base64 data URL"}
			}
			parts = append(parts, mp)
		case chat.PartRefusal:
			parts = append(parts, part{Text: p.Refusal})
		default:
			return nil, unsupported(pp + ".type")
		}
	}
	return parts, nil
}

// Usage is what Gemini reported.

// Error maps Gemini's error object.
func (t *FromOpenAI) Error(status int, body []byte) error { return upstreamError(status, body) }

// StreamError ends the client's stream with an OpenAI error event.
func (t *FromOpenAI) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

// Response converts a generateContent answer to a chat completion.
func (t *FromOpenAI) Response(body []byte) ([]byte, error) {
	r, err := t.read(body)
	if err != nil {
		return nil, err
	}
	out := chat.Response{ID: "chatcmpl-" + orDefault(r.ResponseID), Object: "chat.completion", Created: t.unix(), Model: t.client}
	if len(r.Candidates) == 0 {
		if r.PromptFeedback == nil || r.PromptFeedback.BlockReason == "" {
			return nil, api.Errorf(api.ErrUpstream, "the gemini backend answered no candidates")
		}
		out.Choices = []chat.Choice{{Message: chat.Message{Role: chat.RoleAssistant, Content: chat.TextContent("")}, FinishReason: chat.FinishContentFilter}}
	}
	for _, c := range r.Candidates {
		text, reasoning, sig, calls := t.readParts(&c, r.ResponseID, 0)
		msg := chat.Message{Role: chat.RoleAssistant, ToolCalls: calls, ReasoningContent: reasoning, ReasoningSignature: sig}
		if text != "" || len(calls) == 0 {
			msg.Content = chat.TextContent(text)
		}
		finish, err := t.finishReason(c.FinishReason, len(msg.ToolCalls) > 0)
		if err != nil {
			return nil, err
		}
		out.Choices = append(out.Choices, chat.Choice{Index: c.Index, Message: msg, FinishReason: finish})
	}
	if t.usage.Reported {
		out.Usage = chat.UsageOf(t.usage)
	}
	return json.Marshal(out)
}

// readParts reads a candidate's parts for an OpenAI client: their text and
// thought text, the first thought signature, and the function calls, the
// first of them numbered n for the ids Sluice makes. Parts with no
// counterpart are counted as skipped.
func (t *FromOpenAI) readParts(c *candidate, responseID string, n int) (text, reasoning, signature string, calls []chat.ToolCall) {
	if c.Content == nil {
		return "", "", "", nil
	}
	var tb, rb strings.Builder
	for i := range c.Content.Parts {
		p := &c.Content.Parts[i]
		if p.ThoughtSignature != "" && signature == "" {
			signature = p.ThoughtSignature
		}
		switch {
		case p.FunctionCall != nil:
			calls = append(calls, t.toolCall(p, responseID, c.Index, n+len(calls)))
		case p.Thought:
			rb.WriteString(p.Text)
		case p.Text != "":
			tb.WriteString(p.Text)
		case p.ThoughtSignature != "":
			// a signature alone: kept above
		default:
			t.skip(p)
		}
	}
	return tb.String(), rb.String(), signature, calls
}

func (t *FromOpenAI) toolCall(p *part, responseID string, cand int64, n int) chat.ToolCall {
	fc := p.FunctionCall
	id := fc.ID
	if id == "" {
		id = callID(synthetic, t.callSeed(responseID)+"/"+strconv.FormatInt(cand, 10), n, fc.Name)
	}
	return chat.ToolCall{ID: withSig(id, p.ThoughtSignature), Type: "function", Function: chat.ToolCallFunction{Name: fc.Name, Arguments: argsOf(fc.Args)}}
}

// StreamEvent converts one streamGenerateContent event (a whole
// GenerateContentResponse holding the new parts) to chat chunks.
func (t *FromOpenAI) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	r, ok, err := t.readEvent(ev)
	if !ok {
		return dst, err
	}
	if t.id == "" {
		t.id = "chatcmpl-" + orDefault(r.ResponseID)
		t.created = t.unix()
	}
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		st := t.cand(0)
		fr := chat.FinishContentFilter
		dst = t.chunk(dst, chat.ChunkChoice{Delta: chat.Delta{Role: chat.RoleAssistant}, FinishReason: &fr})
		st.started, st.finished = true, true
		return dst, nil
	}
	for _, c := range r.Candidates {
		if c.Index < 0 || c.Index >= maxCandidates {
			return dst, api.Errorf(api.ErrUpstream, "the gemini stream sent candidate index %d", c.Index)
		}
		st := t.cand(c.Index)
		var d chat.Delta
		if !st.started {
			d.Role = chat.RoleAssistant
			st.started = true
		}
		text, reasoning, sig, calls := t.readParts(&c, r.ResponseID, st.calls)
		if sig != "" && !st.signed {
			d.ReasoningSignature = sig
			st.signed = true
		}
		for i := range calls {
			idx := int64(st.calls)
			calls[i].Index = &idx
			st.calls++
		}
		d.ToolCalls = calls
		if text != "" {
			s := text // only the pointer taken here escapes
			d.Content = &s
		}
		if reasoning != "" {
			s := reasoning
			d.ReasoningContent = &s
		}
		if d.Role != "" || d.Content != nil || d.ReasoningContent != nil || d.ToolCalls != nil || d.ReasoningSignature != "" {
			dst = t.chunk(dst, chat.ChunkChoice{Index: c.Index, Delta: d})
		}
		if c.FinishReason != "" && !st.finished {
			fr, err := t.finishReason(c.FinishReason, st.calls > 0)
			if err != nil {
				return dst, err
			}
			st.finished = true
			dst = t.chunk(dst, chat.ChunkChoice{Index: c.Index, FinishReason: &fr})
		}
	}
	return dst, nil
}

func (t *FromOpenAI) cand(i int64) *candState {
	for int64(len(t.cands)) <= i {
		t.cands = append(t.cands, candState{})
	}
	return &t.cands[i]
}

func (t *FromOpenAI) chunk(dst []byte, c chat.ChunkChoice) []byte {
	b, _ := json.Marshal(chat.Chunk{ID: t.id, Object: "chat.completion.chunk", Created: t.created, Model: t.client, Choices: []chat.ChunkChoice{c}})
	return sse.AppendEvent(dst, "", b)
}

// StreamEnd closes the client's stream: the usage chunk if the client
// asked for it, then [DONE]. A stream that ended before every candidate
// finished was cut.
func (t *FromOpenAI) StreamEnd(dst []byte) ([]byte, error) {
	if len(t.cands) == 0 {
		return dst, api.Errorf(api.ErrUpstream, "the gemini stream ended before any candidate")
	}
	for _, c := range t.cands {
		if !c.finished {
			return dst, api.Errorf(api.ErrUpstream, "the gemini stream ended before its finish reason")
		}
	}
	if t.includeUsage {
		b, _ := json.Marshal(chat.Chunk{ID: t.id, Object: "chat.completion.chunk", Created: t.created, Model: t.client, Choices: []chat.ChunkChoice{}, Usage: chat.UsageOf(t.usage)})
		dst = sse.AppendEvent(dst, "", b)
	}
	return append(dst, "data: [DONE]\n\n"...), nil
}
