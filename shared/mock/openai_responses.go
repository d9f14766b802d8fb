package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// responses serves a minimal OpenAI Responses API (POST /v1/responses):
// a text answer to the input, plain or streamed with the events the API
// reference lists for a one-message answer, usage in response.completed.
// As in chat completions, a request with function tools whose input
// mentions "tool" gets a call to the first tool (to each of the first two
// with "parallel"), its arguments streamed in two deltas, and the model
// "cut-midstream" drops the connection after two text deltas.
func (m *OpenAI) responses(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model        string          `json:"model"`
		Stream       bool            `json:"stream"`
		Input        json.RawMessage `json:"input"`
		Instructions string          `json:"instructions"`
		Tools        []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Input) == 0 {
		writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "We could not parse the JSON body of your request.")
		return
	}
	if status, ok := errorModel(req.Model); ok {
		writeOpenAIError(w, status, "mock_error", "mock_"+strconv.Itoa(status), "mock provider answered "+strconv.Itoa(status)+" as asked")
		return
	}
	prompt := responsesInputText(req.Input)
	words := answerWords(prompt)
	var calls []mockCall
	if len(req.Tools) > 0 && strings.Contains(prompt, "tool") {
		n := 1
		if strings.Contains(prompt, "parallel") {
			n = 2
		}
		for i := range n {
			calls = append(calls, mockCall{id: "call_mock" + strconv.Itoa(i), name: req.Tools[min(i, len(req.Tools)-1)].Name,
				args: `{"query":` + string(quoteJSON(prompt)) + `,"n":` + strconv.Itoa(i) + `}`})
		}
		words = nil
	}
	text := strings.Join(words, "")
	inTokens := 1 + (len(req.Input)+len(req.Instructions))/4
	now := m.now().Unix()
	id := "resp_mock" + strconv.FormatInt(m.now().UnixNano()%1e9, 36)
	msgID := "msg_mock" + strconv.FormatInt(m.now().UnixNano()%1e9, 36)
	usage := map[string]any{
		"input_tokens": inTokens, "input_tokens_details": map[string]any{"cached_tokens": 0},
		"output_tokens": len(words), "output_tokens_details": map[string]any{"reasoning_tokens": 0},
		"total_tokens": inTokens + len(words),
	}
	part := func(t string) map[string]any {
		return map[string]any{"type": "output_text", "text": t, "annotations": []any{}, "logprobs": []any{}}
	}
	item := func(status, t string) map[string]any {
		content := []any{}
		if status == "completed" {
			content = []any{part(t)}
		}
		return map[string]any{"type": "message", "id": msgID, "status": status, "role": "assistant", "content": content}
	}
	call := func(i int, status string) map[string]any {
		args := calls[i].args
		if status != "completed" {
			args = ""
		}
		return map[string]any{"type": "function_call", "id": "fc_mock" + strconv.Itoa(i), "call_id": calls[i].id,
			"name": calls[i].name, "arguments": args, "status": status}
	}
	output := []any{item("completed", text)}
	if calls != nil {
		output = output[:0]
		for i := range calls {
			output = append(output, call(i, "completed"))
		}
	}
	response := func(status string, output []any, usage any) map[string]any {
		return map[string]any{
			"id": id, "object": "response", "created_at": now, "status": status, "model": req.Model,
			"output": output, "usage": usage, "error": nil, "incomplete_details": nil,
			"instructions": nilIfEmpty(req.Instructions), "metadata": map[string]any{},
			"parallel_tool_calls": true, "temperature": 1.0, "top_p": 1.0, "tool_choice": "auto", "tools": []any{},
			"text": map[string]any{"format": map[string]any{"type": "text"}},
		}
	}
	if !req.Stream {
		writeJSON(w, http.StatusOK, response("completed", output, usage))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	seq := 0
	send := func(typ string, v map[string]any) bool {
		if m.EventDelay > 0 {
			time.Sleep(m.EventDelay)
		}
		v["type"] = typ
		v["sequence_number"] = seq
		seq++
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	at := func(extra map[string]any) map[string]any {
		extra["item_id"], extra["output_index"], extra["content_index"] = msgID, 0, 0
		return extra
	}
	ok := send("response.created", map[string]any{"response": response("in_progress", []any{}, nil)}) &&
		send("response.in_progress", map[string]any{"response": response("in_progress", []any{}, nil)})
	for i, c := range calls {
		half := len(c.args) / 2
		ok = ok && send("response.output_item.added", map[string]any{"output_index": i, "item": call(i, "in_progress")})
		for _, d := range []string{c.args[:half], c.args[half:]} {
			ok = ok && send("response.function_call_arguments.delta", map[string]any{"item_id": "fc_mock" + strconv.Itoa(i), "output_index": i, "delta": d})
		}
		ok = ok && send("response.function_call_arguments.done", map[string]any{"item_id": "fc_mock" + strconv.Itoa(i), "output_index": i, "arguments": c.args}) &&
			send("response.output_item.done", map[string]any{"output_index": i, "item": call(i, "completed")})
	}
	if calls == nil {
		ok = ok && send("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress", "")}) &&
			send("response.content_part.added", at(map[string]any{"part": part("")}))
		for i, word := range words {
			ok = ok && send("response.output_text.delta", at(map[string]any{"delta": word, "logprobs": []any{}}))
			if ok && i == 1 && req.Model == "cut-midstream" {
				if conn, _, err := rc.Hijack(); err == nil {
					conn.Close()
				}
				return
			}
		}
		ok = ok &&
			send("response.output_text.done", at(map[string]any{"text": text, "logprobs": []any{}})) &&
			send("response.content_part.done", at(map[string]any{"part": part(text)})) &&
			send("response.output_item.done", map[string]any{"output_index": 0, "item": item("completed", text)})
	}
	_ = ok && send("response.completed", map[string]any{"response": response("completed", output, usage)})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// responsesInputText reads the last text of a Responses input: a string,
// or a list of messages whose content is a string or input_text parts.
func responsesInputText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var items []struct {
		Content json.RawMessage `json:"content"`
	}
	json.Unmarshal(raw, &items)
	if len(items) == 0 {
		return ""
	}
	return lastUserText(items[len(items)-1].Content)
}
