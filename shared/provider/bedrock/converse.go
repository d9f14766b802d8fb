// Package bedrock speaks Amazon Bedrock Runtime: Converse and ConverseStream
// for chat (from OpenAI Chat Completions and Anthropic Messages clients),
// InvokeModel for Titan and Cohere embeddings, SigV4 request signing and
// the binary event stream ConverseStream answers with.
//
// The wire types below follow the Bedrock Runtime API reference; only the
// members Sluice reads or writes are declared. Blob members (image and
// document bytes, redacted reasoning) are base64 strings in JSON and are
// kept as such, so they pass through without decoding.
//
// Usage: Converse's inputTokens excludes prompt-cache reads and writes, so
// the prompt Sluice reports is inputTokens + cacheReadInputTokens +
// cacheWriteInputTokens (cached: the reads). Bedrock does not count
// reasoning tokens apart: they are inside outputTokens, and
// api.Usage.ReasoningTokens stays 0.
//
// Errors: Bedrock names the exception in the x-amzn-ErrorType header,
// which translators do not see; the status decides the error kind (429
// rate limited, 400 bad request, 404 model not found, 408/504 timeout,
// 503 unavailable, 424 and 5xx upstream), a "__type" in the body becomes
// the code, and context-window refusals ("Input is too long...") get the
// code context_length_exceeded. In a stream, exception frames become the
// same errors, sent to the client in its own protocol.
//
// Auth: requests are signed with SigV4 (service "bedrock") with the
// credentials the process resolved (provider.Deps: in AWS the function
// role's), unless the AIBackend names a credential, which is then sent as a
// Bedrock API key (Authorization: Bearer).
package bedrock

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// converseRequest is the body of POST /model/{modelId}/converse and
// /converse-stream.
type converseRequest struct {
	Messages                     []message         `json:"messages"`
	System                       []systemBlock     `json:"system,omitempty"`
	InferenceConfig              *inferenceConfig  `json:"inferenceConfig,omitempty"`
	ToolConfig                   *toolConfig       `json:"toolConfig,omitempty"`
	AdditionalModelRequestFields map[string]any    `json:"additionalModelRequestFields,omitempty"`
	RequestMetadata              map[string]string `json:"requestMetadata,omitempty"`
	// OutputConfig asks for the effort and a JSON schema;
	// AdditionalModelResponseFieldPaths are JSON Pointers into the
	// model's own answer that Converse returns in
	// additionalModelResponseFields.
	OutputConfig                      *outputConfig `json:"outputConfig,omitempty"`
	AdditionalModelResponseFieldPaths []string      `json:"additionalModelResponseFieldPaths,omitempty"`
}

// outputConfig is the OutputConfig member: the effort the model spends
// (low, medium, high, xhigh, max) and the structure of its text.
type outputConfig struct {
	Effort     string      `json:"effort,omitempty"`
	TextFormat *textFormat `json:"textFormat,omitempty"`
}

// textFormat is the OutputFormat member. Its only type is json_schema,
// whose schema Converse takes as a JSON text inside a string.
type textFormat struct {
	Type      string `json:"type"` // json_schema
	Structure struct {
		JSONSchema jsonSchemaDefinition `json:"jsonSchema"`
	} `json:"structure"`
}

