// Package messages holds the wire types of Anthropic's Messages API
// (POST /v1/messages), as clients send them and Anthropic-protocol
// backends answer, with its streamed events.
package messages

import (
	"bytes"
	"errors"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
)

// Version is the anthropic-version header value Sluice speaks.
const Version = "2023-06-01"

// Request is a Messages API request.
type Request struct {
	Model         string          `json:"model"`
	Messages      []Message       `json:"messages"`
	MaxTokens     int64           `json:"max_tokens"`
	System        *Content        `json:"system,omitempty"`
	Metadata      *Metadata       `json:"metadata,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int64          `json:"top_k,omitempty"`
	Tools         []Tool          `json:"tools,omitempty"`
	ToolChoice    *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking      *Thinking       `json:"thinking,omitempty"`
	ServiceTier   string          `json:"service_tier,omitempty"`
	Container     json.RawMessage `json:"container,omitempty"`
	MCPServers    json.RawMessage `json:"mcp_servers,omitempty"`
	ContextMgmt   json.RawMessage `json:"context_management,omitempty"`
	OutputFormat  *OutputFormat   `json:"output_format,omitempty"`
	// OutputConfig is the newer home of the output format and of the
	// effort the model spends ({"effort":"low"|...,"format":{...}}).
	OutputConfig *OutputConfig `json:"output_config,omitempty"`
	// CacheControl marks the whole request for prompt caching.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// OutputConfig configures the output: effort (low, medium, high, xhigh,
// max) and a structured output format.
type OutputConfig struct {
	Effort string        `json:"effort,omitempty"`
	Format *OutputFormat `json:"format,omitempty"`
}

// Format is the structured output the request asks for, from
// output_config.format or the older output_format, with the name of the
// field it came from so a refusal can name it. Asking in both places is
// refused: translators would otherwise have to drop one unseen.
func (r *Request) Format() (f *OutputFormat, param string, err error) {
	var c *OutputFormat
	if r.OutputConfig != nil {
		c = r.OutputConfig.Format
	}
	switch {
	case c != nil && r.OutputFormat != nil:
		return nil, "output_format", &api.Error{Kind: api.ErrBadRequest, Param: "output_format",
			Message: "output_format and output_config.format are the same setting: send only output_config.format"}
	case c != nil:
		return c, "output_config.format", nil
	}
	return r.OutputFormat, "output_format", nil
}

// Effort is output_config.effort ("" when not set); a value the Messages
// API does not define (low, medium, high, xhigh, max) is refused.
func (r *Request) Effort() (string, error) {
	if r.OutputConfig == nil {
		return "", nil
	}
	switch e := r.OutputConfig.Effort; e {
	case "", "low", "medium", "high", "xhigh", "max":
		return e, nil
	}
	return "", &api.Error{Kind: api.ErrBadRequest, Param: "output_config.effort",
		Message: "output_config.effort must be low, medium, high, xhigh or max"}
}

// AnthropicOnly is the first of the fields set (not null) that ask for
// what Anthropic runs on its own side: a code execution container, MCP
// servers, context management. No other backend has them, so translators
// refuse them by this name; "" when none is set.
func (r *Request) AnthropicOnly() string {
	switch {
	case isSet(r.Container):
		return "container"
	case isSet(r.MCPServers):
		return "mcp_servers"
	case isSet(r.ContextMgmt):
		return "context_management"
	}
	return ""
}

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// Decode parses a request strictly: an unknown field is an error naming
// it, so a translator never drops a field unseen.
func Decode(body []byte, v any) error { return api.DecodeStrict(body, v) }

// Metadata is request metadata.
type Metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// Thinking turns extended thinking on with a token budget.
type Thinking struct {
	Type         string `json:"type"` // enabled, disabled, adaptive
	BudgetTokens int64  `json:"budget_tokens,omitempty"`
	// Display is summarized or omitted: whether thinking text is returned.
	Display string `json:"display,omitempty"`
}

// OutputFormat asks for structured output: {"type":"json_schema","schema":{...}}.
type OutputFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

// Roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn.
type Message struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
}

// Content is a string or an array of content blocks. As a system prompt
// it is a string or an array of text blocks.
type Content struct {
	Text     string
	Blocks   []Block
	IsBlocks bool
}

// UnmarshalJSON accepts a string or an array of blocks.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		*c = Content{}
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		*c = Content{IsBlocks: true}
		return json.Unmarshal(b, &c.Blocks)
	}
	return errors.New("content must be a string or an array of content blocks")
}

// MarshalJSON writes the form the content had.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.IsBlocks {
		if c.Blocks == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(c.Blocks)
	}
	return json.Marshal(c.Text)
}

// AsBlocks returns the content as blocks, a string becoming one text block.
func (c *Content) AsBlocks() []Block {
	if c == nil {
		return nil
	}
	if c.IsBlocks {
		return c.Blocks
	}
	if c.Text == "" {
		return nil
	}
	return []Block{{Type: BlockText, Text: c.Text}}
}

// Content block types.
const (
	BlockText             = "text"
	BlockImage            = "image"
	BlockDocument         = "document"
	BlockToolUse          = "tool_use"
	BlockToolResult       = "tool_result"
	BlockThinking         = "thinking"
	BlockRedactedThinking = "redacted_thinking"
	BlockServerToolUse    = "server_tool_use"
	BlockWebSearchResult  = "web_search_tool_result"
)

// Block is one content block; Type says which fields are set. Thinking
// and Signature are kept byte for byte: Claude checks the signature of
// earlier thinking when tools are used with extended thinking.
type Block struct {
	Type string `json:"type"`
	// text
	Text      string          `json:"text,omitempty"`
	Citations json.RawMessage `json:"citations,omitempty"`
	// image, document
	Source  *Source `json:"source,omitempty"`
	Title   string  `json:"title,omitempty"`
	Context string  `json:"context,omitempty"`
	// tool_use, server_tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result
	ToolUseID string   `json:"tool_use_id,omitempty"`
	Content   *Content `json:"content,omitempty"`
	IsError   bool     `json:"is_error,omitempty"`
	// thinking, redacted_thinking
	Thinking  *string `json:"thinking,omitempty"`
	Signature *string `json:"signature,omitempty"`
	Data      string  `json:"data,omitempty"`

	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// Source is where an image or document comes from.
type Source struct {
	Type      string `json:"type"` // base64, url, text
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// Tool is a client tool (name, description, input_schema) or a server tool
// (a versioned type such as web_search_20250305).
type Tool struct {
	Type         string          `json:"type,omitempty"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
	// Strict asks for inputs that always match the schema.
	Strict *bool `json:"strict,omitempty"`
	// EagerInputStreaming streams the input without buffering it to
	// validate first: a latency hint.
	EagerInputStreaming *bool `json:"eager_input_streaming,omitempty"`
	// Server tools carry settings of their own.
	MaxUses        *int64          `json:"max_uses,omitempty"`
	AllowedDomains []string        `json:"allowed_domains,omitempty"`
	BlockedDomains []string        `json:"blocked_domains,omitempty"`
	UserLocation   json.RawMessage `json:"user_location,omitempty"`
}

