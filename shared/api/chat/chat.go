// Package chat holds the wire types of OpenAI's Chat Completions API
// (POST /v1/chat/completions), as clients send them and OpenAI-protocol
// backends answer. Translators decode into these types and encode from
// them; the pass-through path never touches them.
//
// Unions follow the API: a field that is "a string or an array of parts"
// is a struct that remembers which form it had, so a re-encoded value keeps
// the client's shape.
package chat

import (
	"bytes"
	"errors"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
)

// Request is a chat completion request.
type Request struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	MaxTokens           *int64          `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	N                   *int64          `json:"n,omitempty"`
	Stop                *Stop           `json:"stop,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          *ToolChoice     `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	User                string          `json:"user,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	Logprobs            *bool           `json:"logprobs,omitempty"`
	TopLogprobs         *int64          `json:"top_logprobs,omitempty"`
	LogitBias           json.RawMessage `json:"logit_bias,omitempty"`
	Metadata            json.RawMessage `json:"metadata,omitempty"`
	Store               *bool           `json:"store,omitempty"`
	ServiceTier         string          `json:"service_tier,omitempty"`
	Modalities          []string        `json:"modalities,omitempty"`
	Audio               json.RawMessage `json:"audio,omitempty"`
	Prediction          json.RawMessage `json:"prediction,omitempty"`
	WebSearchOptions    json.RawMessage `json:"web_search_options,omitempty"`
	PromptCacheKey      string          `json:"prompt_cache_key,omitempty"`
	SafetyIdentifier    string          `json:"safety_identifier,omitempty"`
	Verbosity           string          `json:"verbosity,omitempty"`
	// Thinking is an extension some OpenAI-compatible servers accept and
	// that Sluice honours for backends with extended thinking (Anthropic,
	// Bedrock Claude): {"type":"enabled","budget_tokens":N}.
	Thinking json.RawMessage `json:"thinking,omitempty"`
}

// MaxOutput is the output token limit the request sets, preferring
// max_completion_tokens; zero when it sets none.
func (r *Request) MaxOutput() int64 {
	if r.MaxCompletionTokens != nil {
		return *r.MaxCompletionTokens
	}
	if r.MaxTokens != nil {
		return *r.MaxTokens
	}
	return 0
}

// Decode parses a request strictly: a field this version does not know is
// an error naming it, so a translator never drops a field unseen.
func Decode(body []byte, v any) error { return api.DecodeStrict(body, v) }

// StreamOptions are the options of a streamed request.
type StreamOptions struct {
	IncludeUsage       bool  `json:"include_usage,omitempty"`
	IncludeObfuscation *bool `json:"include_obfuscation,omitempty"`
}

// Message roles.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one turn of the conversation.
type Message struct {
	Role       string     `json:"role"`
	Content    *Content   `json:"content,omitempty"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Refusal    string     `json:"refusal,omitempty"`
	// ReasoningContent is the reasoning text of an assistant turn, as
	// DeepSeek, vLLM and others return it; Sluice uses it for thinking.
	ReasoningContent string `json:"reasoning_content,omitempty"`
	// ReasoningSignature carries Anthropic's thinking signature through an
	// OpenAI-shaped exchange, so multi-turn tool use with extended thinking
	// works against Claude backends (a Sluice extension).
	ReasoningSignature string `json:"reasoning_signature,omitempty"`
	// RedactedReasoning holds Anthropic redacted_thinking data, likewise.
	RedactedReasoning []string `json:"redacted_reasoning,omitempty"`
	// Audio and FunctionCall are accepted so strict decoding does not
	// refuse them; translators that cannot honour them say so.
	Audio        json.RawMessage `json:"audio,omitempty"`
	FunctionCall json.RawMessage `json:"function_call,omitempty"`
}

// Content is a message's content: a string or an array of parts.
type Content struct {
	Text    string
	Parts   []Part
	IsParts bool // the content was (or is to be encoded as) an array
}

// TextContent returns content holding one string.
func TextContent(s string) *Content { return &Content{Text: s} }

// UnmarshalJSON accepts a string, an array of parts or null.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		*c = Content{}
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		*c = Content{IsParts: true}
		return json.Unmarshal(b, &c.Parts)
	case bytes.Equal(b, []byte("null")):
		*c = Content{}
		return nil
	}
	return errors.New("content must be a string or an array of content parts")
}

// MarshalJSON writes the form the content had.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.IsParts {
		if c.Parts == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// String joins the text of the content (its text parts, for an array).
func (c *Content) String() string {
	if c == nil {
		return ""
	}
	if !c.IsParts {
		return c.Text
	}
	var b []byte
	for _, p := range c.Parts {
		if p.Type == PartText || p.Type == PartRefusal {
			b = append(b, p.Text...)
			b = append(b, p.Refusal...)
		}
	}
	return string(b)
}

// Content part types.
const (
	PartText       = "text"
	PartImageURL   = "image_url"
	PartInputAudio = "input_audio"
	PartFile       = "file"
	PartRefusal    = "refusal"
)

// Part is one content part; Type says which field is set.
type Part struct {
	Type       string          `json:"type"`
	Text       string          `json:"text,omitempty"`
	ImageURL   *ImageURL       `json:"image_url,omitempty"`
	InputAudio json.RawMessage `json:"input_audio,omitempty"`
	File       *File           `json:"file,omitempty"`
	Refusal    string          `json:"refusal,omitempty"`
}

// ImageURL is an image by URL or as a data: URL holding base64.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// File is a file part (a PDF, say) as base64 data or an uploaded file id.
type File struct {
	FileData string `json:"file_data,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// ToolCall is a function call made by the assistant.
type ToolCall struct {
	// Index orders calls in streamed deltas; absent in whole messages.
	Index    *int64           `json:"index,omitempty"`
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function ToolCallFunction `json:"function"`
}

// ToolCallFunction is the function a call names and its JSON arguments.
type ToolCallFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool is a tool the model may call.
type Tool struct {
	Type     string   `json:"type"`
	Function Function `json:"function"`
}

// Function describes a callable function.
type Function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolChoice is "none", "auto", "required", or a named function.
type ToolChoice struct {
	Mode     string // none, auto or required; empty when Function is set
	Function string // the function the model must call
}

// UnmarshalJSON accepts a mode string or {"type":"function","function":{"name":...}}.
func (t *ToolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*t = ToolChoice{}
		return json.Unmarshal(b, &t.Mode)
	}
	var v struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Type != "function" || v.Function.Name == "" {
		return errors.New(`tool_choice object must be {"type":"function","function":{"name":...}}`)
	}
	*t = ToolChoice{Function: v.Function.Name}
	return nil
}