type jsonSchemaDefinition struct {
	Schema      string `json:"schema"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// stopSequencePath asks Converse for the stop sequence that ended the
// answer, which Claude reports in its own response and Converse does not.
var stopSequencePath = []string{"/stop_sequence"}

// responseFields are the additionalModelResponseFields Sluice asks for.
type responseFields struct {
	StopSequence *string `json:"stop_sequence"`
}

// matched is the stop sequence the model reported, or nil.
func (f *responseFields) matched() *string {
	if f == nil || f.StopSequence == nil || *f.StopSequence == "" {
		return nil
	}
	return f.StopSequence
}

type message struct {
	Role    string         `json:"role"` // user, assistant
	Content []contentBlock `json:"content"`
}

// systemBlock is a SystemContentBlock union: text or a cache point.
type systemBlock struct {
	Text       string      `json:"text,omitempty"`
	CachePoint *cachePoint `json:"cachePoint,omitempty"`
}

type cachePoint struct {
	Type string `json:"type"` // default
}

var defaultCachePoint = &cachePoint{Type: "default"}

// contentBlock is the ContentBlock union; exactly one member is set.
type contentBlock struct {
	Text             *string           `json:"text,omitempty"`
	Image            *imageBlock       `json:"image,omitempty"`
	Document         *documentBlock    `json:"document,omitempty"`
	ToolUse          *toolUseBlock     `json:"toolUse,omitempty"`
	ToolResult       *toolResultBlock  `json:"toolResult,omitempty"`
	ReasoningContent *reasoningContent `json:"reasoningContent,omitempty"`
	CachePoint       *cachePoint       `json:"cachePoint,omitempty"`
	// Members Sluice does not translate; seen in a response they are an
	// error rather than a silent drop.
	GuardContent json.RawMessage `json:"guardContent,omitempty"`
	Video        json.RawMessage `json:"video,omitempty"`
	Citations    json.RawMessage `json:"citationsContent,omitempty"`
}

func textBlock(s string) contentBlock { return contentBlock{Text: &s} }

type imageBlock struct {
	Format string     `json:"format"` // png, jpeg, gif, webp
	Source blobSource `json:"source"`
}

type documentBlock struct {
	Format string     `json:"format"` // pdf, csv, doc, docx, xls, xlsx, html, txt, md
	Name   string     `json:"name"`
	Source blobSource `json:"source"`
}

// blobSource holds base64 bytes (an S3 location is the other member,
// which Sluice does not send).
type blobSource struct {
	Bytes string `json:"bytes"`
}

type toolUseBlock struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type toolResultBlock struct {
	ToolUseID string              `json:"toolUseId"`
	Content   []toolResultContent `json:"content"`
	Status    string              `json:"status,omitempty"` // success, error
}

// toolResultContent is the ToolResultContentBlock union.
type toolResultContent struct {
	Text     *string         `json:"text,omitempty"`
	JSON     json.RawMessage `json:"json,omitempty"`
	Image    *imageBlock     `json:"image,omitempty"`
	Document *documentBlock  `json:"document,omitempty"`
}

// reasoningContent is the ReasoningContentBlock union: reasoning text with
// its signature, or redacted (encrypted) reasoning.
type reasoningContent struct {
	ReasoningText   *reasoningText `json:"reasoningText,omitempty"`
	RedactedContent string         `json:"redactedContent,omitempty"`
}

type reasoningText struct {
	Text      string `json:"text"`
	Signature string `json:"signature,omitempty"`
}

type inferenceConfig struct {
	MaxTokens     *int64   `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type toolConfig struct {
	Tools      []tool      `json:"tools"`
	ToolChoice *toolChoice `json:"toolChoice,omitempty"`
}

// tool is the Tool union: a tool specification or a cache point.
type tool struct {
	ToolSpec   *toolSpec   `json:"toolSpec,omitempty"`
	CachePoint *cachePoint `json:"cachePoint,omitempty"`
}

type toolSpec struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	InputSchema inputSchema `json:"inputSchema"`
}

type inputSchema struct {
	JSON json.RawMessage `json:"json"`
}

// toolChoice is the ToolChoice union: auto, any or a named tool.
type toolChoice struct {
	Auto *struct{}  `json:"auto,omitempty"`
	Any  *struct{}  `json:"any,omitempty"`
	Tool *namedTool `json:"tool,omitempty"`
}

type namedTool struct {
	Name string `json:"name"`
}

// converseResponse is Converse's answer.
type converseResponse struct {
	Output struct {
		Message *message `json:"message"`
	} `json:"output"`
	StopReason string  `json:"stopReason"`
	Usage      *usage  `json:"usage"`
	Metrics    metrics `json:"metrics"`
	// AdditionalModelResponseFields holds what the request's
	// additionalModelResponseFieldPaths pointed at.
	AdditionalModelResponseFields *responseFields `json:"additionalModelResponseFields"`
}

// readResponse decodes a Converse answer.
func readResponse(body []byte) (converseResponse, error) {
	var r converseResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return r, api.BadUpstreamBody(preset.Bedrock, "a response body")
	}
	return r, nil
}

