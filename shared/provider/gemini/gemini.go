// Package gemini speaks Google's Gemini API (generativelanguage.googleapis.com)
// to OpenAI and Anthropic clients: generateContent and streamGenerateContent
// (alt=sse) for chat, batchEmbedContents for embeddings; and the same to
// Gemini on Vertex AI (NewVertexProvider: bearer token, predict for
// embeddings).
//
// One file per client protocol: from_openai.go (Chat Completions),
// from_anthropic.go (Messages), embed.go (Embeddings). This file holds the
// Gemini wire types and what the three share: auth, errors, usage, finish
// reasons and the ids Gemini does not give.
//
// Choices worth knowing (the README's provider table repeats them):
//   - Tool parameters and response schemas are sent as JSON Schema, in
//     parametersJsonSchema and responseJsonSchema, which the API accepts
//     as is; no conversion to the OpenAPI subset of parameters/responseSchema.
//   - Gemini's function calls may have no id. Sluice then makes one from the
//     response and the call's position ("call_<hash>_<n>"); tool results are
//     matched back to the function's name through the conversation history,
//     which always holds the call before its result.
//   - Image URLs become fileData{fileUri, mimeType}, the MIME type read from
//     the URL's extension; a URL without a known image extension is a 400.
//   - Thought parts become reasoning_content (OpenAI) or thinking blocks
//     (Anthropic); the first thoughtSignature of a turn becomes
//     reasoning_signature or the thinking block's signature and is put back
//     on the turn's first function call (or first part) when the history
//     returns. A function call's own signature also rides in its call id
//     ("<id>__thought__<base64url>"), because standard clients drop fields
//     they do not know but echo ids, and Gemini 3 refuses function-call
//     history without its signatures. Thought text in the history is not
//     sent back: Gemini restores its reasoning from the signature.
//   - MALFORMED_FUNCTION_CALL (and the other finish reasons that mean the
//     model failed to produce a call) end the exchange with a 502 error
//     whose code is "malformed_function_call".
package gemini

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/sse"
)

// DefaultEndpoint is the Gemini API's base URL; an AIBackend with provider
// gemini and no endpoint uses it.
const DefaultEndpoint = "https://generativelanguage.googleapis.com/v1beta"

// New returns the translator for endpoint ep on the Gemini API; client is
// the model the client named and upstream the name Gemini knows it by.
func New(ep api.Endpoint, client, upstream string) (provider.Translator, error) {
	return newTranslator(ep, client, upstream, common{now: time.Now, newID: provider.RandomID})
}

// NewVertex returns the translator for Gemini on Vertex AI: chat bodies are
// the Gemini API's; embeddings use Vertex's predict.
func NewVertex(ep api.Endpoint, client, upstream string) (provider.Translator, error) {
	return newTranslator(ep, client, upstream, common{vertex: true, now: time.Now, newID: provider.RandomID})
}

func newTranslator(ep api.Endpoint, client, upstream string, c common) (provider.Translator, error) {
	upstream = strings.TrimPrefix(upstream, "models/")
	switch ep {
	case api.EndpointChatCompletions:
		return &FromOpenAI{common: c, client: client, model: upstream}, nil
	case api.EndpointMessages:
		return &FromAnthropic{common: c, client: client, model: upstream}, nil
	case api.EndpointEmbeddings:
		return &Embed{common: c, client: client, model: upstream}, nil
	}
	return nil, api.Errorf(api.ErrNotFound, "this endpoint is not served by gemini backends")
}

// Provider speaks to Gemini: on the Gemini API (generativelanguage), where
// the credential is an API key in x-goog-api-key unless the backend's
// credentialRef.type is bearer, or on Vertex AI, where it is an OAuth
// access token, and the endpoint
// https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/publishers/google
// (or the global aiplatform.googleapis.com). The translator's path is
// appended to the endpoint either way.
type Provider struct {
	c common // what each translator starts from
}

// NewProvider returns the Gemini API protocol family, on deps' clock and
// ids.
func NewProvider(deps provider.Deps) provider.Provider {
	deps = deps.WithDefaults()
	return &Provider{c: common{now: deps.Now, newID: deps.ID}}
}

// NewVertexProvider returns Gemini on Vertex AI, on deps' clock and ids.
func NewVertexProvider(deps provider.Deps) provider.Provider {
	deps = deps.WithDefaults()
	return &Provider{c: common{vertex: true, now: deps.Now, newID: deps.ID}}
}

