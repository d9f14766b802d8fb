package bedrock

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// fromOpenAI serves an OpenAI Chat Completions client from Converse.
//
// Choices made where the protocols differ:
//   - system and developer messages become Converse system blocks, in
//     order, wherever they stood in the conversation;
//   - tool messages become toolResult blocks in a user turn; turns of the
//     same role are merged, as Converse wants them alternating;
//   - reasoning_content, reasoning_signature and redacted_reasoning (the
//     Sluice extension on assistant messages) become reasoningContent
//     blocks, so Claude's thinking keeps its signature across turns;
//   - response_format json_schema becomes outputConfig.textFormat for the
//     models in nativeJSONSchema, which Bedrock holds to the schema. For
//     other models, and json_object for all, a forced tool whose input
//     schema is the schema (json_object: any object) stands in; the
//     tool's input comes back as the message content, finish_reason
//     "stop". This is best effort: Bedrock does not validate the input
//     against the schema, strict or not, and it cannot be combined with
//     tools (400);
//   - image URLs are refused (400): Converse takes bytes (or S3), and the
//     gateway does not fetch URLs on a client's behalf.
type fromOpenAI struct {
	base
	includeUsage bool
	usage        api.Usage

	// Stream state.
	id      string
	created int64
	started bool
	stopped bool
	finish  string
	tools   []toolIndex // Bedrock content block → OpenAI tool-call index
	// jsonTool names the tool forced for response_format; its input is
	// streamed as content from Bedrock block jsonBlock.
	jsonTool  string
	jsonBlock int64
	inJSON    bool
	unknown   int // events of kinds this translator does not know
}

type toolIndex struct{ block, call int64 }

// Request decodes the client's body strictly and builds a Converse request.
func (t *fromOpenAI) Request(body []byte) (string, []byte, error) {
	var req chat.Request
	if err := chat.Decode(body, &req); err != nil {
		return "", nil, api.DecodeError(err, "Chat Completions", preset.Bedrock)
	}
	t.stream = req.Stream
	t.includeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	cr, err := t.converse(&req)
	if err != nil {
		return "", nil, err
	}
	return converseCall(t.model, req.Stream, cr)
}