// MarshalJSON writes the mode string or the function object.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Function == "" {
		return json.Marshal(t.Mode)
	}
	name, _ := json.Marshal(t.Function)
	return append(append([]byte(`{"type":"function","function":{"name":`), name...), "}}"...), nil
}

// ResponseFormat asks for text, any JSON object, or JSON matching a schema.
type ResponseFormat struct {
	Type       string      `json:"type"` // text, json_object, json_schema
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema is a named schema for structured output.
type JSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Stop is one stop sequence or several.
type Stop struct {
	Values []string
}

// UnmarshalJSON accepts a string, an array of strings or null.
func (s *Stop) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		s.Values = []string{v}
		return nil
	}
	return json.Unmarshal(b, &s.Values)
}

// MarshalJSON writes an array.
func (s Stop) MarshalJSON() ([]byte, error) { return json.Marshal(s.Values) }

// Finish reasons.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// Response is a whole chat completion.
type Response struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"` // "chat.completion"
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`
	ServiceTier       string   `json:"service_tier,omitempty"`
}

// Choice is one generated answer.
type Choice struct {
	Index        int64           `json:"index"`
	Message      Message         `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// Usage is OpenAI's token usage.
type Usage struct {
	PromptTokens            int64                    `json:"prompt_tokens"`
	CompletionTokens        int64                    `json:"completion_tokens"`
	TotalTokens             int64                    `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// UsageOf is the usage an OpenAI client is sent for u, whatever the
// backend: prompt_tokens is the whole prompt, cache reads and writes
// included (the writes also in cache_write_tokens, a Sluice extension);
// completion_tokens_details comes only with a reasoning count, as a zero
// would claim no reasoning for providers that do not count it apart.
func UsageOf(u api.Usage) *Usage {
	out := &Usage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.Total(),
		PromptTokensDetails: &PromptTokensDetails{CachedTokens: u.CachedTokens, CacheWriteTokens: u.CacheWriteTokens}}
	if u.ReasoningTokens > 0 {
		out.CompletionTokensDetails = &CompletionTokensDetails{ReasoningTokens: u.ReasoningTokens}
	}
	return out
}

// PromptTokensDetails breaks down the prompt tokens.
type PromptTokensDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
	AudioTokens  int64 `json:"audio_tokens,omitempty"`
	// CacheWriteTokens is a Sluice extension: tokens written to the
	// provider's prompt cache (Anthropic cache_creation_input_tokens).
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// CompletionTokensDetails breaks down the completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
	AudioTokens     int64 `json:"audio_tokens,omitempty"`
}

// Chunk is one streamed event of a chat completion.
type Chunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"` // "chat.completion.chunk"
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
}

// ChunkChoice is the change to one choice in a chunk.
type ChunkChoice struct {
	Index        int64           `json:"index"`
	Delta        Delta           `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// Delta is what a chunk adds to a message.
type Delta struct {
	Role               string     `json:"role,omitempty"`
	Content            *string    `json:"content,omitempty"`
	ToolCalls          []ToolCall `json:"tool_calls,omitempty"`
	Refusal            *string    `json:"refusal,omitempty"`
	ReasoningContent   *string    `json:"reasoning_content,omitempty"`
	ReasoningSignature string     `json:"reasoning_signature,omitempty"`
	RedactedReasoning  []string   `json:"redacted_reasoning,omitempty"`
}

// EmbeddingRequest is a POST /v1/embeddings body.
type EmbeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"` // string, []string, []int or [][]int
	EncodingFormat string          `json:"encoding_format,omitempty"`
	Dimensions     *int64          `json:"dimensions,omitempty"`
	User           string          `json:"user,omitempty"`
}

// EmbeddingResponse is the embeddings answer.
type EmbeddingResponse struct {
	Object string      `json:"object"` // "list"
	Data   []Embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  Usage       `json:"usage"`
}

// Embedding is one vector.
type Embedding struct {
	Object    string    `json:"object"` // "embedding"
	Index     int64     `json:"index"`
	Embedding []float64 `json:"embedding"`
}