// Translator returns the translator for a request on endpoint ep.
func (p *Provider) Translator(b *route.Backend, ep api.Endpoint, model string) (provider.Translator, error) {
	return newTranslator(ep, model, b.UpstreamModel(model), p.c)
}

// URL appends path to the backend's endpoint.
func (*Provider) URL(b *route.Backend, _, path string) (string, error) { return b.Endpoint + path, nil }

// Authorize sets the credential: Authorization: Bearer on Vertex AI and
// for bearer credentials, else the x-goog-api-key header.
func (p *Provider) Authorize(h http.Header, b *route.Backend, credential string) {
	switch {
	case credential == "":
	case p.c.vertex || b.CredentialType == "bearer":
		h.Set("Authorization", "Bearer "+credential)
	default:
		h.Set("x-goog-api-key", credential)
	}
}

var (
	_ provider.Provider        = (*Provider)(nil)
	_ provider.RetryAfterError = (*retryError)(nil)

	_ provider.Translator   = (*FromOpenAI)(nil)
	_ provider.StreamEnder  = (*FromOpenAI)(nil)
	_ provider.EventCounter = (*FromOpenAI)(nil)

	_ provider.Translator   = (*FromAnthropic)(nil)
	_ provider.StreamEnder  = (*FromAnthropic)(nil)
	_ provider.EventCounter = (*FromAnthropic)(nil)

	_ provider.Translator = (*Embed)(nil)
)

// common is what every translator of the package holds: which API, the
// clock and id source, and the count of upstream elements skipped.
type common struct {
	vertex  bool             // Vertex AI rather than the Gemini API
	now     func() time.Time // the clock for "created"; nil: time.Now
	newID   func() string    // seeds synthesized call ids; nil: provider.RandomID
	skipped int
	nonce   string
	usage   api.Usage // the newest usageMetadata the upstream sent
}

// Usage is what Gemini reported for the exchange so far.
func (a *common) Usage() api.Usage { return a.usage }

// read decodes one generateContent answer (a whole body or one streamed
// event), turning an upstream error object into an error and keeping the
// usage it reports.
func (a *common) read(data []byte) (response, error) {
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return r, api.BadUpstreamBody(preset.Gemini, "an answer")
	}
	if r.Error != nil {
		return r, mapError(0, r.Error)
	}
	if r.UsageMetadata != nil {
		a.usage = r.UsageMetadata.api()
	}
	return r, nil
}

// readEvent reads one streamGenerateContent event as read does; ok is false
// for an event without data (comments are keep-alives; anything else is
// counted as skipped).
func (a *common) readEvent(ev sse.Event) (r response, ok bool, err error) {
	if ev.Data == nil {
		if !ev.IsComment() {
			a.skipped++
		}
		return r, false, nil
	}
	r, err = a.read(ev.Data)
	return r, err == nil, err
}

// callSeed is what synthesized call ids are derived from: Gemini's
// response id, or, when it gave none, a fresh id drawn once per exchange
// (random unless the process pins its ids), so ids never repeat across
// turns.
func (a *common) callSeed(responseID string) string {
	if responseID != "" {
		return responseID
	}
	if a.nonce == "" {
		if a.newID == nil {
			a.newID = provider.RandomID
		}
		a.nonce = a.newID()
	}
	return a.nonce
}

// SkippedEvents is how many upstream parts, events, candidates or finish
// reasons had no client counterpart in this exchange; the gateway puts the
// count on the request's log line, once per request.
func (a *common) SkippedEvents() int { return a.skipped }

// skip counts a part with no client counterpart; a part that carries
// nothing at all (Gemini ends some streams with {"text":""}) is not worth
// counting.
func (a *common) skip(p *part) {
	if p.kind() != "empty" {
		a.skipped++
	}
}

// orDefault is the response id, or a stand-in when Gemini gave none.
func orDefault(id string) string {
	if id == "" {
		return "gemini"
	}
	return id
}

func (a *common) unix() int64 {
	if a.now == nil {
		return time.Now().Unix()
	}
	return a.now().Unix()
}

// Header sets the content type.
func (a *common) Header(h http.Header) {
	h.Set("Content-Type", "application/json")
}

