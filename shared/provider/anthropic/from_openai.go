package anthropic

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
)

// DefaultMaxTokens is the max_tokens sent when an OpenAI client sets
// neither max_completion_tokens nor max_tokens: Anthropic requires one, and
// every Claude model can produce at least this many. With extended thinking
// the thinking budget is added to it.
const DefaultMaxTokens = 4096

// EffortBudgets maps OpenAI's reasoning_effort to an extended-thinking
// budget (thinking.budget_tokens). "none" turns thinking off; 1024 is
// Anthropic's smallest budget.
var EffortBudgets = map[string]int64{
	"minimal": 1024,
	"low":     2048,
	"medium":  8192,
	"high":    16384,
	"xhigh":   32768,
}

// FromOpenAI translates an OpenAI Chat Completions exchange to Anthropic's
// Messages API and back. What cannot be honoured is refused with a 400
// naming the field; the few fields accepted and ignored are harmless and
// listed in Request's documentation.
type FromOpenAI struct {
	betas
	client string
	model  string
	// Now is the clock for "created"; nil means time.Now.
	Now func() time.Time

	includeUsage bool

	// Stream state.
	started  bool   // message_start was seen
	stopped  bool   // message_stop was seen
	prefix   []byte // a chunk up to its delta: {"id":..,"choices":[{"index":0,"delta":
	head     []byte // a usage chunk's start: {"id":..,"model":..
	blocks   []blockKind
	toolIdx  []int // per content block, the tool call index (tool_use blocks)
	tools    int   // tool calls opened so far
	skipped  int   // upstream events or blocks not translated
	usage    messages.Usage
	reported bool
	scratch  []byte // the delta being built
	ev       messages.Event
	idx      int64
	delta    messages.EventDelta
}

type blockKind uint8

// maxBlocks bounds the content block indexes a stream may use, so a
// misbehaving upstream cannot make the translator allocate without limit.
const maxBlocks = 1 << 14

const (
	blockOther blockKind = iota
	blockText
	blockThinking
	blockRedacted
	blockToolUse
)

// NewFromOpenAI returns a translator for one chat completion request.
func NewFromOpenAI(client, upstream string) *FromOpenAI {
	return &FromOpenAI{client: client, model: upstream}
}

func (t *FromOpenAI) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// unsupported is the 400 for a field Anthropic cannot honour.
func unsupported(field, why string) *api.Error {
	msg := "'" + field + "' is not supported by the anthropic provider"
	if why != "" {
		msg += ": " + why
	}
	return &api.Error{Kind: api.ErrBadRequest, Param: field, Message: msg}
}

func invalid(field, format string, args ...any) *api.Error {
	return &api.Error{Kind: api.ErrBadRequest, Param: field, Message: fmt.Sprintf(format, args...)}
}

// Request translates an OpenAI chat completion request into a Messages
// request.
//
// Mapping: system and developer messages (wherever they stand) become the
// system prompt, one text block each; tool messages become tool_result
// blocks, consecutive ones merged into one user turn (tool results first,
// as Anthropic requires); an assistant's reasoning_content with its
// reasoning_signature, and its redacted_reasoning, become thinking and
// redacted_thinking blocks placed first in its turn. reasoning_content
// without a signature cannot be verified by Claude and is not sent (Claude
// discards earlier turns' thinking anyway). reasoning_effort maps to a
// thinking budget by EffortBudgets; the thinking extension is sent as
// given; setting both is refused. response_format json_schema becomes
// output_config.format; json_object is refused (Claude has no schema-free
// JSON mode; use json_schema). user (or safety_identifier) becomes
// metadata.user_id. max_completion_tokens (else max_tokens, else
// DefaultMaxTokens plus any thinking budget) becomes max_tokens; stop
// becomes stop_sequences; tool_choice required becomes any and a named
// function tool; parallel_tool_calls false becomes
// disable_parallel_tool_use; a function's strict flag is kept (Anthropic
// has the same one). Images by data: URL become base64 sources, by http(s)
// URL url sources; PDF and plain-text file parts become documents titled
// with the file name.
//
// Accepted and ignored, as harmless: a message's name, image detail,
// store, metadata, prompt_cache_key, service_tier auto/default,
// stream_options.include_obfuscation, logprobs false, n 1, zero
// presence/frequency penalties, modalities ["text"].
//
// Refused with a 400 naming the field: n > 1, logprobs, top_logprobs,
// logit_bias, audio, audio modalities and input_audio parts, non-zero
// presence/frequency penalties, seed, prediction, web_search_options,
// verbosity, other service tiers, file ids, function_call, temperature
// above 1.
//
// Plainly shaped requests (text messages and the common sampling fields)
// are read and written without reflection by fastRequest, which translates
// them as decodeRequest does; it leaves all others, and every refusal, to
// decodeRequest.
func (t *FromOpenAI) Request(body []byte) (string, []byte, error) {
	if out, ok := t.fastRequest(body); ok {
		return pathMessages, out, nil
	}
	return t.decodeRequest(body)
}