func (t *fromOpenAI) converse(req *chat.Request) (*converseRequest, error) {
	if err := refuseOpenAI(req); err != nil {
		return nil, err
	}
	cr := &converseRequest{Messages: []message{}}
	ic := inferenceConfig{Temperature: req.Temperature, TopP: req.TopP}
	if n := req.MaxOutput(); n > 0 {
		ic.MaxTokens = &n
	}
	if req.Stop != nil {
		ic.StopSequences = req.Stop.Values
	}
	if ic.MaxTokens != nil || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		cr.InferenceConfig = &ic
	}
	for i := range req.Messages {
		var err error
		if cr.Messages, cr.System, err = openAIMessage(cr.Messages, cr.System, &req.Messages[i], i); err != nil {
			return nil, err
		}
	}
	if len(req.Tools) > 0 {
		tc := &toolConfig{}
		for i, tl := range req.Tools {
			if tl.Type != "function" {
				return nil, unsupported(fmt.Sprintf("tools[%d].type", i), "tool type "+tl.Type)
			}
			if tl.Function.Strict != nil && *tl.Function.Strict {
				return nil, unsupported(fmt.Sprintf("tools[%d].function.strict", i), "strict function calling")
			}
			schema := tl.Function.Parameters
			if len(schema) == 0 || string(schema) == "null" {
				schema = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			tc.Tools = append(tc.Tools, tool{ToolSpec: &toolSpec{Name: tl.Function.Name, Description: tl.Function.Description, InputSchema: inputSchema{JSON: schema}}})
		}
		if c := req.ToolChoice; c != nil {
			switch {
			case c.Function != "":
				tc.ToolChoice = &toolChoice{Tool: &namedTool{Name: c.Function}}
			case c.Mode == "auto":
				tc.ToolChoice = &toolChoice{Auto: &struct{}{}}
			case c.Mode == "required":
				tc.ToolChoice = &toolChoice{Any: &struct{}{}}
			default:
				return nil, unsupported("tool_choice", "tool_choice "+c.Mode)
			}
		}
		cr.ToolConfig = tc
	} else if req.ToolChoice != nil && req.ToolChoice.Mode != "none" {
		return nil, badRequest("tool_choice", "tool_choice needs tools")
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != "text" {
		name, desc, schema := "json_object", "Answer with a JSON object.", json.RawMessage(`{"type":"object"}`)
		if rf.Type == "json_schema" {
			if rf.JSONSchema == nil || rf.JSONSchema.Name == "" {
				return nil, badRequest("response_format.json_schema", "json_schema needs a name and a schema")
			}
			name, desc = rf.JSONSchema.Name, "Answer with JSON matching this schema."
			if rf.JSONSchema.Description != "" {
				desc = rf.JSONSchema.Description
			}
			if len(rf.JSONSchema.Schema) > 0 {
				schema = rf.JSONSchema.Schema
			}
		}
		if rf.Type == "json_schema" && textFormatFor(t.model) {
			tf, err := jsonSchemaFormat(schema, name, rf.JSONSchema.Description)
			if err != nil {
				return nil, badRequest("response_format.json_schema.schema", "the schema must be JSON")
			}
			cr.OutputConfig = &outputConfig{TextFormat: tf}
		} else {
			if len(req.Tools) > 0 {
				return nil, unsupported("response_format", "response_format "+rf.Type+" together with tools for model "+t.model)
			}
			cr.ToolConfig = jsonToolConfig(name, desc, schema)
			t.jsonTool = name
		}
	}
	if len(req.Thinking) > 0 && string(req.Thinking) != "null" {
		var th any
		if err := json.Unmarshal(req.Thinking, &th); err != nil {
			return nil, badRequest("thinking", "thinking must be an object")
		}
		cr.AdditionalModelRequestFields = map[string]any{"thinking": th}
	} else if req.ReasoningEffort != "" {
		budget, ok := effortBudget[req.ReasoningEffort]
		if !ok || !strings.Contains(t.model, "anthropic.") {
			return nil, unsupported("reasoning_effort", "reasoning_effort "+req.ReasoningEffort+" for model "+t.model)
		}
		cr.AdditionalModelRequestFields = map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": budget}}
	}
	if req.User != "" || req.SafetyIdentifier != "" || len(req.Metadata) > 0 {
		md := map[string]string{}
		if len(req.Metadata) > 0 && json.Unmarshal(req.Metadata, &md) != nil {
			return nil, badRequest("metadata", "metadata must map strings to strings")
		}
		if req.User != "" {
			md["user"] = req.User
		}
		if req.SafetyIdentifier != "" {
			md["safety_identifier"] = req.SafetyIdentifier
		}
		cr.RequestMetadata = md
	}
	return cr, nil
}

// effortBudget maps OpenAI's reasoning_effort to a Claude thinking budget
// on Bedrock (Anthropic models only).
var effortBudget = map[string]int64{"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}

// refuseOpenAI names the first request field Converse cannot honour.
func refuseOpenAI(r *chat.Request) error {
	switch {
	case r.N != nil && *r.N != 1:
		return unsupported("n", "n other than 1")
	case r.ResponseFormat != nil && r.ResponseFormat.Type != "text" && r.ResponseFormat.Type != "json_object" && r.ResponseFormat.Type != "json_schema":
		return unsupported("response_format", "response_format "+r.ResponseFormat.Type)
	case r.Seed != nil:
		return unsupported("seed", "seed")
	case r.PresencePenalty != nil && *r.PresencePenalty != 0:
		return unsupported("presence_penalty", "presence_penalty")
	case r.FrequencyPenalty != nil && *r.FrequencyPenalty != 0:
		return unsupported("frequency_penalty", "frequency_penalty")
	case r.Logprobs != nil && *r.Logprobs:
		return unsupported("logprobs", "logprobs")
	case r.TopLogprobs != nil:
		return unsupported("top_logprobs", "top_logprobs")
	case len(r.LogitBias) > 0 && string(r.LogitBias) != "null":
		return unsupported("logit_bias", "logit_bias")
	case r.Store != nil && *r.Store:
		return unsupported("store", "store")
	case r.ServiceTier != "" && r.ServiceTier != "auto" && r.ServiceTier != "default":
		return unsupported("service_tier", "service_tier "+r.ServiceTier)
	case len(r.Modalities) > 1 || len(r.Modalities) == 1 && r.Modalities[0] != "text":
		return unsupported("modalities", "output modalities other than text")
	case len(r.Audio) > 0 && string(r.Audio) != "null":
		return unsupported("audio", "audio output")
	case len(r.Prediction) > 0 && string(r.Prediction) != "null":
		return unsupported("prediction", "prediction")
	case len(r.WebSearchOptions) > 0 && string(r.WebSearchOptions) != "null":
		return unsupported("web_search_options", "web_search_options")
	case r.PromptCacheKey != "":
		return unsupported("prompt_cache_key", "prompt_cache_key")
	case r.Verbosity != "":
		return unsupported("verbosity", "verbosity")
	case r.ParallelToolCalls != nil && !*r.ParallelToolCalls:
		return unsupported("parallel_tool_calls", "parallel_tool_calls false")
	case r.StreamOptions != nil && r.StreamOptions.IncludeObfuscation != nil && *r.StreamOptions.IncludeObfuscation:
		return unsupported("stream_options.include_obfuscation", "include_obfuscation")
	}
	return nil
}

// openAIMessage appends message i to the Converse messages or system.
func openAIMessage(msgs []message, sys []systemBlock, m *chat.Message, i int) ([]message, []systemBlock, error) {
	at := func(f string) string { return fmt.Sprintf("messages[%d].%s", i, f) }
	switch {
	case m.Name != "":
		return nil, nil, unsupported(at("name"), "the message name field")
	case len(m.Audio) > 0 && string(m.Audio) != "null":
		return nil, nil, unsupported(at("audio"), "assistant audio")
	case len(m.FunctionCall) > 0 && string(m.FunctionCall) != "null":
		return nil, nil, unsupported(at("function_call"), "the deprecated function_call")
	}
	switch m.Role {
	case chat.RoleSystem, chat.RoleDeveloper:
		if m.Content == nil {
			return msgs, sys, nil
		}
		if !m.Content.IsParts {
			return msgs, append(sys, systemBlock{Text: m.Content.Text}), nil
		}
		for j, p := range m.Content.Parts {
			if p.Type != chat.PartText {
				return nil, nil, unsupported(at(fmt.Sprintf("content[%d]", j)), p.Type+" parts in system messages")
			}
			sys = append(sys, systemBlock{Text: p.Text})
		}
		return msgs, sys, nil
	case chat.RoleUser:
		blocks, err := userContent(m.Content, at)
		if err != nil {
			return nil, nil, err
		}
		return appendMessage(msgs, "user", blocks...), sys, nil
	case chat.RoleTool:
		tr := &toolResultBlock{ToolUseID: m.ToolCallID, Content: []toolResultContent{}}
		if m.Content != nil {
			if !m.Content.IsParts {
				s := m.Content.Text
				tr.Content = append(tr.Content, toolResultContent{Text: &s})
			}
			for j, p := range m.Content.Parts {
				if p.Type != chat.PartText {
					return nil, nil, unsupported(at(fmt.Sprintf("content[%d]", j)), p.Type+" parts in tool messages")
				}
				s := p.Text
				tr.Content = append(tr.Content, toolResultContent{Text: &s})
			}
		}
		return appendMessage(msgs, "user", contentBlock{ToolResult: tr}), sys, nil
	case chat.RoleAssistant:
		var blocks []contentBlock
		if m.ReasoningContent != "" || m.ReasoningSignature != "" {
			blocks = append(blocks, contentBlock{ReasoningContent: &reasoningContent{ReasoningText: &reasoningText{Text: m.ReasoningContent, Signature: m.ReasoningSignature}}})
		}
		for _, r := range m.RedactedReasoning {
			blocks = append(blocks, contentBlock{ReasoningContent: &reasoningContent{RedactedContent: r}})
		}
		if m.Content != nil {
			if !m.Content.IsParts && m.Content.Text != "" {
				blocks = append(blocks, textBlock(m.Content.Text))
			}
			for j, p := range m.Content.Parts {
				switch p.Type {
				case chat.PartText:
					blocks = append(blocks, textBlock(p.Text))
				case chat.PartRefusal:
					blocks = append(blocks, textBlock(p.Refusal))
				default:
					return nil, nil, unsupported(at(fmt.Sprintf("content[%d]", j)), p.Type+" parts in assistant messages")
				}
			}
		}
		if m.Refusal != "" {
			blocks = append(blocks, textBlock(m.Refusal))
		}
		for j, tc := range m.ToolCalls {
			input := json.RawMessage(tc.Function.Arguments)
			if strings.TrimSpace(tc.Function.Arguments) == "" {
				input = json.RawMessage("{}")
			} else if !json.Valid(input) {
				return nil, nil, badRequest(at(fmt.Sprintf("tool_calls[%d].function.arguments", j)), "tool call arguments must be JSON for the bedrock provider")
			}
			blocks = append(blocks, contentBlock{ToolUse: &toolUseBlock{ToolUseID: tc.ID, Name: tc.Function.Name, Input: input}})
		}
		if len(blocks) == 0 {
			return msgs, sys, nil
		}
		return appendMessage(msgs, "assistant", blocks...), sys, nil
	}
	return nil, nil, badRequest(at("role"), "unknown role %q", m.Role)
}

// userContent converts a user message's content.
func userContent(c *chat.Content, at func(string) string) ([]contentBlock, error) {
	if c == nil {
		return nil, badRequest(at("content"), "user messages need content")
	}
	if !c.IsParts {
		return []contentBlock{textBlock(c.Text)}, nil
	}
	blocks := make([]contentBlock, 0, len(c.Parts))
	for j, p := range c.Parts {
		field := func(f string) string { return at(fmt.Sprintf("content[%d]%s", j, f)) }
		switch p.Type {
		case chat.PartText:
			blocks = append(blocks, textBlock(p.Text))
		case chat.PartImageURL:
			if p.ImageURL == nil {
				return nil, badRequest(field(".image_url"), "image_url parts need an image_url")
			}
			media, data, ok := api.ParseDataURL(p.ImageURL.URL)
			if !ok {
				return nil, unsupported(field(".image_url.url"), "an image by URL (send it base64 as a data: URL)")
			}
			format, ok := imageFormat(media)
			if !ok {
				return nil, unsupported(field(".image_url.url"), "image type "+media)
			}
			blocks = append(blocks, contentBlock{Image: &imageBlock{Format: format, Source: blobSource{Bytes: data}}})
		case chat.PartFile:
			if p.File == nil || p.File.FileData == "" {
				return nil, unsupported(field(".file.file_id"), "a file by id (send file_data)")
			}
			media, data, ok := api.ParseDataURL(p.File.FileData)
			if !ok {
				return nil, badRequest(field(".file.file_data"), "file_data must be a base64 data: URL")
			}
			format, ok := documentFormat(media)
			if !ok {
				return nil, unsupported(field(".file.file_data"), "file type "+media)
			}
			blocks = append(blocks, contentBlock{Document: &documentBlock{Format: format, Name: documentName(p.File.Filename, field("")), Source: blobSource{Bytes: data}}})
		default:
			return nil, unsupported(field(""), p.Type+" parts")
		}
	}
	return blocks, nil
}

// documentName makes a name Converse accepts (letters, digits, spaces,
// hyphens, parentheses and brackets) from a file name; an unnamed
// document is named for where it stands (messages[0].content[3]:
// "document-0-3"), so names stay unique in the request.
func documentName(filename, at string) string {
	if i := strings.LastIndexByte(filename, '.'); i > 0 {
		filename = filename[:i]
	}
	var b strings.Builder
	for _, r := range filename {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" -()[]", r) {
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		return b.String()
	}
	name := []byte("document")
	digits := false
	for i := 0; i < len(at); i++ {
		if c := at[i]; c >= '0' && c <= '9' {
			if !digits {
				name = append(name, '-')
			}
			name, digits = append(name, c), true
		} else {
			digits = false
		}
	}
	return string(name)
}

// finishReason maps a Converse stop reason to OpenAI's; the forced JSON
// tool's tool_use is the answer's natural end.
func (t *fromOpenAI) finishReason(stop string) string {
	if t.jsonTool != "" && stop == stopToolUse {
		return chat.FinishStop
	}
	return finishReason(stop)
}

// finishReason maps a Converse stop reason to OpenAI's.
func finishReason(stop string) string {
	switch stop {
	case stopToolUse:
		return chat.FinishToolCalls
	case stopMaxTokens, stopContextWindowExceed:
		return chat.FinishLength
	case stopGuardrail, stopContentFiltered:
		return chat.FinishContentFilter
	}
	return chat.FinishStop // end_turn, stop_sequence
}

// Response translates a Converse answer into a chat completion.
func (t *fromOpenAI) Response(body []byte) ([]byte, error) {
	r, err := readResponse(body)
	if err != nil {
		return nil, err
	}
	msg := chat.Message{Role: chat.RoleAssistant}
	var text strings.Builder
	hasText := false
	if r.Output.Message != nil {
		for _, b := range r.Output.Message.Content {
			switch {
			case b.Text != nil:
				text.WriteString(*b.Text)
				hasText = true
			case b.ToolUse != nil && t.jsonTool != "" && b.ToolUse.Name == t.jsonTool:
				text.WriteString(compactJSON(b.ToolUse.Input))
				hasText = true
			case b.ToolUse != nil:
				args := compactJSON(b.ToolUse.Input)
				msg.ToolCalls = append(msg.ToolCalls, chat.ToolCall{ID: b.ToolUse.ToolUseID, Type: "function",
					Function: chat.ToolCallFunction{Name: b.ToolUse.Name, Arguments: args}})
			case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
				msg.ReasoningContent += b.ReasoningContent.ReasoningText.Text
				msg.ReasoningSignature += b.ReasoningContent.ReasoningText.Signature
			case b.ReasoningContent != nil && b.ReasoningContent.RedactedContent != "":
				msg.RedactedReasoning = append(msg.RedactedReasoning, b.ReasoningContent.RedactedContent)
			default:
				return nil, api.Errorf(api.ErrUpstream, "bedrock answered a content block Sluice cannot translate for OpenAI clients")
			}
		}
	}
	if hasText || len(msg.ToolCalls) == 0 {
		msg.Content = chat.TextContent(text.String())
	}
	resp := chat.Response{ID: "chatcmpl-" + t.newID(), Object: "chat.completion", Created: t.now().Unix(), Model: t.client,
		Choices: []chat.Choice{{Message: msg, FinishReason: t.finishReason(r.StopReason)}}}
	if r.Usage != nil {
		t.usage = r.Usage.api()
		resp.Usage = chat.UsageOf(t.usage)
	}
	return json.Marshal(resp)
}

func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Usage is what Bedrock reported.
func (t *fromOpenAI) Usage() api.Usage { return t.usage }

// StreamEvent translates one ConverseStream event into chunks.
func (t *fromOpenAI) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	e, err := readEvent(ev)
	if err != nil {
		return dst, err
	}
	if !t.started {
		t.id, t.created, t.started = "chatcmpl-"+t.newID(), t.now().Unix(), true
		if ev.Type != evMessageStart {
			dst = t.chunk(dst, chat.Delta{Role: chat.RoleAssistant, Content: new(string)}, nil, nil)
		}
	}
	switch ev.Type {
	case evMessageStart:
		return t.chunk(dst, chat.Delta{Role: chat.RoleAssistant, Content: new(string)}, nil, nil), nil
	case evContentBlockStart:
		if e.Start == nil || e.Start.ToolUse == nil {
			t.unknown++ // Converse starts only tool-use blocks explicitly
			return dst, nil
		}
		if t.jsonTool != "" && e.Start.ToolUse.Name == t.jsonTool {
			t.jsonBlock, t.inJSON = e.ContentBlockIndex, true
			return dst, nil // its input is the answer's content
		}
		call := int64(len(t.tools))
		t.tools = append(t.tools, toolIndex{block: e.ContentBlockIndex, call: call})
		return t.chunk(dst, chat.Delta{ToolCalls: []chat.ToolCall{{Index: &call, ID: e.Start.ToolUse.ToolUseID, Type: "function",
			Function: chat.ToolCallFunction{Name: e.Start.ToolUse.Name}}}}, nil, nil), nil
	case evContentBlockDelta:
		d := e.Delta
		switch {
		case d == nil:
		case d.Text != nil:
			return t.chunk(dst, chat.Delta{Content: d.Text}, nil, nil), nil
		case d.ToolUse != nil && t.inJSON && e.ContentBlockIndex == t.jsonBlock:
			return t.chunk(dst, chat.Delta{Content: &d.ToolUse.Input}, nil, nil), nil
		case d.ToolUse != nil:
			call, ok := t.toolCall(e.ContentBlockIndex)
			if !ok {
				return dst, api.Errorf(api.ErrUpstream, "bedrock sent tool input for a block it never started")
			}
			return t.chunk(dst, chat.Delta{ToolCalls: []chat.ToolCall{{Index: &call, Function: chat.ToolCallFunction{Arguments: d.ToolUse.Input}}}}, nil, nil), nil
		case d.ReasoningContent != nil:
			rc := d.ReasoningContent
			switch {
			case rc.Text != nil:
				return t.chunk(dst, chat.Delta{ReasoningContent: rc.Text}, nil, nil), nil
			case rc.Signature != nil:
				return t.chunk(dst, chat.Delta{ReasoningSignature: *rc.Signature}, nil, nil), nil
			case rc.RedactedContent != nil:
				return t.chunk(dst, chat.Delta{RedactedReasoning: []string{*rc.RedactedContent}}, nil, nil), nil
			}
		}
		t.unknown++
		return dst, nil
	case evContentBlockStop:
		return dst, nil
	case evMessageStop:
		t.stopped = true
		t.finish = t.finishReason(e.StopReason)
		return t.chunk(dst, chat.Delta{}, &t.finish, nil), nil
	case evMetadata:
		if e.Usage == nil {
			return dst, nil
		}
		t.usage = e.Usage.api()
		if !t.includeUsage {
			return dst, nil
		}
		return t.chunk(dst, chat.Delta{}, nil, chat.UsageOf(t.usage)), nil
	}
	t.unknown++
	return dst, nil
}

func (t *fromOpenAI) toolCall(block int64) (int64, bool) {
	for _, ti := range t.tools {
		if ti.block == block {
			return ti.call, true
		}
	}
	return 0, false
}

// chunk appends one chat.completion.chunk: a delta with an optional finish
// reason, or (usage set) the usage-only chunk with no choices.
func (t *fromOpenAI) chunk(dst []byte, d chat.Delta, finish *string, u *chat.Usage) []byte {
	c := chat.Chunk{ID: t.id, Object: "chat.completion.chunk", Created: t.created, Model: t.client, Choices: []chat.ChunkChoice{}}
	if u != nil {
		c.Usage = u
	} else {
		c.Choices = append(c.Choices, chat.ChunkChoice{Delta: d, FinishReason: finish})
	}
	b, _ := json.Marshal(c) // plain structs: cannot fail
	return sse.AppendEvent(dst, "", b)
}

// StreamEnd closes the stream with [DONE] once Bedrock has sent
// messageStop; a stream that ends before it was cut.
func (t *fromOpenAI) StreamEnd(dst []byte) ([]byte, error) {
	if !t.stopped {
		return dst, api.Errorf(api.ErrUpstream, "the bedrock stream ended before its messageStop event")
	}
	return sse.AppendEvent(dst, "", []byte("[DONE]")), nil
}

// StreamError ends the stream with an OpenAI error chunk.
func (t *fromOpenAI) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

// SkippedEvents counts stream events this translator had no use for
// (unknown event kinds or delta members); the gateway puts the count on
// the request's log line.
func (t *fromOpenAI) SkippedEvents() int { return t.unknown }

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