// generateCall is the path and body of a generateContent call, or of a
// streamGenerateContent one for a streamed request.
func generateCall(model string, stream bool, g *request) (string, []byte, error) {
	out, err := json.Marshal(g)
	if err != nil {
		return "", nil, api.Errorf(api.ErrBadRequest, "invalid request: %v", err)
	}
	return path(model, stream), out, nil
}

func path(model string, stream bool) string {
	if stream {
		return "/models/" + model + ":streamGenerateContent?alt=sse"
	}
	return "/models/" + model + ":generateContent"
}

// --- wire types (a subset of the API reference: what Sluice reads or writes) ---

type request struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction,omitempty"`
	Tools             []tool            `json:"tools,omitempty"`
	ToolConfig        *toolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             string            `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	InlineData       *blob             `json:"inlineData,omitempty"`
	FileData         *fileData         `json:"fileData,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
	// Kinds Sluice has no client counterpart for are kept raw to be
	// counted.
	ExecutableCode      json.RawMessage `json:"executableCode,omitempty"`
	CodeExecutionResult json.RawMessage `json:"codeExecutionResult,omitempty"`
}

// kind names a part that carries nothing Sluice maps ("empty" for one
// that carries nothing at all).
func (p *part) kind() string {
	switch {
	case p.InlineData != nil:
		return "inlineData"
	case p.FileData != nil:
		return "fileData"
	case p.ExecutableCode != nil:
		return "executableCode"
	case p.CodeExecutionResult != nil:
		return "codeExecutionResult"
	case p.FunctionResponse != nil:
		return "functionResponse"
	}
	return "empty"
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type functionResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type tool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations"`
}

type functionDeclaration struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig functionCallingConfig `json:"functionCallingConfig"`
}

type functionCallingConfig struct {
	Mode                 string   `json:"mode"` // AUTO, ANY, NONE
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type generationConfig struct {
	StopSequences      []string        `json:"stopSequences,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	CandidateCount     *int64          `json:"candidateCount,omitempty"`
	MaxOutputTokens    *int64          `json:"maxOutputTokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int64          `json:"topK,omitempty"`
	Seed               *int64          `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	ThinkingConfig     *thinkingConfig `json:"thinkingConfig,omitempty"`
}

type thinkingConfig struct {
	ThinkingBudget  *int64 `json:"thinkingBudget,omitempty"`
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
	// ThinkingLevel (MINIMAL, LOW, MEDIUM, HIGH) is Gemini 3's control,
	// in place of a budget; Gemini refuses a request that sets both.
	ThinkingLevel string `json:"thinkingLevel,omitempty"`
}

type response struct {
	Candidates     []candidate     `json:"candidates"`
	PromptFeedback *promptFeedback `json:"promptFeedback,omitempty"`
	UsageMetadata  *usageMetadata  `json:"usageMetadata,omitempty"`
	ModelVersion   string          `json:"modelVersion,omitempty"`
	ResponseID     string          `json:"responseId,omitempty"`
	Error          *wireError      `json:"error,omitempty"` // an error sent mid-stream
}

type candidate struct {
	Content      *content `json:"content,omitempty"`
	FinishReason string   `json:"finishReason,omitempty"`
	Index        int64    `json:"index"`
}

type promptFeedback struct {
	BlockReason string `json:"blockReason,omitempty"`
}

type usageMetadata struct {
	PromptTokenCount        int64 `json:"promptTokenCount"`
	CandidatesTokenCount    int64 `json:"candidatesTokenCount"`
	CachedContentTokenCount int64 `json:"cachedContentTokenCount"`
	ThoughtsTokenCount      int64 `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int64 `json:"toolUsePromptTokenCount"`
	TotalTokenCount         int64 `json:"totalTokenCount"`
}

// api converts Gemini's counts: input includes the tool-use prompt and the
// cached tokens, output includes the thoughts.
func (u *usageMetadata) api() api.Usage {
	return api.Usage{
		InputTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		OutputTokens:    u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens:    u.CachedContentTokenCount,
		ReasoningTokens: u.ThoughtsTokenCount,
		Reported:        true,
	}
}

type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []struct {
		Reason     string `json:"reason"`     // of google.rpc.ErrorInfo
		RetryDelay string `json:"retryDelay"` // of google.rpc.RetryInfo, e.g. "41s"
	} `json:"details"`
}