// decodeRequest translates any request, decoding it whole.
func (t *FromOpenAI) decodeRequest(body []byte) (string, []byte, error) {
	var req chat.Request
	if err := chat.Decode(body, &req); err != nil {
		return "", nil, api.DecodeError(err, "Chat Completions", preset.Anthropic)
	}
	if err := checkUnsupported(&req); err != nil {
		return "", nil, err
	}
	out := messages.Request{Model: t.model, Stream: req.Stream, Temperature: req.Temperature, TopP: req.TopP}
	t.includeUsage = req.Stream && req.StreamOptions != nil && req.StreamOptions.IncludeUsage

	system, msgs, err := convertMessages(req.Messages)
	if err != nil {
		return "", nil, err
	}
	if len(system) > 0 {
		out.System = &messages.Content{Blocks: system, IsBlocks: true}
	}
	out.Messages = msgs
	if req.Stop != nil {
		out.StopSequences = req.Stop.Values
	}
	if err := convertTools(&req, &out); err != nil {
		return "", nil, err
	}
	if err := convertFormat(&req, &out); err != nil {
		return "", nil, err
	}
	if u := req.SafetyIdentifier; u != "" {
		out.Metadata = &messages.Metadata{UserID: u}
	} else if req.User != "" {
		out.Metadata = &messages.Metadata{UserID: req.User}
	}
	if err := convertThinking(&req, &out); err != nil {
		return "", nil, err
	}
	enc, err := json.Marshal(&out)
	if err != nil {
		return "", nil, fmt.Errorf("%w: encoding the anthropic request: %w", api.ErrBadRequest, err)
	}
	return pathMessages, enc, nil
}

func checkUnsupported(r *chat.Request) error {
	switch {
	case r.N != nil && *r.N != 1:
		return unsupported("n", "Claude returns one choice per request")
	case r.Logprobs != nil && *r.Logprobs:
		return unsupported("logprobs", "")
	case r.TopLogprobs != nil:
		return unsupported("top_logprobs", "")
	case len(r.LogitBias) > 0 && !isNullish(r.LogitBias):
		return unsupported("logit_bias", "")
	case len(r.Audio) > 0 && !isNullish(r.Audio):
		return unsupported("audio", "")
	case r.PresencePenalty != nil && *r.PresencePenalty != 0:
		return unsupported("presence_penalty", "")
	case r.FrequencyPenalty != nil && *r.FrequencyPenalty != 0:
		return unsupported("frequency_penalty", "")
	case r.Seed != nil:
		return unsupported("seed", "")
	case len(r.Prediction) > 0 && !isNullish(r.Prediction):
		return unsupported("prediction", "")
	case len(r.WebSearchOptions) > 0 && !isNullish(r.WebSearchOptions):
		return unsupported("web_search_options", "")
	case r.Verbosity != "":
		return unsupported("verbosity", "")
	case r.ServiceTier != "" && r.ServiceTier != "auto" && r.ServiceTier != "default":
		return unsupported("service_tier", "only auto and default are")
	case r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 1):
		return invalid("temperature", "temperature must be between 0 and 1 for the anthropic provider, got %g", *r.Temperature)
	}
	for _, m := range r.Modalities {
		if m != "text" {
			return unsupported("modalities", "only text output is")
		}
	}
	return nil
}

