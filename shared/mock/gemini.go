package mock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Gemini serves Google's Gemini API (generativelanguage v1beta):
// models/{model}:generateContent, :streamGenerateContent?alt=sse,
// :batchEmbedContents and :embedContent, and Vertex AI's :predict for
// embeddings (the other Vertex paths end as the Gemini API's do). Requests are decoded strictly, so
// a field the API does not define fails as it would upstream.
//
// It answers with text; with function calls when tools are declared, the
// last user text asks about the weather and the calling mode allows it (one
// call per city named: Paris, Tokyo, London; Paris if none); with a thought
// part and a thought signature when thinkingConfig.includeThoughts is set;
// with a function's result echoed when the last turn is a functionResponse.
// Models named "error-NNN" answer status NNN with Gemini's error object,
// "error-context" a token-limit INVALID_ARGUMENT, and "cut-stream" streams
// one chunk and then closes without a finish reason.
type Gemini struct {
	// EventDelay is slept between streamed events (zero: none).
	EventDelay time.Duration
	// Requests, when set, receives each request body as received.
	Requests chan<- []byte
}

// MockSignature is the thoughtSignature the mock signs its turns with.
var MockSignature = base64.StdEncoding.EncodeToString([]byte("sluice-mock-thought-signature"))

type gemContent struct {
	Role  string    `json:"role,omitempty"`
	Parts []gemPart `json:"parts"`
}

type gemPart struct {
	Text             string          `json:"text,omitempty"`
	Thought          bool            `json:"thought,omitempty"`
	ThoughtSignature string          `json:"thoughtSignature,omitempty"`
	InlineData       json.RawMessage `json:"inlineData,omitempty"`
	FileData         json.RawMessage `json:"fileData,omitempty"`
	FunctionCall     *struct {
		ID   string          `json:"id,omitempty"`
		Name string          `json:"name"`
		Args json.RawMessage `json:"args,omitempty"`
	} `json:"functionCall,omitempty"`
	FunctionResponse *struct {
		ID       string          `json:"id,omitempty"`
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	} `json:"functionResponse,omitempty"`
}