// retryAfter is the RetryInfo delay in whole seconds, rounded up; empty
// when Gemini gave none.
func (e *wireError) retryAfter() string {
	for _, d := range e.Details {
		if d.RetryDelay == "" {
			continue
		}
		if v, err := time.ParseDuration(d.RetryDelay); err == nil && v > 0 {
			return strconv.FormatInt(int64((v+time.Second-1)/time.Second), 10)
		}
	}
	return ""
}

// retryError is a rate-limit error that says when to retry; the gateway
// sends that as Retry-After.
type retryError struct {
	err   *api.Error
	after string
}

func (e *retryError) Error() string      { return e.err.Error() }
func (e *retryError) Unwrap() error      { return e.err }
func (e *retryError) RetryAfter() string { return e.after }

// keyRefused reports an error about the gateway's own API key, which
// Gemini answers with 400 INVALID_ARGUMENT and reason API_KEY_INVALID.
func (e *wireError) keyRefused() bool {
	for _, d := range e.Details {
		if d.Reason == "API_KEY_INVALID" || d.Reason == "API_KEY_EXPIRED" || d.Reason == "API_KEY_SERVICE_BLOCKED" {
			return true
		}
	}
	return strings.HasPrefix(e.Message, "API key not valid") || strings.HasPrefix(e.Message, "API key expired")
}

// finishReason is what a candidate's finishReason tells the client, as OpenAI's
// finish_reason (FromAnthropic maps it on to a stop reason); calls is
// whether the candidate made function calls. A turn in which the model
// failed to produce a valid call is an error; a reason this version does
// not know ends the turn as stop and is counted as skipped.
func (a *common) finishReason(reason string, calls bool) (string, error) {
	switch reason {
	case "STOP", "FINISH_REASON_UNSPECIFIED":
	case "MAX_TOKENS":
		return chat.FinishLength, nil
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE":
		return chat.FinishContentFilter, nil
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS":
		return "", malformed(reason)
	default:
		a.skipped++
	}
	if calls {
		return chat.FinishToolCalls, nil
	}
	return chat.FinishStop, nil
}

// malformed is the error for a turn in which the model failed to produce a
// valid function call.
func malformed(reason string) error {
	return &api.Error{Kind: api.ErrUpstream, Status: http.StatusBadGateway, Code: "malformed_function_call",
		Message: "the gemini model ended its turn with " + reason + ": it could not produce a valid function call"}
}

// Error maps Gemini's error object ({"error":{"code","message","status"}})
// to a client-safe error keeping the status.
func upstreamError(status int, body []byte) error {
	var e struct {
		Error wireError `json:"error"`
	}
	json.Unmarshal(body, &e)
	return mapError(status, &e.Error)
}

func mapError(status int, e *wireError) error {
	if status == 0 {
		status = e.Code
	}
	if status == 0 {
		status = http.StatusBadGateway
	}
	msg := e.Message
	if msg == "" {
		msg = "gemini returned status " + strconv.Itoa(status)
	}
	out := &api.Error{Status: status, Message: msg, Code: strings.ToLower(e.Status)}
	switch {
	case e.Status == "RESOURCE_EXHAUSTED" || status == http.StatusTooManyRequests:
		out.Kind, out.Status = api.ErrRateLimited, http.StatusTooManyRequests
		out.Code = "rate_limit_exceeded"
	case e.Status == "PERMISSION_DENIED" || e.Status == "UNAUTHENTICATED" || status == http.StatusUnauthorized || status == http.StatusForbidden || e.keyRefused():
		// Gemini refused Sluice's credential: nothing the client can fix,
		// and the upstream wording may name the key.
		out.Kind, out.Status, out.Code = api.ErrUpstream, http.StatusBadGateway, "upstream_auth_failed"
		out.Message = "the gemini backend refused the gateway's credential (" + e.Status + ")"
	case e.Status == "NOT_FOUND" || status == http.StatusNotFound:
		out.Kind, out.Code = api.ErrModelNotFound, "model_not_found"
	case e.Status == "UNAVAILABLE" || status == http.StatusServiceUnavailable:
		out.Kind, out.Status = api.ErrUnavailable, http.StatusServiceUnavailable
	case e.Status == "DEADLINE_EXCEEDED" || status == http.StatusGatewayTimeout:
		out.Kind, out.Status = api.ErrTimeout, http.StatusGatewayTimeout
	case status < 500:
		out.Kind = api.ErrBadRequest
		if contextLimit(msg) {
			out.Code = "context_length_exceeded"
		}
	default:
		out.Kind = api.ErrUpstream
	}
	if out.Code == "" {
		out.Code = "upstream_error"
	}
	if after := e.retryAfter(); after != "" && out.Kind == api.ErrRateLimited {
		return &retryError{err: out, after: after}
	}
	return out
}

