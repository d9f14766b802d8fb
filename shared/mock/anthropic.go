package mock

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Anthropic serves Anthropic's Messages API: POST /v1/messages (plain and
// streamed) and /v1/messages/count_tokens. Like the real API it requires
// anthropic-version and max_tokens, checks that every tool_use is answered
// by a tool_result in the next user turn, and, with extended thinking on,
// that an assistant turn using tools starts with a thinking block whose
// signature it issued itself.
//
// Canned behaviour: a prompt asking for the weather with tools offered gets
// tool_use blocks (one per city named: Paris, Tokyo, London; Paris when
// none); a turn of tool results gets an answer quoting them; otherwise the
// prompt is echoed. Thinking, when enabled, comes first with a signature.
// Models named "error-NNN" answer with status NNN ("error-429" with
// Retry-After: 7); "error-context" answers a prompt-too-long 400;
// "error-midstream" streams a little, then an overloaded error event;
// "cut-midstream" streams a little, then drops the connection.
type Anthropic struct {
	// EventDelay is slept between streamed events (zero: none).
	EventDelay time.Duration
	// Now is the clock for message ids; nil means time.Now.
	Now func() time.Time
}

func (m *Anthropic) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// ServeHTTP answers under /v1/ (or any prefix ending in the API's path).
func (m *Anthropic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAnthropicError(w, http.StatusNotFound, "not_found_error", "Not found")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages/count_tokens"):
		m.countTokens(w, r)
	case strings.HasSuffix(r.URL.Path, "/messages"):
		m.messages(w, r)
	default:
		writeAnthropicError(w, http.StatusNotFound, "not_found_error", "Not found")
	}
}

type aBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
	Data      string          `json:"data,omitempty"`
}

type aMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	blocks  []aBlock
}

type aRequest struct {
	Model         string          `json:"model"`
	MaxTokens     int64           `json:"max_tokens"`
	Stream        bool            `json:"stream"`
	System        json.RawMessage `json:"system"`
	Messages      []aMessage      `json:"messages"`
	StopSequences []string        `json:"stop_sequences"`
	Tools         []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type                   string `json:"type"`
		Name                   string `json:"name"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
	} `json:"tool_choice"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens int64  `json:"budget_tokens"`
	} `json:"thinking"`
}

// blocksOf reads content: a string or an array of blocks.
func blocksOf(raw json.RawMessage) ([]aBlock, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []aBlock{{Type: "text", Text: s}}, nil
	}
	var b []aBlock
	err := json.Unmarshal(raw, &b)
	return b, err
}

// signThinking is the mock's thinking signature: it can tell its own.
func signThinking(thinking string) string {
	sum := sha256.Sum256([]byte("sluice-mock-thinking:" + thinking))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// check validates a request as the Messages API would; it returns the
// error message for a 400, or "".
func (req *aRequest) check() string {
	if req.Model == "" {
		return "model: Field required"
	}
	if req.MaxTokens <= 0 {
		return "max_tokens: Field required"
	}
	if len(req.Messages) == 0 {
		return "messages: at least one message is required"
	}
	thinking := req.Thinking != nil && req.Thinking.Type == "enabled"
	if thinking && (req.Thinking.BudgetTokens < 1024 || req.Thinking.BudgetTokens >= req.MaxTokens) {
		return "thinking.budget_tokens: must be at least 1024 and less than max_tokens"
	}
	for i := range req.Messages {
		msg := &req.Messages[i]
		b, err := blocksOf(msg.Content)
		if err != nil {
			return fmt.Sprintf("messages.%d.content: Input should be a valid list", i)
		}
		msg.blocks = b
		if msg.Role != "user" && msg.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
	}
	for i, msg := range req.Messages {
		if msg.Role != "assistant" {
			continue
		}
		var uses []string
		for _, b := range msg.blocks {
			if b.Type == "tool_use" {
				uses = append(uses, b.ID)
			}
			if b.Type == "thinking" && (b.Signature == nil || b.Thinking == nil || *b.Signature != signThinking(*b.Thinking)) {
				return fmt.Sprintf("messages.%d.content: Invalid `signature` in `thinking` block", i)
			}
		}
		if len(uses) == 0 {
			continue
		}
		if thinking && i == lastAssistant(req.Messages) && msg.blocks[0].Type != "thinking" && msg.blocks[0].Type != "redacted_thinking" {
			return fmt.Sprintf("messages.%d.content.0.type: Expected `thinking` or `redacted_thinking`, but found `%s`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.", i, msg.blocks[0].Type)
		}
		answered := map[string]bool{}
		if i+1 < len(req.Messages) && req.Messages[i+1].Role == "user" {
			for _, b := range req.Messages[i+1].blocks {
				if b.Type == "tool_result" {
					answered[b.ToolUseID] = true
				}
			}
		}
		for _, id := range uses {
			if !answered[id] {
				return fmt.Sprintf("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", i, id)
			}
		}
	}
	return ""
}

func lastAssistant(msgs []aMessage) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "assistant" {
			return i
		}
	}
	return -1
}