func isNullish(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s == "null" || s == "{}" || s == "[]"
}

// convertMessages splits the conversation into the system prompt and
// alternating turns.
func convertMessages(in []chat.Message) ([]messages.Block, []messages.Message, error) {
	var system []messages.Block
	out := make([]messages.Message, 0, len(in))
	for i, m := range in {
		field := "messages[" + strconv.Itoa(i) + "]"
		if len(m.Audio) > 0 && !isNullish(m.Audio) {
			return nil, nil, unsupported(field+".audio", "")
		}
		if len(m.FunctionCall) > 0 && !isNullish(m.FunctionCall) {
			return nil, nil, unsupported(field+".function_call", "use tool_calls")
		}
		var role string
		var blocks []messages.Block
		var err error
		switch m.Role {
		case chat.RoleSystem, chat.RoleDeveloper:
			b, err := textBlocks(m.Content, field)
			if err != nil {
				return nil, nil, err
			}
			system = append(system, b...)
			continue
		case chat.RoleUser:
			role = messages.RoleUser
			blocks, err = userBlocks(m.Content, field)
		case chat.RoleAssistant:
			role = messages.RoleAssistant
			blocks, err = assistantBlocks(&m, field)
		case chat.RoleTool:
			role = messages.RoleUser
			blocks, err = toolResult(&m, field)
		default:
			return nil, nil, invalid(field+".role", "unsupported role '%s'", m.Role)
		}
		if err != nil {
			return nil, nil, err
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			// Anthropic's turns alternate: a turn of the same role joins the
			// previous one, tool results ahead of anything else in it.
			prev := &out[n-1].Content
			if m.Role == chat.RoleTool {
				at := 0
				for at < len(prev.Blocks) && prev.Blocks[at].Type == messages.BlockToolResult {
					at++
				}
				prev.Blocks = append(prev.Blocks[:at], append(blocks, prev.Blocks[at:]...)...)
			} else {
				prev.Blocks = append(prev.Blocks, blocks...)
			}
			continue
		}
		out = append(out, messages.Message{Role: role, Content: messages.Content{Blocks: blocks, IsBlocks: true}})
	}
	// A turn of one text block is sent as a string, as clients write it.
	for i := range out {
		c := &out[i].Content
		if len(c.Blocks) == 1 && c.Blocks[0].Type == messages.BlockText && c.Blocks[0].CacheControl == nil {
			*c = messages.Content{Text: c.Blocks[0].Text}
		} else if len(c.Blocks) == 0 {
			*c = messages.Content{}
		}
	}
	return system, out, nil
}

// textBlocks reads content that may only hold text (system prompts, tool
// results).
func textBlocks(c *chat.Content, field string) ([]messages.Block, error) {
	if c == nil {
		return nil, nil
	}
	if !c.IsParts {
		if c.Text == "" {
			return nil, nil
		}
		return []messages.Block{{Type: messages.BlockText, Text: c.Text}}, nil
	}
	out := make([]messages.Block, 0, len(c.Parts))
	for j, p := range c.Parts {
		if p.Type != chat.PartText {
			return nil, invalid(field+".content["+strconv.Itoa(j)+"].type", "content part type '%s' is not allowed here; only text is", p.Type)
		}
		if p.Text != "" {
			out = append(out, messages.Block{Type: messages.BlockText, Text: p.Text})
		}
	}
	return out, nil
}

