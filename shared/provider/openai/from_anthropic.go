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
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/rawjson"
)

// providerName is how refusals name this provider.
const providerName = "openai"

// fromAnthropic translates one Anthropic Messages exchange to OpenAI Chat
// Completions and back. Choices made where the two APIs differ:
//
//   - system (a string or text blocks, joined by a blank line) becomes the
//     first message, role "system".
//   - max_tokens becomes max_completion_tokens; top_k, server tools,
//     containers, MCP servers and context management have no counterpart
//     and are refused with a 400 naming the field.
//   - cache_control marks are not sent: OpenAI caches prompts itself, with
//     no client control, and reports cached tokens in the usage.
//   - thinking {"type":"enabled","budget_tokens":N} becomes reasoning_effort
//     by budget: below 4,096 tokens "low", below 16,384 "medium", else
//     "high". output_config.effort, when set, wins: low, medium and high
//     pass as they are; xhigh and max become "xhigh". Adaptive thinking
//     leaves the backend's default.
//   - Thinking blocks of earlier assistant turns go back as
//     reasoning_content (with reasoning_signature and redacted_reasoning,
//     Sluice's extension), the field reasoning backends (DeepSeek, vLLM)
//     return them in; a backend that returns none never sees any.
//   - A tool_result with is_error is sent as a tool message whose content
//     starts with "Error: ", the only way Chat Completions can say so.
//   - output_format (or output_config.format) json_schema becomes
//     response_format json_schema named "output", not strict: OpenAI's
//     strict mode requires every property to be required, Anthropic's does
//     not.
//   - thinking.display "omitted" drops the reasoning text from the reply,
//     as Anthropic does; a signature, if any, still comes back.
//   - Citations on earlier assistant text are not sent: they annotate
//     the text, which goes as it is.
//   - service_tier "auto" stays "auto"; "standard_only" becomes "default".
//   - finish_reason: stop → end_turn, or stop_sequence with the sequence
//     when the backend names the one that matched (vLLM's stop_reason);
//     length → max_tokens; tool_calls (or stop after tool calls) →
//     tool_use; content_filter, or a refusal, → refusal (the refusal text
//     comes as a text block).
//   - Streamed tool calls each open a tool_use block; a call whose
//     arguments are not yet whole JSON when the next starts stays open,
//     so interleaved deltas keep their own block index.
//   - The reply's id is the backend's, prefixed "msg_" when it lacks it.
type fromAnthropic struct {
	client string // the model the client asked for, echoed in replies
	model  string // the model the backend knows
	stops  []string
	usage  api.Usage
	// omitThinking is set when the client asked for thinking with
	// display "omitted": reasoning text is then not returned, as
	// Anthropic returns none (the usage still counts it).
	omitThinking bool
	// skipped counts upstream events with no Anthropic counterpart (SSE
	// events of a type OpenAI does not define, chunks after [DONE]): they
	// are not sent to the client, and the gateway logs the count.
	skipped int

	st  streamState
	buf []byte // scratch for one event's data
}

func newFromAnthropic(client, upstream string) *fromAnthropic {
	return &fromAnthropic{client: client, model: upstream, st: streamState{open: -1}}
}

func unsupported(param, what string) error {
	return &api.Error{Kind: api.ErrBadRequest, Param: param,
		Message: what + " is not supported by the " + providerName + " provider"}
}

// Request translates a Messages request into a chat completion request.
func (t *fromAnthropic) Request(body []byte) (string, []byte, error) {
	var in messages.Request
	if err := messages.Decode(body, &in); err != nil {
		return "", nil, api.DecodeError(err, "Messages", providerName)
	}
	out, err := t.chatRequest(&in)
	if err != nil {
		return "", nil, err
	}
	b, err := marshal(out)
	if err != nil {
		return "", nil, api.Errorf(api.ErrBadRequest, "request could not be encoded: %v", err)
	}
	return "/chat/completions", b, nil
}