// ToolChoice says how the model must use tools.
type ToolChoice struct {
	Type                   string `json:"type"` // auto, any, tool, none
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

// Stop reasons.
const (
	StopEndTurn      = "end_turn"
	StopMaxTokens    = "max_tokens"
	StopSequence     = "stop_sequence"
	StopToolUse      = "tool_use"
	StopPauseTurn    = "pause_turn"
	StopRefusal      = "refusal"
	StopContextLimit = "model_context_window_exceeded"
)

// Response is a whole message.
type Response struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"` // "message"
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []Block `json:"content"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        Usage   `json:"usage"`
}

// Usage is Anthropic's token usage. InputTokens excludes cached input:
// the whole prompt is InputTokens + CacheCreationInputTokens +
// CacheReadInputTokens.
type Usage struct {
	InputTokens              int64           `json:"input_tokens"`
	OutputTokens             int64           `json:"output_tokens"`
	CacheCreationInputTokens int64           `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     int64           `json:"cache_read_input_tokens,omitempty"`
	ServerToolUse            json.RawMessage `json:"server_tool_use,omitempty"`
	ServiceTier              string          `json:"service_tier,omitempty"`
}

// UsageOf is the usage an Anthropic client is sent for u, whatever the
// backend: input_tokens leaves out the prompt-cache reads and writes,
// which have figures of their own.
func UsageOf(u api.Usage) Usage {
	return Usage{InputTokens: max(u.InputTokens-u.CachedTokens-u.CacheWriteTokens, 0), OutputTokens: u.OutputTokens,
		CacheReadInputTokens: u.CachedTokens, CacheCreationInputTokens: u.CacheWriteTokens}
}