func userBlocks(c *chat.Content, field string) ([]messages.Block, error) {
	if c == nil {
		return nil, nil
	}
	if !c.IsParts {
		return []messages.Block{{Type: messages.BlockText, Text: c.Text}}, nil
	}
	out := make([]messages.Block, 0, len(c.Parts))
	for j, p := range c.Parts {
		pf := field + ".content[" + strconv.Itoa(j) + "]"
		switch p.Type {
		case chat.PartText:
			out = append(out, messages.Block{Type: messages.BlockText, Text: p.Text})
		case chat.PartImageURL:
			if p.ImageURL == nil {
				return nil, invalid(pf+".image_url", "image_url is required")
			}
			src, err := imageSource(p.ImageURL.URL, pf+".image_url.url")
			if err != nil {
				return nil, err
			}
			out = append(out, messages.Block{Type: messages.BlockImage, Source: src})
		case chat.PartFile:
			b, err := fileBlock(p.File, pf+".file")
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		case chat.PartInputAudio:
			return nil, unsupported(pf, "Claude does not take audio input")
		default:
			return nil, invalid(pf+".type", "content part type '%s' is not allowed in a user message", p.Type)
		}
	}
	return out, nil
}

// imageSource reads an image URL: a data: URL holding base64 becomes a
// base64 source, an http(s) URL a url source.
func imageSource(u, field string) (*messages.Source, error) {
	if strings.HasPrefix(u, "data:") {
		mt, data, ok := api.ParseDataURL(u)
		if !ok {
			return nil, invalid(field, "a data: URL must hold base64 data: data:<media type>;base64,<data>")
		}
		return &messages.Source{Type: "base64", MediaType: mt, Data: data}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return &messages.Source{Type: "url", URL: u}, nil
	}
	return nil, invalid(field, "an image must be an http(s) URL or a base64 data: URL")
}

// fileBlock turns a file part into a document: a PDF as base64, plain text
// as a text source. Uploaded file ids belong to OpenAI and are refused.
func fileBlock(f *chat.File, field string) (messages.Block, error) {
	if f == nil {
		return messages.Block{}, invalid(field, "file is required")
	}
	if f.FileID != "" {
		return messages.Block{}, unsupported(field+".file_id", "send the file's data as file_data")
	}
	if f.FileData == "" {
		return messages.Block{}, invalid(field+".file_data", "file_data is required")
	}
	mt, data, ok := api.ParseDataURL(f.FileData)
	if !ok {
		if strings.HasPrefix(f.FileData, "data:") || !strings.HasSuffix(strings.ToLower(f.Filename), ".pdf") {
			return messages.Block{}, invalid(field+".file_data", "file_data must be a base64 data: URL (data:application/pdf;base64,...)")
		}
		mt, data = "application/pdf", f.FileData // bare base64 of a .pdf file
	}
	b := messages.Block{Type: messages.BlockDocument, Title: f.Filename}
	switch mt {
	case "application/pdf":
		b.Source = &messages.Source{Type: "base64", MediaType: mt, Data: data}
	case "text/plain":
		text, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return messages.Block{}, invalid(field+".file_data", "file_data is not valid base64")
		}
		b.Source = &messages.Source{Type: "text", MediaType: mt, Data: string(text)}
	default:
		return messages.Block{}, unsupported(field+".file_data", "documents must be application/pdf or text/plain, got "+mt)
	}
	return b, nil
}