func (t *fromAnthropic) chatRequest(in *messages.Request) (*chat.Request, error) {
	out := &chat.Request{Model: t.model, Stream: in.Stream, Temperature: in.Temperature, TopP: in.TopP}
	if in.Stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if in.MaxTokens <= 0 {
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: "max_tokens", Message: "max_tokens: a positive number is required"}
	}
	mt := in.MaxTokens
	out.MaxCompletionTokens = &mt
	switch {
	case in.TopK != nil:
		return nil, unsupported("top_k", "top_k")
	case in.AnthropicOnly() != "":
		return nil, unsupported(in.AnthropicOnly(), in.AnthropicOnly())
	}
	if len(in.StopSequences) > 0 {
		out.Stop = &chat.Stop{Values: in.StopSequences}
		t.stops = in.StopSequences
	}
	if in.Metadata != nil {
		out.User = in.Metadata.UserID
	}
	switch in.ServiceTier {
	case "":
	case "auto":
		out.ServiceTier = "auto"
	case "standard_only":
		out.ServiceTier = "default"
	default:
		return nil, unsupported("service_tier", "service_tier "+strconv.Quote(in.ServiceTier))
	}
	if err := reasoning(in, out); err != nil {
		return nil, err
	}
	t.omitThinking = in.Thinking != nil && in.Thinking.Display == "omitted"
	format, formatParam, err := in.Format()
	if err != nil {
		return nil, err
	}
	if format != nil {
		if format.Type != "json_schema" {
			return nil, unsupported(formatParam+".type", formatParam+".type "+strconv.Quote(format.Type))
		}
		out.ResponseFormat = &chat.ResponseFormat{Type: "json_schema",
			JSONSchema: &chat.JSONSchema{Name: "output", Schema: format.Schema}}
	}
	if err := tools(in, out); err != nil {
		return nil, err
	}
	if in.System != nil {
		var sys []string
		for i, b := range in.System.AsBlocks() {
			if b.Type != messages.BlockText {
				return nil, unsupported("system["+strconv.Itoa(i)+"].type", "system block type "+strconv.Quote(b.Type))
			}
			sys = append(sys, b.Text)
		}
		if len(sys) > 0 {
			out.Messages = append(out.Messages, chat.Message{Role: chat.RoleSystem, Content: chat.TextContent(strings.Join(sys, "\n\n"))})
		}
	}
	for i := range in.Messages {
		var err error
		out.Messages, err = appendMessage(out.Messages, &in.Messages[i], "messages["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reasoning maps thinking and output_config.effort to reasoning_effort.
func reasoning(in *messages.Request, out *chat.Request) error {
	if th := in.Thinking; th != nil {
		switch th.Type {
		case "disabled", "adaptive":
		case "enabled":
			switch b := th.BudgetTokens; {
			case b < 4096:
				out.ReasoningEffort = "low"
			case b < 16384:
				out.ReasoningEffort = "medium"
			default:
				out.ReasoningEffort = "high"
			}
		default:
			return unsupported("thinking.type", "thinking type "+strconv.Quote(th.Type))
		}
	}
	e, err := in.Effort()
	switch e {
	case "low", "medium", "high":
		out.ReasoningEffort = e
	case "xhigh", "max":
		out.ReasoningEffort = "xhigh"
	}
	return err
}

// tools maps client tools and tool_choice to function tools.
func tools(in *messages.Request, out *chat.Request) error {
	for i, tl := range in.Tools {
		if tl.Type != "" && tl.Type != "custom" {
			return unsupported("tools["+strconv.Itoa(i)+"].type", "tool type "+strconv.Quote(tl.Type))
		}
		// eager_input_streaming is a latency hint: OpenAI streams
		// arguments unvalidated anyway.
		out.Tools = append(out.Tools, chat.Tool{Type: "function", Function: chat.Function{
			Name: tl.Name, Description: tl.Description, Parameters: tl.InputSchema, Strict: tl.Strict}})
	}
	tc := in.ToolChoice
	if tc == nil {
		return nil
	}
	if len(out.Tools) == 0 {
		// OpenAI refuses tool_choice without tools; "auto" and "none"
		// then say nothing, and a forced call cannot be made.
		if tc.Type == "auto" || tc.Type == "none" {
			return nil
		}
		return &api.Error{Kind: api.ErrBadRequest, Param: "tool_choice", Message: "tool_choice " + strconv.Quote(tc.Type) + " needs tools"}
	}
	switch tc.Type {
	case "auto":
		out.ToolChoice = &chat.ToolChoice{Mode: "auto"}
	case "any":
		out.ToolChoice = &chat.ToolChoice{Mode: "required"}
	case "tool":
		if tc.Name == "" {
			return &api.Error{Kind: api.ErrBadRequest, Param: "tool_choice.name", Message: "tool_choice.name is required when type is \"tool\""}
		}
		out.ToolChoice = &chat.ToolChoice{Function: tc.Name}
	case "none":
		out.ToolChoice = &chat.ToolChoice{Mode: "none"}
	default:
		return unsupported("tool_choice.type", "tool_choice type "+strconv.Quote(tc.Type))
	}
	if tc.DisableParallelToolUse != nil && *tc.DisableParallelToolUse && len(out.Tools) > 0 {
		f := false
		out.ParallelToolCalls = &f
	}
	return nil
}

// appendMessage appends the chat messages one Anthropic turn becomes: a
// user turn's tool results become tool messages, ahead of what else it
// says; an assistant turn becomes one message with its tool calls.
func appendMessage(dst []chat.Message, m *messages.Message, at string) ([]chat.Message, error) {
	switch m.Role {
	case messages.RoleUser:
		if !m.Content.IsBlocks {
			return append(dst, chat.Message{Role: chat.RoleUser, Content: chat.TextContent(m.Content.Text)}), nil
		}
		var parts []chat.Part
		for j := range m.Content.Blocks {
			b := &m.Content.Blocks[j]
			bat := at + ".content[" + strconv.Itoa(j) + "]"
			switch b.Type {
			case messages.BlockText:
				parts = append(parts, chat.Part{Type: chat.PartText, Text: b.Text})
			case messages.BlockImage:
				p, err := imagePart(b.Source, bat)
				if err != nil {
					return nil, err
				}
				parts = append(parts, p)
			case messages.BlockDocument:
				p, err := documentPart(b, bat)
				if err != nil {
					return nil, err
				}
				parts = append(parts, p)
			case messages.BlockToolResult:
				msg, err := toolMessage(b, bat)
				if err != nil {
					return nil, err
				}
				dst = append(dst, msg)
			default:
				return nil, unsupported(bat+".type", "content block type "+strconv.Quote(b.Type)+" in a user turn")
			}
		}
		if len(parts) == 0 {
			return dst, nil
		}
		c := &chat.Content{Parts: parts, IsParts: true}
		if len(parts) == 1 && parts[0].Type == chat.PartText {
			c = chat.TextContent(parts[0].Text)
		}
		return append(dst, chat.Message{Role: chat.RoleUser, Content: c}), nil
	case messages.RoleAssistant:
		msg := chat.Message{Role: chat.RoleAssistant}
		if !m.Content.IsBlocks {
			msg.Content = chat.TextContent(m.Content.Text)
			return append(dst, msg), nil
		}
		var text strings.Builder
		hasText := false
		for j := range m.Content.Blocks {
			b := &m.Content.Blocks[j]
			switch b.Type {
			case messages.BlockText:
				text.WriteString(b.Text)
				hasText = true
			case messages.BlockToolUse:
				args := "{}"
				if len(b.Input) > 0 {
					args = string(b.Input)
				}
				msg.ToolCalls = append(msg.ToolCalls, chat.ToolCall{ID: b.ID, Type: "function",
					Function: chat.ToolCallFunction{Name: b.Name, Arguments: args}})
			case messages.BlockThinking:
				if b.Thinking != nil {
					msg.ReasoningContent += *b.Thinking
				}
				if b.Signature != nil {
					msg.ReasoningSignature += *b.Signature
				}
			case messages.BlockRedactedThinking:
				msg.RedactedReasoning = append(msg.RedactedReasoning, b.Data)
			default:
				return nil, unsupported(at+".content["+strconv.Itoa(j)+"].type", "content block type "+strconv.Quote(b.Type)+" in an assistant turn")
			}
		}
		if hasText || len(msg.ToolCalls) == 0 {
			msg.Content = chat.TextContent(text.String())
		}
		return append(dst, msg), nil
	}
	return nil, &api.Error{Kind: api.ErrBadRequest, Param: at + ".role", Message: "role must be \"user\" or \"assistant\", not " + strconv.Quote(m.Role)}
}

// imagePart makes an image_url part: base64 data as a data: URL, a URL
// as it is.
func imagePart(src *messages.Source, at string) (chat.Part, error) {
	if src == nil {
		return chat.Part{}, &api.Error{Kind: api.ErrBadRequest, Param: at + ".source", Message: "an image needs a source"}
	}
	switch src.Type {
	case "base64":
		return chat.Part{Type: chat.PartImageURL, ImageURL: &chat.ImageURL{URL: "data:" + src.MediaType + ";base64," + src.Data}}, nil
	case "url":
		return chat.Part{Type: chat.PartImageURL, ImageURL: &chat.ImageURL{URL: src.URL}}, nil
	}
	return chat.Part{}, unsupported(at+".source.type", "image source type "+strconv.Quote(src.Type))
}

// documentPart makes a file part of a base64 PDF; Chat Completions takes
// no other document.
func documentPart(b *messages.Block, at string) (chat.Part, error) {
	if len(b.Citations) > 0 && bytes.Contains(b.Citations, []byte("true")) {
		return chat.Part{}, unsupported(at+".citations", "citations on documents")
	}
	src := b.Source
	if src == nil || src.Type != "base64" || src.MediaType != "application/pdf" {
		what := "document source"
		if src != nil {
			what += " " + strconv.Quote(src.Type)
			if src.MediaType != "" {
				what += " of type " + strconv.Quote(src.MediaType)
			}
		}
		return chat.Part{}, unsupported(at+".source", what)
	}
	name := b.Title
	if name == "" {
		name = "document.pdf"
	}
	return chat.Part{Type: chat.PartFile, File: &chat.File{Filename: name, FileData: "data:application/pdf;base64," + src.Data}}, nil
}

// toolMessage makes the tool message of a tool_result block.
func toolMessage(b *messages.Block, at string) (chat.Message, error) {
	var text strings.Builder
	if b.IsError {
		text.WriteString("Error: ")
	}
	if b.Content != nil {
		if !b.Content.IsBlocks {
			text.WriteString(b.Content.Text)
		}
		for k, c := range b.Content.Blocks {
			if c.Type != messages.BlockText {
				return chat.Message{}, unsupported(at+".content["+strconv.Itoa(k)+"].type", "content block type "+strconv.Quote(c.Type)+" in a tool_result")
			}
			if k > 0 {
				text.WriteByte('\n')
			}
			text.WriteString(c.Text)
		}
	}
	return chat.Message{Role: chat.RoleTool, ToolCallID: b.ToolUseID, Content: chat.TextContent(strings.TrimSuffix(text.String(), " "))}, nil
}

// Header sets the content type: anthropic-version means nothing here.
func (t *fromAnthropic) Header(h http.Header) {
	h.Set("Content-Type", "application/json")
}

// Usage is what the backend reported.
func (t *fromAnthropic) Usage() api.Usage { return t.usage }

// SkippedEvents counts the upstream events with no Anthropic counterpart;
// the gateway puts the count on the request's log line.
func (t *fromAnthropic) SkippedEvents() int { return t.skipped }

var (
	_ provider.Translator   = (*fromAnthropic)(nil)
	_ provider.StreamEnder  = (*fromAnthropic)(nil)
	_ provider.EventCounter = (*fromAnthropic)(nil)
)

// choiceMessage is an assistant message as OpenAI-compatible servers send
// it; some name the reasoning text "reasoning" (vLLM, Ollama, OpenRouter).
type choiceMessage struct {
	chat.Message
	Reasoning string `json:"reasoning"`
}

// wireResponse is a chat completion with the fields only some servers
// send: vLLM puts the stop string that matched in a choice's stop_reason.
type wireResponse struct {
	ID      string `json:"id"`
	Choices []struct {
		Message      choiceMessage   `json:"message"`
		FinishReason string          `json:"finish_reason"`
		StopReason   json.RawMessage `json:"stop_reason"`
	} `json:"choices"`
	Usage *wireUsage `json:"usage"`
}

// Response translates a whole chat completion into a Message.
func (t *fromAnthropic) Response(body []byte) ([]byte, error) {
	var in wireResponse
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, api.BadUpstreamBody(providerName, "a response body")
	}
	if in.Usage != nil {
		t.usage = in.Usage.api()
	}
	out := messages.Response{ID: messageID(in.ID), Type: "message", Role: messages.RoleAssistant, Model: t.client,
		Content: []messages.Block{}, Usage: messages.UsageOf(t.usage)}
	finish := ""
	if len(in.Choices) > 0 {
		c := &in.Choices[0]
		finish = c.FinishReason
		m := &c.Message
		thinking := m.ReasoningContent
		if thinking == "" {
			thinking = m.Reasoning
		}
		if t.omitThinking {
			thinking = ""
		}
		if thinking != "" || m.ReasoningSignature != "" {
			sig := m.ReasoningSignature
			out.Content = append(out.Content, messages.Block{Type: messages.BlockThinking, Thinking: &thinking, Signature: &sig})
		}
		for _, r := range m.RedactedReasoning {
			out.Content = append(out.Content, messages.Block{Type: messages.BlockRedactedThinking, Data: r})
		}
		if s := m.Content.String(); s != "" {
			out.Content = append(out.Content, messages.Block{Type: messages.BlockText, Text: s})
		}
		if m.Refusal != "" {
			out.Content = append(out.Content, messages.Block{Type: messages.BlockText, Text: m.Refusal})
			t.st.refusal = true
		}
		for _, tc := range m.ToolCalls {
			input := json.RawMessage(tc.Function.Arguments)
			if strings.TrimSpace(tc.Function.Arguments) == "" {
				input = json.RawMessage("{}")
			} else if !json.Valid(input) {
				return nil, api.Errorf(api.ErrUpstream, "backend returned arguments for tool %q that are not JSON", tc.Function.Name)
			}
			out.Content = append(out.Content, messages.Block{Type: messages.BlockToolUse, ID: tc.ID, Name: tc.Function.Name, Input: input})
		}
		if len(m.ToolCalls) > 0 && finish == chat.FinishStop {
			finish = chat.FinishToolCalls // some servers say "stop" after calls
		}
		t.st.stopSeq = t.matchedStop(c.StopReason)
	}
	reason, seq := t.stopReason(finish)
	out.StopReason, out.StopSequence = &reason, seq
	b, err := marshal(out)
	if err != nil {
		return nil, api.Errorf(api.ErrUpstream, "translating the backend's answer: %v", err)
	}
	return b, nil
}

// matchedStop is the stop sequence a vLLM-style stop_reason names, if it
// is one the client asked for.
func (t *fromAnthropic) matchedStop(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	for _, stop := range t.stops {
		if stop == s {
			return s
		}
	}
	return ""
}

// stopReason maps a finish_reason to Anthropic's stop_reason and
// stop_sequence.
func (t *fromAnthropic) stopReason(finish string) (string, *string) {
	if t.st.refusal {
		return messages.StopRefusal, nil
	}
	switch finish {
	case chat.FinishLength:
		return messages.StopMaxTokens, nil
	case chat.FinishToolCalls, "function_call":
		return messages.StopToolUse, nil
	case chat.FinishContentFilter:
		return messages.StopRefusal, nil
	}
	if t.st.stopSeq != "" {
		s := t.st.stopSeq
		return messages.StopSequence, &s
	}
	return messages.StopEndTurn, nil
}

func messageID(id string) string {
	if strings.HasPrefix(id, "msg_") {
		return id
	}
	if id == "" {
		return "msg_sluice"
	}
	return "msg_" + id
}

// Error maps an upstream error to the Anthropic error type of its status:
// 429 rate_limit_error, 503 and 529 overloaded_error, 4xx
// invalid_request_error, and so on. Anthropic's error object has no code,
// so a context-length error keeps its code in the message.
func (t *fromAnthropic) Error(status int, body []byte) error {
	e := openAIError(status, body)
	switch status {
	case http.StatusServiceUnavailable, 529:
		e.Kind = api.ErrUnavailable
		if e.Message == "upstream returned status " {
			e.Message = "upstream returned status 529 (overloaded)"
		}
	}
	withCode(e)
	return e
}

// withCode keeps a context-length error recognisable in Anthropic's
// message-only error object.
func withCode(e *api.Error) {
	if e.Code == "context_length_exceeded" && !strings.Contains(e.Message, e.Code) {
		e.Message += " (context_length_exceeded)"
	}
}

// marshal encodes v as JSON without escaping <, > and &: text reaches
// the other side as the client wrote it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// appendString appends s as a JSON string, escaping only what JSON needs
// (no HTML escaping).
func appendString(dst []byte, s string) []byte { return rawjson.AppendString(dst, s, false) }