// contextLimit recognises Gemini's "input token count exceeds the maximum"
// messages.
func contextLimit(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "token") && (strings.Contains(m, "exceeds") || strings.Contains(m, "too long") || strings.Contains(m, "limit"))
}

// callID makes the id of a function call Gemini gave none: stable for the
// same response, call position and name.
func callID(prefix, responseID string, n int, name string) string {
	h := sha256.Sum256([]byte(responseID + "\x00" + name + "\x00" + strconv.Itoa(n)))
	return prefix + base64.RawURLEncoding.EncodeToString(h[:9]) + "_" + strconv.Itoa(n)
}

// sigSep joins a call id and the thought signature of its functionCall
// part. Gemini 3 refuses a history whose function calls lost their
// signatures, and standard clients drop fields they do not know (such as
// reasoning_signature) but always echo call ids: so the signature rides in
// the id, base64url-encoded, and comes back with it.
const sigSep = "__thought__"

// withSig appends a call's signature to its id.
func withSig(id, sig string) string {
	if sig == "" {
		return id
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return id
	}
	return id + sigSep + base64.RawURLEncoding.EncodeToString(raw)
}

// splitSig takes a call id apart into the id and the signature it carries.
func splitSig(id string) (string, string) {
	base, enc, ok := strings.Cut(id, sigSep)
	if !ok {
		return id, ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return id, ""
	}
	return base, base64.StdEncoding.EncodeToString(raw)
}

// sentID is the call id Gemini sees: its own ids go back, without the
// signature; the ids Sluice made up are not sent.
func sentID(id string) string {
	id, _ = splitSig(id)
	if strings.HasPrefix(id, synthetic) || strings.HasPrefix(id, syntheticToolu) {
		return ""
	}
	return id
}

// toolResponse turns a tool's result text into the object functionResponse
// needs: a JSON object as is, anything else under "output" (or "error").
func toolResponse(text string, isError bool) json.RawMessage {
	t := strings.TrimSpace(text)
	if !isError && strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	key := "output"
	if isError {
		key = "error"
	}
	b, _ := json.Marshal(map[string]string{key: text})
	return b
}

// args returns a call's arguments as a JSON object text.
func argsOf(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// parseArgs checks a client's arguments string is a JSON object.
func parseArgs(s, param string) (json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	if !strings.HasPrefix(s, "{") || !json.Valid([]byte(s)) {
		return nil, &api.Error{Kind: api.ErrBadRequest, Param: param, Message: "function arguments must be a JSON object for the gemini provider"}
	}
	return json.RawMessage(s), nil
}

// mimeByExt guesses an image's MIME type from its URL.
func mimeByExt(u string) string {
	p := strings.ToLower(u)
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	for ext, m := range map[string]string{
		".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
		".gif": "image/gif", ".heic": "image/heic", ".heif": "image/heif", ".pdf": "application/pdf",
	} {
		if strings.HasSuffix(p, ext) {
			return m
		}
	}
	return ""
}

// mediaPart turns a URL (data: or remote) into an inlineData or fileData part.
func mediaPart(u, param string) (part, error) {
	if mime, data, ok := api.ParseDataURL(u); ok {
		return part{InlineData: &blob{MimeType: mime, Data: data}}, nil
	}
	if strings.HasPrefix(u, "data:") {
		return part{}, &api.Error{Kind: api.ErrBadRequest, Param: param, Message: "data URLs must be base64 encoded with a MIME type"}
	}
	if strings.HasPrefix(u, "gs://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		mime := mimeByExt(u)
		if mime == "" {
			return part{}, &api.Error{Kind: api.ErrBadRequest, Param: param,
				Message: "image URLs without a known extension (.png, .jpg, .jpeg, .webp, .gif, .heic, .heif, .pdf) are not supported by the gemini provider; send the image as base64"}
		}
		return part{FileData: &fileData{MimeType: mime, FileURI: u}}, nil
	}
	return part{}, &api.Error{Kind: api.ErrBadRequest, Param: param, Message: "unsupported image URL scheme for the gemini provider"}
}

func unsupported(param string) error {
	return &api.Error{Kind: api.ErrBadRequest, Param: param, Message: param + " is not supported by the gemini provider"}
}