type usage struct {
	InputTokens           int64 `json:"inputTokens"`
	OutputTokens          int64 `json:"outputTokens"`
	TotalTokens           int64 `json:"totalTokens"`
	CacheReadInputTokens  int64 `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int64 `json:"cacheWriteInputTokens"`
}

// api reads Bedrock's usage: inputTokens counts the uncached prompt only,
// so the prompt is inputTokens plus cache reads and writes.
func (u *usage) api() api.Usage {
	return api.Usage{
		InputTokens:  u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens,
		OutputTokens: u.OutputTokens, CachedTokens: u.CacheReadInputTokens, CacheWriteTokens: u.CacheWriteInputTokens,
		Reported: true,
	}
}

type metrics struct {
	LatencyMs int64 `json:"latencyMs"`
}

// Stream event types (the :event-type header of each event-stream frame).
// The frame's payload is the event member's JSON; Bedrock pads it with a
// "p" member, which decoding ignores.
const (
	evMessageStart      = "messageStart"
	evContentBlockStart = "contentBlockStart"
	evContentBlockDelta = "contentBlockDelta"
	evContentBlockStop  = "contentBlockStop"
	evMessageStop       = "messageStop"
	evMetadata          = "metadata"
)

// streamEvent holds the members of every stream event kind; the event
// type says which are set.
type streamEvent struct {
	Role              string `json:"role"` // messageStart
	ContentBlockIndex int64  `json:"contentBlockIndex"`
	Start             *struct {
		ToolUse *struct {
			ToolUseID string `json:"toolUseId"`
			Name      string `json:"name"`
		} `json:"toolUse"`
	} `json:"start"` // contentBlockStart
	Delta *struct {
		Text    *string `json:"text"`
		ToolUse *struct {
			Input string `json:"input"`
		} `json:"toolUse"`
		ReasoningContent *struct {
			Text            *string `json:"text"`
			Signature       *string `json:"signature"`
			RedactedContent *string `json:"redactedContent"`
		} `json:"reasoningContent"`
	} `json:"delta"` // contentBlockDelta
	StopReason string   `json:"stopReason"` // messageStop
	Usage      *usage   `json:"usage"`      // metadata
	Metrics    *metrics `json:"metrics"`    // metadata
	// AdditionalModelResponseFields comes with messageStop.
	AdditionalModelResponseFields *responseFields `json:"additionalModelResponseFields"`
}

// readEvent decodes the payload of one ConverseStream event.
func readEvent(ev sse.Event) (streamEvent, error) {
	var e streamEvent
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return e, api.BadUpstreamBody(preset.Bedrock, "a "+ev.Type+" event")
	}
	return e, nil
}

// nativeJSONSchema lists, by model id, the models that take a JSON schema
// in outputConfig.textFormat (Bedrock's structured outputs, which
// constrain the answer to the schema), after the Bedrock user guide's
// list of supported models. An id matches when it starts with an entry,
// alone, after a cross-Region inference profile's geography ("us.",
// "global.") or after the "/" of a foundation-model or inference-profile
// ARN. Other models, application inference profiles and custom models
// among them, get the forced-tool form.
var nativeJSONSchema = []string{
	"anthropic.claude-haiku-4-5",
	"anthropic.claude-sonnet-4-5",
	"anthropic.claude-sonnet-4-6",
	"anthropic.claude-opus-4-5",
	"anthropic.claude-opus-4-6",
	"deepseek.v3",
	"google.gemma-3-12b",
	"google.gemma-3-27b",
	"mistral.devstral-2",
	"mistral.magistral-small",
	"mistral.ministral-3",
	"mistral.mistral-large-3",
	"mistral.voxtral",
	"moonshot.kimi-k2",
	"moonshotai.kimi-k2",
	"nvidia.nemotron",
	"openai.gpt-oss",
	"qwen.qwen3",
	"zai.glm-4.7",
	"zai.glm-5",
}

// textFormatFor reports whether model takes outputConfig.textFormat.
func textFormatFor(model string) bool {
	for _, p := range nativeJSONSchema {
		for i := 0; ; {
			j := strings.Index(model[i:], p)
			if j < 0 {
				break
			}
			if at := i + j; at == 0 || model[at-1] == '.' || model[at-1] == '/' {
				return true
			}
			i += j + 1
		}
	}
	return false
}

// jsonSchemaFormat is the outputConfig.textFormat for schema.
func jsonSchemaFormat(schema json.RawMessage, name, description string) (*textFormat, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, schema); err != nil {
		return nil, fmt.Errorf("bedrock: the schema is not JSON: %w", err)
	}
	f := &textFormat{Type: "json_schema"}
	f.Structure.JSONSchema = jsonSchemaDefinition{Schema: b.String(), Name: name, Description: description}
	return f, nil
}

// jsonToolConfig forces a single tool whose input schema is a response
// format's schema: how Sluice gets JSON out of Converse from models
// without structured outputs.
func jsonToolConfig(name, description string, schema json.RawMessage) *toolConfig {
	return &toolConfig{
		Tools:      []tool{{ToolSpec: &toolSpec{Name: name, Description: description, InputSchema: inputSchema{JSON: schema}}}},
		ToolChoice: &toolChoice{Tool: &namedTool{Name: name}},
	}
}

// Stop reasons.
const (
	stopEndTurn             = "end_turn"
	stopToolUse             = "tool_use"
	stopMaxTokens           = "max_tokens"
	stopSequence            = "stop_sequence"
	stopGuardrail           = "guardrail_intervened"
	stopContentFiltered     = "content_filtered"
	stopContextWindowExceed = "model_context_window_exceeded"
)

// modelPath is the request path for model id and an operation (converse,
// converse-stream, invoke). The id is escaped as one path segment: ids
// and ARNs hold ':' and '/', and the URL sent must match the one signed.
// converseCall is the path and body of a Converse call, or a
// ConverseStream one for a streamed request.
func converseCall(model string, stream bool, cr *converseRequest) (string, []byte, error) {
	out, err := json.Marshal(cr)
	if err != nil {
		return "", nil, fmt.Errorf("bedrock: encode converse request: %w", err)
	}
	op := "converse"
	if stream {
		op = "converse-stream"
	}
	return modelPath(model, op), out, nil
}

func modelPath(model, op string) string {
	return "/model/" + escapeSegment(model) + "/" + op
}

// escapeSegment percent-encodes everything but RFC 3986 unreserved
// characters, as the AWS SDKs do for path labels.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// unsupported is the 400 for a field Bedrock cannot honour.
func unsupported(param, what string) error {
	return &api.Error{Kind: api.ErrBadRequest, Param: param,
		Message: what + " is not supported by the bedrock provider"}
}

func badRequest(param, format string, args ...any) error {
	e := api.Errorf(api.ErrBadRequest, format, args...)
	e.Param = param
	return e
}

// errorBody is Bedrock's error response: {"message": "..."}; some
// services spell it "Message", and a "__type" may name the exception.
type errorBody struct {
	Message  string `json:"message"`
	MessageC string `json:"Message"`
	Type     string `json:"__type"`
}

// upstreamError maps a Bedrock error to a client-safe error keeping the
// status. The exception type comes from the x-amzn-ErrorType header
// (which the gateway does not pass on) or the body's __type; the status
// alone decides the kind.
func upstreamError(status int, body []byte) error {
	var e errorBody
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if msg == "" {
		msg = e.MessageC
	}
	return statusError(status, e.Type, msg)
}

func statusError(status int, excType, msg string) error {
	if msg == "" {
		msg = "bedrock returned status " + http.StatusText(status)
	}
	out := &api.Error{Kind: kindOf(status), Status: status, Message: msg}
	if i := strings.LastIndexByte(excType, '#'); i >= 0 {
		excType = excType[i+1:]
	}
	if i := strings.IndexByte(excType, ':'); i >= 0 {
		excType = excType[:i]
	}
	if excType != "" && status != http.StatusTooManyRequests {
		out.Code = excType // 429 keeps the rate-limit code clients know
	}
	if isContextLength(msg) {
		out.Code = "context_length_exceeded"
	}
	return out
}

// isContextLength recognises Bedrock's context-window refusals.
func isContextLength(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "input is too long") || strings.Contains(m, "too many input tokens") ||
		strings.Contains(m, "prompt is too long") || strings.Contains(m, "context length") ||
		strings.Contains(m, "context window")
}

// kindOf is api.UpstreamKind, with Bedrock's own: 408 a timeout, 503 the
// service unavailable, 424 (a model's failed dependency) an upstream
// failure rather than the client's request.
func kindOf(status int) error {
	switch status {
	case http.StatusRequestTimeout:
		return api.ErrTimeout
	case http.StatusServiceUnavailable:
		return api.ErrUnavailable
	case http.StatusFailedDependency:
		return api.ErrUpstream
	}
	return api.UpstreamKind(status)
}

// exceptionStatus is the HTTP status Bedrock gives each stream exception.
func exceptionStatus(excType string) int {
	switch excType {
	case "throttlingException":
		return http.StatusTooManyRequests
	case "validationException":
		return http.StatusBadRequest
	case "modelStreamErrorException":
		return http.StatusFailedDependency
	case "serviceUnavailableException":
		return http.StatusServiceUnavailable
	case "modelTimeoutException":
		return http.StatusRequestTimeout
	}
	return http.StatusInternalServerError // internalServerException and unknown ones
}

// imageFormat maps a media type to Converse's image format.
func imageFormat(mediaType string) (string, bool) {
	switch mediaType {
	case "image/png":
		return "png", true
	case "image/jpeg", "image/jpg":
		return "jpeg", true
	case "image/gif":
		return "gif", true
	case "image/webp":
		return "webp", true
	}
	return "", false
}

// documentFormat maps a media type to Converse's document format.
func documentFormat(mediaType string) (string, bool) {
	switch mediaType {
	case "application/pdf":
		return "pdf", true
	case "text/plain":
		return "txt", true
	case "text/csv":
		return "csv", true
	case "text/html":
		return "html", true
	case "text/markdown":
		return "md", true
	case "application/msword":
		return "doc", true
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return "docx", true
	case "application/vnd.ms-excel":
		return "xls", true
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "xlsx", true
	}
	return "", false
}

// appendMessage adds content under role, merging with the previous message
// when it has the same role: Converse wants turns to alternate.
func appendMessage(msgs []message, role string, content ...contentBlock) []message {
	if n := len(msgs); n > 0 && msgs[n-1].Role == role {
		msgs[n-1].Content = append(msgs[n-1].Content, content...)
		return msgs
	}
	return append(msgs, message{Role: role, Content: content})
}