type gemRequest struct {
	Contents          []gemContent `json:"contents"`
	SystemInstruction *gemContent  `json:"systemInstruction,omitempty"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name                 string          `json:"name"`
			Description          string          `json:"description,omitempty"`
			Parameters           json.RawMessage `json:"parameters,omitempty"`
			ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
		} `json:"functionDeclarations"`
	} `json:"tools,omitempty"`
	ToolConfig *struct {
		FunctionCallingConfig struct {
			Mode                 string   `json:"mode"`
			AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
		} `json:"functionCallingConfig"`
	} `json:"toolConfig,omitempty"`
	GenerationConfig *struct {
		StopSequences      []string        `json:"stopSequences,omitempty"`
		ResponseMimeType   string          `json:"responseMimeType,omitempty"`
		ResponseSchema     json.RawMessage `json:"responseSchema,omitempty"`
		ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
		CandidateCount     *int            `json:"candidateCount,omitempty"`
		MaxOutputTokens    *int            `json:"maxOutputTokens,omitempty"`
		Temperature        *float64        `json:"temperature,omitempty"`
		TopP               *float64        `json:"topP,omitempty"`
		TopK               *float64        `json:"topK,omitempty"`
		Seed               *int64          `json:"seed,omitempty"`
		PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
		FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
		ThinkingConfig     *struct {
			ThinkingBudget  *int   `json:"thinkingBudget,omitempty"`
			IncludeThoughts bool   `json:"includeThoughts,omitempty"`
			ThinkingLevel   string `json:"thinkingLevel,omitempty"`
		} `json:"thinkingConfig,omitempty"`
	} `json:"generationConfig,omitempty"`
	SafetySettings json.RawMessage `json:"safetySettings,omitempty"`
}

// ServeHTTP routes on the method suffix of the path.
func (m *Gemini) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, "/models/")
	j := strings.LastIndexByte(r.URL.Path, ':')
	if r.Method != http.MethodPost || i < 0 || j < i {
		writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", "mock: unknown path "+r.URL.Path)
		return
	}
	model, method := r.URL.Path[i+len("/models/"):j], r.URL.Path[j+1:]
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	if m.Requests != nil {
		m.Requests <- append([]byte(nil), body.Bytes()...)
	}
	switch {
	case model == "error-context":
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).")
		return
	case strings.HasPrefix(model, "error-"):
		if status, ok := errorModel(model); ok {
			if status == http.StatusTooManyRequests {
				// Gemini says when to retry in the body, not in a header.
				writeJSON(w, status, map[string]any{"error": map[string]any{
					"code": status, "message": "mock provider answered 429 as asked; please retry in 6.2s", "status": "RESOURCE_EXHAUSTED",
					"details": []map[string]any{{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "6.2s"}},
				}})
				return
			}
			writeGeminiError(w, status, grpcStatus(status), "mock provider answered "+strconv.Itoa(status)+" as asked")
			return
		}
	}
	switch method {
	case "generateContent":
		m.generate(w, model, body.Bytes(), false)
	case "streamGenerateContent":
		if r.URL.Query().Get("alt") != "sse" {
			writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "mock: only alt=sse streaming is served")
			return
		}
		m.generate(w, model, body.Bytes(), true)
	case "batchEmbedContents", "embedContent":
		m.embed(w, model, method, body.Bytes())
	case "predict":
		m.predict(w, body.Bytes())
	default:
		writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", "mock: unknown method "+method)
	}
}

func grpcStatus(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	return "INTERNAL"
}

func writeGeminiError(w http.ResponseWriter, status int, grpc, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": grpc}})
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (m *Gemini) generate(w http.ResponseWriter, model string, body []byte, stream bool) {
	var req gemRequest
	if err := strictJSON(body, &req); err != nil {
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	if len(req.Contents) == 0 {
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
		return
	}
	last := req.Contents[len(req.Contents)-1]
	var prompt strings.Builder
	var results []string
	for _, p := range last.Parts {
		prompt.WriteString(p.Text)
		if p.FunctionResponse != nil {
			results = append(results, p.FunctionResponse.Name+"="+string(p.FunctionResponse.Response))
		}
	}
	promptTokens := 0
	for _, c := range req.Contents {
		for _, p := range c.Parts {
			promptTokens += 1 + len(p.Text)/4
		}
	}
	gc := req.GenerationConfig
	if gc != nil && gc.ThinkingConfig != nil && gc.ThinkingConfig.ThinkingLevel != "" && gc.ThinkingConfig.ThinkingBudget != nil {
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "You can only set only one of thinking budget and thinking level.")
		return
	}
	thoughts := gc != nil && gc.ThinkingConfig != nil && gc.ThinkingConfig.IncludeThoughts
	n := 1
	if gc != nil && gc.CandidateCount != nil && *gc.CandidateCount > 0 {
		n = *gc.CandidateCount
	}

	// What the model "says": function calls, or words.
	type call struct {
		name string
		args string
	}
	var calls []call
	mode := "AUTO"
	if req.ToolConfig != nil {
		mode = req.ToolConfig.FunctionCallingConfig.Mode
	}
	if len(req.Tools) > 0 && len(req.Tools[0].FunctionDeclarations) > 0 && mode != "NONE" && len(results) == 0 &&
		(mode == "ANY" || strings.Contains(strings.ToLower(prompt.String()), "weather")) {
		name := req.Tools[0].FunctionDeclarations[0].Name
		if req.ToolConfig != nil && len(req.ToolConfig.FunctionCallingConfig.AllowedFunctionNames) > 0 {
			name = req.ToolConfig.FunctionCallingConfig.AllowedFunctionNames[0]
		}
		for _, c := range cities {
			if strings.Contains(prompt.String(), c) {
				calls = append(calls, call{name, `{"city":"` + c + `"}`})
			}
		}
		if len(calls) == 0 {
			calls = append(calls, call{name, `{"city":"Paris"}`})
		}
	}
	text := prompt.String()
	if len(results) > 0 {
		text = "results " + strings.Join(results, "; ")
	}
	words := answerWords(text)
	if gc != nil && gc.ResponseMimeType == "application/json" {
		b, _ := json.Marshal(map[string]string{"answer": strings.Join(words, "")})
		words = []string{string(b)}
	}
	finish := "STOP"
	if gc != nil && gc.MaxOutputTokens != nil && *gc.MaxOutputTokens < len(words) && len(calls) == 0 {
		words, finish = words[:*gc.MaxOutputTokens], "MAX_TOKENS"
	}
	outTokens := len(words) + 3*len(calls)
	thoughtTokens := 0
	if thoughts {
		thoughtTokens = 5
	}
	usage := map[string]any{
		"promptTokenCount": promptTokens, "candidatesTokenCount": outTokens, "thoughtsTokenCount": thoughtTokens,
		"totalTokenCount":     promptTokens + outTokens + thoughtTokens,
		"promptTokensDetails": []map[string]any{{"modality": "TEXT", "tokenCount": promptTokens}},
	}
	if thoughtTokens == 0 {
		delete(usage, "thoughtsTokenCount")
	}
	responseID := "mockresp" + strconv.Itoa(promptTokens)
	thoughtPart := map[string]any{"text": "The user said \"" + firstN(prompt.String(), 30) + "\"; I will answer.", "thought": true}
	callParts := func() []map[string]any {
		var ps []map[string]any
		for i, c := range calls {
			p := map[string]any{"functionCall": map[string]any{"name": c.name, "args": json.RawMessage(c.args)}}
			if i == 0 && thoughts {
				p["thoughtSignature"] = MockSignature
			}
			ps = append(ps, p)
		}
		return ps
	}

	if !stream {
		var cands []map[string]any
		for i := 0; i < n; i++ {
			var parts []map[string]any
			if thoughts {
				parts = append(parts, thoughtPart)
			}
			if len(calls) > 0 {
				parts = append(parts, callParts()...)
			} else {
				p := map[string]any{"text": strings.Join(words, "")}
				if thoughts {
					p["thoughtSignature"] = MockSignature
				}
				parts = append(parts, p)
			}
			cands = append(cands, map[string]any{"content": map[string]any{"parts": parts, "role": "model"}, "finishReason": finish, "index": i})
		}
		writeJSON(w, http.StatusOK, map[string]any{"candidates": cands, "usageMetadata": usage, "modelVersion": model, "responseId": responseID})
		return
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(parts []map[string]any, finish string, usage map[string]any) bool {
		if m.EventDelay > 0 {
			time.Sleep(m.EventDelay)
		}
		var cands []map[string]any
		for i := 0; i < n; i++ {
			c := map[string]any{"content": map[string]any{"parts": parts, "role": "model"}, "index": i}
			if finish != "" {
				c["finishReason"] = finish
			}
			cands = append(cands, c)
		}
		b, _ := json.Marshal(map[string]any{"candidates": cands, "usageMetadata": usage, "modelVersion": model, "responseId": responseID})
		if _, err := fmt.Fprintf(w, "data: %s\r\n\r\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	partial := map[string]any{"promptTokenCount": promptTokens, "totalTokenCount": promptTokens}
	if thoughts && !send([]map[string]any{thoughtPart}, "", partial) {
		return
	}
	if len(calls) > 0 {
		send(callParts(), finish, usage)
		return
	}
	for i, word := range words {
		p := map[string]any{"text": word}
		if i == 0 && thoughts {
			p["thoughtSignature"] = MockSignature
		}
		if model == "cut-stream" {
			send([]map[string]any{p}, "", partial)
			return
		}
		if i == len(words)-1 {
			send([]map[string]any{p}, finish, usage)
			return
		}
		if !send([]map[string]any{p}, "", partial) {
			return
		}
	}
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (m *Gemini) embed(w http.ResponseWriter, model, method string, body []byte) {
	type embedReq struct {
		Model   string `json:"model,omitempty"`
		Content struct {
			Role  string    `json:"role,omitempty"`
			Parts []gemPart `json:"parts"`
		} `json:"content"`
		TaskType             string `json:"taskType,omitempty"`
		Title                string `json:"title,omitempty"`
		OutputDimensionality *int   `json:"outputDimensionality,omitempty"`
	}
	vector := func(r embedReq) map[string]any {
		text := ""
		for _, p := range r.Content.Parts {
			text += p.Text
		}
		dims := 0
		if r.OutputDimensionality != nil {
			dims = *r.OutputDimensionality
		}
		return map[string]any{"values": Embedding(text, dims)}
	}
	if method == "embedContent" {
		var r embedReq
		if err := strictJSON(body, &r); err != nil {
			writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"embedding": vector(r)})
		return
	}
	var r struct {
		Requests []embedReq `json:"requests"`
	}
	if err := strictJSON(body, &r); err != nil || len(r.Requests) == 0 {
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("Invalid JSON payload received. %v", err))
		return
	}
	out := make([]map[string]any, len(r.Requests))
	for i, q := range r.Requests {
		if q.Model != "models/"+model {
			writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests["+strconv.Itoa(i)+"].model: model does not match the batch's model")
			return
		}
		out[i] = vector(q)
	}
	writeJSON(w, http.StatusOK, map[string]any{"embeddings": out})
}

// predict answers Vertex AI's embedding predict: one prediction per
// instance, with its token count.
func (m *Gemini) predict(w http.ResponseWriter, body []byte) {
	var r struct {
		Instances []struct {
			Content  string `json:"content"`
			TaskType string `json:"task_type,omitempty"`
			Title    string `json:"title,omitempty"`
		} `json:"instances"`
		Parameters *struct {
			OutputDimensionality *int  `json:"outputDimensionality,omitempty"`
			AutoTruncate         *bool `json:"autoTruncate,omitempty"`
		} `json:"parameters,omitempty"`
	}
	if err := strictJSON(body, &r); err != nil || len(r.Instances) == 0 {
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("Invalid JSON payload received. %v", err))
		return
	}
	dims := 0
	if r.Parameters != nil && r.Parameters.OutputDimensionality != nil {
		dims = *r.Parameters.OutputDimensionality
	}
	preds := make([]map[string]any, len(r.Instances))
	for i, in := range r.Instances {
		preds[i] = map[string]any{"embeddings": map[string]any{"values": Embedding(in.Content, dims), "statistics": map[string]any{"truncated": false, "token_count": 1 + len(in.Content)/4}}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"predictions": preds, "metadata": map[string]any{"billableCharacterCount": len(body)}})
}
