// Package mock serves model providers' protocols with canned, deterministic
// answers, so the gateway runs and is tested with no provider account: the
// local process puts these servers in place of backends that have no
// credential, and tests use them as upstreams. The shapes follow the
// providers' API references; tests check them with the providers' own SDKs.
package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OpenAI serves the OpenAI protocol: chat completions (plain and streamed),
// embeddings, models and a minimal Responses API. A model named "error-NNN"
// answers with status NNN ("error-429" with Retry-After: 7);
// "error-context" answers OpenAI's context_length_exceeded 400; and
// "cut-midstream" streams a little, then drops the connection. Prompts steer the answer, so tests reach every
// shape a real server sends:
//   - a request with tools whose last user message mentions "tool" gets a
//     call to the first tool (two calls, to each of the first two tools or
//     twice to the one, when it mentions "parallel"); once the last message
//     is a tool result, the answer quotes it;
//   - a prompt mentioning "think" gets reasoning_content before the answer
//     (as DeepSeek and vLLM return it), counted as reasoning tokens.
type OpenAI struct {
	// EventDelay is slept between streamed events (zero: none).
	EventDelay time.Duration
	// Now is the clock for "created" fields; nil means time.Now.
	Now func() time.Time
}

func (m *OpenAI) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// ServeHTTP answers under /v1/ (or any prefix ending in the OpenAI path).
func (m *OpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions") && r.Method == http.MethodPost:
		m.chat(w, r)
	case strings.HasSuffix(r.URL.Path, "/responses") && r.Method == http.MethodPost:
		m.responses(w, r)
	case strings.HasSuffix(r.URL.Path, "/embeddings") && r.Method == http.MethodPost:
		m.embeddings(w, r)
	case strings.HasSuffix(r.URL.Path, "/models") && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{
			{"id": "mock-gpt", "object": "model", "created": 1700000000, "owned_by": "sluice-mock"},
		}})
	default:
		writeOpenAIError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+r.Method+" "+r.URL.Path)
	}
}

type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	// PromptCacheKey makes the mock report half the prompt as cached, and
	// ReasoningEffort seven reasoning tokens (counted in the completion),
	// so usage accounting of both can be tested.
	PromptCacheKey  string `json:"prompt_cache_key"`
	ReasoningEffort string `json:"reasoning_effort"`
}