// Stream event types, in the order a stream sends them.
const (
	EventMessageStart      = "message_start"
	EventContentBlockStart = "content_block_start"
	EventContentBlockDelta = "content_block_delta"
	EventContentBlockStop  = "content_block_stop"
	EventMessageDelta      = "message_delta"
	EventMessageStop       = "message_stop"
	EventPing              = "ping"
	EventError             = "error"
)

// Delta types of content_block_delta.
const (
	DeltaText      = "text_delta"
	DeltaInputJSON = "input_json_delta"
	DeltaThinking  = "thinking_delta"
	DeltaSignature = "signature_delta"
	DeltaCitations = "citations_delta"
)

// Event is one streamed event; Type says which fields are set. It is both
// the SSE event name and the data's "type".
type Event struct {
	Type         string      `json:"type"`
	Message      *Response   `json:"message,omitempty"`       // message_start
	Index        *int64      `json:"index,omitempty"`         // content_block_*
	ContentBlock *Block      `json:"content_block,omitempty"` // content_block_start
	Delta        *EventDelta `json:"delta,omitempty"`         // content_block_delta, message_delta
	Usage        *Usage      `json:"usage,omitempty"`         // message_delta
	Error        *ErrorBody  `json:"error,omitempty"`         // error
}

// EventDelta is the delta of content_block_delta (by Type) or of
// message_delta (StopReason, StopSequence).
type EventDelta struct {
	Type         string          `json:"type,omitempty"`
	Text         string          `json:"text,omitempty"`
	PartialJSON  *string         `json:"partial_json,omitempty"`
	Thinking     string          `json:"thinking,omitempty"`
	Signature    string          `json:"signature,omitempty"`
	Citation     json.RawMessage `json:"citation,omitempty"`
	StopReason   *string         `json:"stop_reason,omitempty"`
	StopSequence *string         `json:"stop_sequence,omitempty"`
}

// ErrorResponse is Anthropic's error object.
type ErrorResponse struct {
	Type  string    `json:"type"` // "error"
	Error ErrorBody `json:"error"`
}

// ErrorBody is the error inside an ErrorResponse or an error event.
type ErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Error types and the statuses Anthropic gives them.
const (
	ErrInvalidRequest  = "invalid_request_error" // 400
	ErrAuthentication  = "authentication_error"  // 401
	ErrPermission      = "permission_error"      // 403
	ErrNotFound        = "not_found_error"       // 404
	ErrRequestTooLarge = "request_too_large"     // 413
	ErrRateLimit       = "rate_limit_error"      // 429
	ErrAPI             = "api_error"             // 500
	ErrOverloaded      = "overloaded_error"      // 529
)

// CountTokensRequest is a POST /v1/messages/count_tokens body.
type CountTokensRequest struct {
	Model      string      `json:"model"`
	Messages   []Message   `json:"messages"`
	System     *Content    `json:"system,omitempty"`
	Tools      []Tool      `json:"tools,omitempty"`
	ToolChoice *ToolChoice `json:"tool_choice,omitempty"`
	Thinking   *Thinking   `json:"thinking,omitempty"`
}

// CountTokensResponse is its answer.
type CountTokensResponse struct {
	InputTokens int64 `json:"input_tokens"`
}