func assistantBlocks(m *chat.Message, field string) ([]messages.Block, error) {
	var out []messages.Block
	if m.ReasoningSignature != "" {
		thinking, sig := m.ReasoningContent, m.ReasoningSignature
		out = append(out, messages.Block{Type: messages.BlockThinking, Thinking: &thinking, Signature: &sig})
	}
	for _, data := range m.RedactedReasoning {
		out = append(out, messages.Block{Type: messages.BlockRedactedThinking, Data: data})
	}
	if c := m.Content; c != nil {
		if !c.IsParts {
			if c.Text != "" {
				out = append(out, messages.Block{Type: messages.BlockText, Text: c.Text})
			}
		} else {
			for j, p := range c.Parts {
				switch p.Type {
				case chat.PartText, chat.PartRefusal:
					if s := p.Text + p.Refusal; s != "" {
						out = append(out, messages.Block{Type: messages.BlockText, Text: s})
					}
				default:
					return nil, invalid(field+".content["+strconv.Itoa(j)+"].type", "content part type '%s' is not allowed in an assistant message", p.Type)
				}
			}
		}
	}
	if m.Refusal != "" && m.Content.String() == "" {
		out = append(out, messages.Block{Type: messages.BlockText, Text: m.Refusal})
	}
	for j, tc := range m.ToolCalls {
		tf := field + ".tool_calls[" + strconv.Itoa(j) + "]"
		if tc.Type != "" && tc.Type != "function" {
			return nil, unsupported(tf+".type", "only function tool calls are")
		}
		input := json.RawMessage(`{}`)
		if args := strings.TrimSpace(tc.Function.Arguments); args != "" {
			if !json.Valid([]byte(args)) || args[0] != '{' {
				return nil, invalid(tf+".function.arguments", "arguments must be a JSON object")
			}
			input = json.RawMessage(args)
		}
		out = append(out, messages.Block{Type: messages.BlockToolUse, ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return out, nil
}

func toolResult(m *chat.Message, field string) ([]messages.Block, error) {
	if m.ToolCallID == "" {
		return nil, invalid(field+".tool_call_id", "tool messages need a tool_call_id")
	}
	b := messages.Block{Type: messages.BlockToolResult, ToolUseID: m.ToolCallID}
	if c := m.Content; c != nil && c.IsParts {
		blocks, err := textBlocks(c, field)
		if err != nil {
			return nil, err
		}
		b.Content = &messages.Content{Blocks: blocks, IsBlocks: true}
	} else if c != nil && c.Text != "" {
		b.Content = &messages.Content{Text: c.Text}
	}
	return []messages.Block{b}, nil
}

var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

func convertTools(r *chat.Request, out *messages.Request) error {
	for i, tool := range r.Tools {
		field := "tools[" + strconv.Itoa(i) + "]"
		if tool.Type != "function" {
			return unsupported(field+".type", "only function tools are")
		}
		schema := tool.Function.Parameters
		if len(schema) == 0 || isNullish(schema) {
			schema = emptySchema
		}
		out.Tools = append(out.Tools, messages.Tool{
			Name: tool.Function.Name, Description: tool.Function.Description,
			InputSchema: schema, Strict: tool.Function.Strict,
		})
	}
	if tc := r.ToolChoice; tc != nil {
		switch {
		case tc.Function != "":
			out.ToolChoice = &messages.ToolChoice{Type: "tool", Name: tc.Function}
		case tc.Mode == "auto":
			out.ToolChoice = &messages.ToolChoice{Type: "auto"}
		case tc.Mode == "required":
			out.ToolChoice = &messages.ToolChoice{Type: "any"}
		case tc.Mode == "none":
			out.ToolChoice = &messages.ToolChoice{Type: "none"}
		default:
			return invalid("tool_choice", "tool_choice must be none, auto, required or a function, got '%s'", tc.Mode)
		}
	}
	if p := r.ParallelToolCalls; p != nil && !*p && len(out.Tools) > 0 {
		if out.ToolChoice == nil {
			out.ToolChoice = &messages.ToolChoice{Type: "auto"}
		}
		if out.ToolChoice.Type != "none" {
			yes := true
			out.ToolChoice.DisableParallelToolUse = &yes
		}
	}
	return nil
}

func convertFormat(r *chat.Request, out *messages.Request) error {
	f := r.ResponseFormat
	if f == nil {
		return nil
	}
	switch f.Type {
	case "", "text":
		return nil
	case "json_schema":
		if f.JSONSchema == nil || len(f.JSONSchema.Schema) == 0 {
			return invalid("response_format.json_schema.schema", "a json_schema response format needs a schema")
		}
		out.OutputConfig = &messages.OutputConfig{Format: &messages.OutputFormat{Type: "json_schema", Schema: f.JSONSchema.Schema}}
		return nil
	case "json_object":
		return unsupported("response_format", "json_object has no counterpart in Claude; use a json_schema response format")
	}
	return invalid("response_format.type", "unknown response format '%s'", f.Type)
}

func convertThinking(r *chat.Request, out *messages.Request) error {
	maxOut := r.MaxOutput()
	if len(r.Thinking) > 0 && !isNullish(r.Thinking) {
		if r.ReasoningEffort != "" {
			return invalid("reasoning_effort", "set reasoning_effort or thinking, not both")
		}
		var th messages.Thinking
		if err := messages.Decode(r.Thinking, &th); err != nil {
			return invalid("thinking", "thinking must be {\"type\":\"enabled\",\"budget_tokens\":N}, {\"type\":\"adaptive\"} or {\"type\":\"disabled\"}: %v", err)
		}
		out.Thinking = &th
	} else if e := r.ReasoningEffort; e != "" && e != "none" {
		budget, ok := EffortBudgets[e]
		if !ok {
			return invalid("reasoning_effort", "unknown reasoning_effort '%s'", e)
		}
		if maxOut > 0 && budget >= maxOut {
			// The budget must stay under max_tokens: shrink it, down to
			// Anthropic's floor of 1024.
			if maxOut <= 1024 {
				return invalid("reasoning_effort", "extended thinking needs max_completion_tokens above 1024 on the anthropic provider")
			}
			budget = maxOut - 1
		}
		out.Thinking = &messages.Thinking{Type: "enabled", BudgetTokens: budget}
	}
	out.MaxTokens = maxOut
	if out.MaxTokens <= 0 {
		out.MaxTokens = DefaultMaxTokens
		if th := out.Thinking; th != nil && th.Type == "enabled" {
			out.MaxTokens += th.BudgetTokens
		}
	}
	return nil
}

// Header sets Anthropic's version header, and the client's anthropic-beta
// header if it sent one.
func (t *FromOpenAI) Header(h http.Header) { setHeader(h, &t.betas) }

// Error keeps Anthropic's error: status, type, and context_length_exceeded
// for prompts too long.
func (t *FromOpenAI) Error(status int, body []byte) error { return apiError(status, body) }

// Usage is what Anthropic reported so far.
func (t *FromOpenAI) Usage() api.Usage {
	if !t.reported {
		return api.Usage{}
	}
	return usageOf(&t.usage)
}

// finishReason maps Anthropic's stop_reason to OpenAI's finish_reason.
// pause_turn (a server tool paused a long turn) has no OpenAI counterpart
// and ends the turn as stop: the client may send the conversation back to
// continue.
func finishReason(stop string) string {
	switch stop {
	case messages.StopMaxTokens, messages.StopContextLimit:
		return chat.FinishLength
	case messages.StopToolUse:
		return chat.FinishToolCalls
	case messages.StopRefusal:
		return chat.FinishContentFilter
	}
	return chat.FinishStop // end_turn, stop_sequence, pause_turn
}

// Response translates a whole message into a chat completion.
func (t *FromOpenAI) Response(body []byte) ([]byte, error) {
	var r messages.Response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, api.BadUpstreamBody(preset.Anthropic, "a response body")
	}
	t.usage, t.reported = r.Usage, true
	msg := chat.Message{Role: chat.RoleAssistant}
	var text, reasoning strings.Builder
	hasText := false
	for _, b := range r.Content {
		switch b.Type {
		case messages.BlockText:
			text.WriteString(b.Text)
			hasText = true
		case messages.BlockThinking:
			if b.Thinking != nil {
				reasoning.WriteString(*b.Thinking)
			}
			if b.Signature != nil {
				msg.ReasoningSignature = *b.Signature
			}
		case messages.BlockRedactedThinking:
			msg.RedactedReasoning = append(msg.RedactedReasoning, b.Data)
		case messages.BlockToolUse:
			args := string(b.Input)
			if len(b.Input) == 0 {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, chat.ToolCall{ID: b.ID, Type: "function",
				Function: chat.ToolCallFunction{Name: b.Name, Arguments: args}})
		default:
			t.skipped++
		}
	}
	if hasText || len(msg.ToolCalls) == 0 {
		msg.Content = chat.TextContent(text.String())
	}
	msg.ReasoningContent = reasoning.String()
	finish := chat.FinishStop
	if r.StopReason != nil {
		finish = finishReason(*r.StopReason)
	}
	out := chat.Response{
		ID: r.ID, Object: "chat.completion", Created: t.now().Unix(), Model: r.Model,
		Choices: []chat.Choice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage:   chat.UsageOf(usageOf(&r.Usage)),
	}
	return json.Marshal(&out)
}