func (m *OpenAI) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "We could not parse the JSON body of your request.")
		return
	}
	if status, ok := errorModel(req.Model); ok {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		writeOpenAIError(w, status, "mock_error", "mock_"+strconv.Itoa(status), "mock provider answered "+strconv.Itoa(status)+" as asked")
		return
	}
	if req.Model == "error-context" {
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "context_length_exceeded",
			"This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.")
		return
	}
	if len(req.Messages) == 0 {
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter", "Missing required parameter: 'messages'.")
		return
	}
	last := req.Messages[len(req.Messages)-1]
	prompt := lastUserText(last.Content)
	words := answerWords(prompt)
	if last.Role == "tool" {
		words = answerWords("tool result " + prompt)
	}
	var calls []mockCall
	if len(req.Tools) > 0 && last.Role == "user" && strings.Contains(prompt, "tool") {
		n := 1
		if strings.Contains(prompt, "parallel") {
			n = 2
		}
		for i := 0; i < n; i++ {
			name := req.Tools[min(i, len(req.Tools)-1)].Function.Name
			calls = append(calls, mockCall{id: "call_mock" + strconv.Itoa(i), name: name, args: `{"query":` + string(quoteJSON(prompt)) + `,"n":` + strconv.Itoa(i) + `}`})
		}
		words = nil
	}
	var reasoning []string
	if strings.Contains(prompt, "think") && last.Role == "user" {
		reasoning = []string{"Let me ", "think about ", "this."}
	}
	promptTokens := 0
	for _, msg := range req.Messages {
		promptTokens += 1 + len(msg.Content)/4
	}
	id := "chatcmpl-mock" + strconv.FormatInt(m.now().UnixNano()%1e9, 36)
	created := m.now().Unix()
	cached, reasoningTokens := 0, len(reasoning)
	if req.PromptCacheKey != "" {
		cached = promptTokens / 2
	}
	if req.ReasoningEffort != "" && reasoningTokens == 0 {
		reasoningTokens = 7
	}
	completion := len(words) + reasoningTokens + 8*len(calls)
	usage := map[string]any{
		"prompt_tokens": promptTokens, "completion_tokens": completion, "total_tokens": promptTokens + completion,
		"prompt_tokens_details":     map[string]any{"cached_tokens": cached, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": reasoningTokens, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
	finish := "stop"
	if len(calls) > 0 {
		finish = "tool_calls"
	}
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": strings.Join(words, ""), "refusal": nil, "annotations": []any{}}
		if len(reasoning) > 0 {
			msg["reasoning_content"] = strings.Join(reasoning, "")
		}
		if len(calls) > 0 {
			msg["content"] = nil
			var tcs []map[string]any
			for _, c := range calls {
				tcs = append(tcs, map[string]any{"id": c.id, "type": "function", "function": map[string]any{"name": c.name, "arguments": c.args}})
			}
			msg["tool_calls"] = tcs
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": req.Model,
			"choices": []map[string]any{{
				"index":         0,
				"message":       msg,
				"logprobs":      nil,
				"finish_reason": finish,
			}},
			"usage": usage, "service_tier": "default", "system_fingerprint": "fp_sluice_mock",
		})
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
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
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
			"system_fingerprint": "fp_sluice_mock", "service_tier": "default",
			"choices": []map[string]any{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		}
		if includeUsage {
			c["usage"] = nil
		}
		return c
	}
	if !send(chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)) {
		return
	}
	for _, r := range reasoning {
		if !send(chunk(map[string]any{"reasoning_content": r}, nil)) {
			return
		}
	}
	for i, word := range words {
		if !send(chunk(map[string]any{"content": word}, nil)) {
			return
		}
		if i == 1 && req.Model == "cut-midstream" {
			if conn, _, err := rc.Hijack(); err == nil {
				conn.Close()
			}
			return
		}
	}
	for i, c := range calls {
		// The first delta names the call; the arguments follow in two
		// pieces, as OpenAI streams them.
		half := len(c.args) / 2
		deltas := []map[string]any{
			{"index": i, "id": c.id, "type": "function", "function": map[string]any{"name": c.name, "arguments": ""}},
			{"index": i, "function": map[string]any{"arguments": c.args[:half]}},
			{"index": i, "function": map[string]any{"arguments": c.args[half:]}},
		}
		for _, d := range deltas {
			if !send(chunk(map[string]any{"tool_calls": []map[string]any{d}}, nil)) {
				return
			}
		}
	}
	if !send(chunk(map[string]any{}, finish)) {
		return
	}
	if includeUsage {
		if !send(map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model,
			"system_fingerprint": "fp_sluice_mock", "service_tier": "default", "choices": []any{}, "usage": usage,
		}) {
			return
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	rc.Flush()
}

func (m *OpenAI) embeddings(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions int             `json:"dimensions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Input) == 0 {
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "We could not parse the JSON body of your request.")
		return
	}
	var inputs []string
	if json.Unmarshal(req.Input, &inputs) != nil {
		var one string
		json.Unmarshal(req.Input, &one)
		inputs = []string{one}
	}
	data := make([]map[string]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Embedding(in, req.Dimensions)}
		tokens += 1 + len(in)/4
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}})
}

type mockCall struct{ id, name, args string }

func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// errorModel reads a status from a model named "error-NNN".
func errorModel(model string) (int, bool) {
	s, ok := strings.CutPrefix(model, "error-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 400 && n < 600
}

// lastUserText reads a message's content, a string or an array of parts.
func lastUserText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// answerWords is the mock's reply, split into the pieces it streams.
func answerWords(prompt string) []string {
	if len(prompt) > 60 {
		prompt = prompt[:60] + "..."
	}
	text := "Hello from the Sluice mock provider. You said: " + prompt
	var words []string
	for len(text) > 0 {
		i := strings.IndexByte(text[1:], ' ')
		if i < 0 {
			words = append(words, text)
			break
		}
		words = append(words, text[:i+1])
		text = text[i+1:]
	}
	return words
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeOpenAIError(w http.ResponseWriter, status int, typ, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
}