// answer is what the mock replies: content blocks and a stop reason.
type answer struct {
	thinking   string
	words      []string // the text, in the pieces it streams
	tools      []aBlock
	stopReason string
	stopSeq    *string
}

var cities = []string{"Paris", "Tokyo", "London"}

func (m *Anthropic) answer(req *aRequest) answer {
	last := req.Messages[len(req.Messages)-1]
	var prompt, results strings.Builder
	for _, b := range last.blocks {
		switch b.Type {
		case "text":
			prompt.WriteString(b.Text)
		case "tool_result":
			bs, _ := blocksOf(b.Content)
			for _, r := range bs {
				results.WriteString(r.Text)
			}
		}
	}
	var a answer
	if req.Thinking != nil && req.Thinking.Type == "enabled" {
		a.thinking = "The user wrote " + strconv.Itoa(len(prompt.String())+len(results.String())) + " characters. I will answer briefly."
	}
	p := prompt.String()
	switch {
	case results.Len() > 0:
		a.words = splitWords("The tool said: " + results.String())
	case len(req.Tools) > 0 && strings.Contains(strings.ToLower(p), "weather") && (req.ToolChoice == nil || req.ToolChoice.Type != "none"):
		name := req.Tools[0].Name
		for _, t := range req.Tools {
			if strings.Contains(t.Name, "weather") {
				name = t.Name
			}
		}
		if req.ToolChoice != nil && req.ToolChoice.Name != "" {
			name = req.ToolChoice.Name
		}
		for _, c := range cities {
			if strings.Contains(p, c) {
				a.tools = append(a.tools, aBlock{Type: "tool_use", Name: name, Input: json.RawMessage(`{"location":"` + c + `"}`)})
			}
		}
		if len(a.tools) == 0 {
			a.tools = []aBlock{{Type: "tool_use", Name: name, Input: json.RawMessage(`{"location":"Paris"}`)}}
		}
		if req.ToolChoice != nil && req.ToolChoice.DisableParallelToolUse {
			a.tools = a.tools[:1]
		}
		for i := range a.tools {
			a.tools[i].ID = "toolu_mock" + strconv.Itoa(i+1)
		}
		a.words = []string{"Let me check the weather."}
		a.stopReason = "tool_use"
		return a
	default:
		a.words = answerWords(p)
	}
	a.stopReason = "end_turn"
	for i, w := range a.words {
		for _, s := range req.StopSequences {
			if j := strings.Index(w, s); s != "" && j >= 0 {
				a.words = append(a.words[:i:i], w[:j])
				a.stopReason, a.stopSeq = "stop_sequence", &s
				return a
			}
		}
		if int64(i) >= req.MaxTokens {
			a.words = a.words[:i]
			a.stopReason = "max_tokens"
			return a
		}
	}
	return a
}

func splitWords(text string) []string {
	var words []string
	for len(text) > 0 {
		i := strings.IndexByte(text[1:], ' ')
		if i < 0 {
			return append(words, text)
		}
		words = append(words, text[:i+1])
		text = text[i+1:]
	}
	return words
}

func (m *Anthropic) messages(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req aRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "There was an issue with the format of your request: the body is not valid JSON")
		return
	}
	switch {
	case req.Model == "error-context":
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "prompt is too long: 208934 tokens > 200000 maximum")
		return
	case strings.HasPrefix(req.Model, "error-") && req.Model != "error-midstream":
		if status, ok := errorModel(req.Model); ok {
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "7")
			}
			writeAnthropicError(w, status, anthropicErrorType(status), "mock provider answered "+strconv.Itoa(status)+" as asked")
			return
		}
	}
	if msg := req.check(); msg != "" {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	a := m.answer(&req)
	id := "msg_mock" + strconv.FormatInt(m.now().UnixNano()%1e9, 36)
	usage := map[string]any{"input_tokens": 1 + len(body)/4, "output_tokens": 0,
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard"}
	out := len(strings.Fields(a.thinking))
	for _, wd := range a.words {
		out += len(strings.Fields(wd))
	}
	out += 12 * len(a.tools)
	if !req.Stream {
		usage["output_tokens"] = out
		var content []map[string]any
		if a.thinking != "" {
			content = append(content, map[string]any{"type": "thinking", "thinking": a.thinking, "signature": signThinking(a.thinking)})
		}
		if len(a.words) > 0 {
			content = append(content, map[string]any{"type": "text", "text": strings.Join(a.words, "")})
		}
		for _, t := range a.tools {
			content = append(content, map[string]any{"type": "tool_use", "id": t.ID, "name": t.Name, "input": t.Input})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": content,
			"stop_reason": a.stopReason, "stop_sequence": a.stopSeq, "usage": usage,
		})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(v map[string]any) bool {
		if m.EventDelay > 0 {
			time.Sleep(m.EventDelay)
		}
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", v["type"], b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	startUsage := map[string]any{}
	for k, v := range usage {
		startUsage[k] = v
	}
	startUsage["output_tokens"] = 1
	if !send(map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": startUsage,
	}}) || !send(map[string]any{"type": "ping"}) {
		return
	}
	index := 0
	block := func(start map[string]any, deltas []map[string]any) bool {
		if !send(map[string]any{"type": "content_block_start", "index": index, "content_block": start}) {
			return false
		}
		for _, d := range deltas {
			if !send(map[string]any{"type": "content_block_delta", "index": index, "delta": d}) {
				return false
			}
		}
		ok := send(map[string]any{"type": "content_block_stop", "index": index})
		index++
		return ok
	}
	if a.thinking != "" {
		var deltas []map[string]any
		for _, wd := range splitWords(a.thinking) {
			deltas = append(deltas, map[string]any{"type": "thinking_delta", "thinking": wd})
		}
		deltas = append(deltas, map[string]any{"type": "signature_delta", "signature": signThinking(a.thinking)})
		if !block(map[string]any{"type": "thinking", "thinking": "", "signature": ""}, deltas) {
			return
		}
	}
	if len(a.words) > 0 {
		var deltas []map[string]any
		for i, wd := range a.words {
			deltas = append(deltas, map[string]any{"type": "text_delta", "text": wd})
			if i == 1 && (req.Model == "error-midstream" || req.Model == "cut-midstream") {
				break
			}
		}
		if req.Model == "error-midstream" || req.Model == "cut-midstream" {
			send(map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "text", "text": ""}})
			for _, d := range deltas {
				send(map[string]any{"type": "content_block_delta", "index": index, "delta": d})
			}
			if req.Model == "error-midstream" {
				send(map[string]any{"type": "error", "error": map[string]any{"type": "overloaded_error", "message": "Overloaded"}})
				return
			}
			if conn, _, err := rc.Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		if !block(map[string]any{"type": "text", "text": ""}, deltas) {
			return
		}
	}
	for _, t := range a.tools {
		in := string(t.Input)
		cut := strings.IndexByte(in, ':') + 1
		deltas := []map[string]any{
			{"type": "input_json_delta", "partial_json": ""},
			{"type": "input_json_delta", "partial_json": in[:cut]},
			{"type": "input_json_delta", "partial_json": in[cut:]},
		}
		if !block(map[string]any{"type": "tool_use", "id": t.ID, "name": t.Name, "input": map[string]any{}}, deltas) {
			return
		}
	}
	if !send(map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": a.stopReason, "stop_sequence": a.stopSeq},
		"usage": map[string]any{"output_tokens": out}}) {
		return
	}
	send(map[string]any{"type": "message_stop"})
}

func (m *Anthropic) countTokens(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Model    string          `json:"model"`
		Messages json.RawMessage `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil || req.Model == "" || len(req.Messages) == 0 {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "model and messages are required")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"input_tokens": 1 + len(body)/4})
}

func anthropicErrorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	}
	return "api_error"
}

func writeAnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Request-Id", "req_mock")
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}, "request_id": "req_mock"})
}
