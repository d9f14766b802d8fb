package mock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Bedrock serves Amazon Bedrock Runtime: Converse, ConverseStream (AWS
// event-stream framing) and InvokeModel for Titan and Cohere embedding
// models. Every request must carry a well-formed SigV4 Authorization
// header for the bedrock service (or a Bedrock API key as a bearer
// token); when Credentials is set, the signature itself is checked.
//
// Canned behaviour: with tools given and a prompt that mentions weather,
// the model calls the first tool; a tool forced by toolChoice is called
// with {"answer": <prompt>}; with outputConfig.textFormat the text is
// that JSON; after a tool result it reports it; with thinking enabled
// (additionalModelRequestFields.thinking) it first reasons, with a
// signature. A stop sequence found in the text ends it there (stop
// reason stop_sequence), and the sequence comes back in
// additionalModelResponseFields when the request's
// additionalModelResponseFieldPaths ask for "/stop_sequence", as Claude
// reports it. A model id containing "throttle" answers
// 429 ThrottlingException; one containing "midstream" streams a little
// and then sends a throttlingException frame; "error-NNN" answers NNN.
type Bedrock struct {
	// Credentials, when set, are the only ones accepted, and signatures
	// are verified against them.
	Credentials *aws.Credentials
	// EventDelay is slept between streamed events (zero: none).
	EventDelay time.Duration
}

var sigV4Auth = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/,]+)/(\d{8})/([a-z0-9-]+)/bedrock/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// ServeHTTP answers POST /model/{modelId}/{converse,converse-stream,invoke}.
func (m *Bedrock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		bedrockError(w, http.StatusBadRequest, "ValidationException", "could not read the body")
		return
	}
	if status, typ, msg := m.authenticate(r, body); status != 0 {
		bedrockError(w, status, typ, msg)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[0] != "model" {
		bedrockError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	model, err := url.PathUnescape(parts[1])
	if err != nil {
		bedrockError(w, http.StatusBadRequest, "ValidationException", "bad model id")
		return
	}
	if status, ok := errorModel(model); ok {
		bedrockError(w, status, "MockException", "mock provider answered "+strconv.Itoa(status)+" as asked")
		return
	}
	if strings.Contains(model, "throttle") && !strings.Contains(model, "midstream") {
		w.Header().Set("Retry-After", "3")
		bedrockError(w, http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
		return
	}
	switch parts[2] {
	case "converse", "converse-stream":
		var req mockConverse
		if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "The request body must be a Converse request with messages.")
			return
		}
		if msg := req.checkTextFormat(); msg != "" {
			bedrockError(w, http.StatusBadRequest, "ValidationException", msg)
			return
		}
		if msg := req.checkThinking(); msg != "" {
			bedrockError(w, http.StatusBadRequest, "ValidationException", msg)
			return
		}
		if prompt := req.prompt(); strings.Contains(prompt, "too long") {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "Input is too long for requested model.")
			return
		}
		ans := req.answer()
		if parts[2] == "converse" {
			writeJSON(w, http.StatusOK, ans.response())
			return
		}
		m.stream(w, ans, strings.Contains(model, "midstream"))
	case "invoke":
		m.invoke(w, model, body)
	default:
		bedrockError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+parts[2])
	}
}

// authenticate checks the request's SigV4 signature (or bearer key).
func (m *Bedrock) authenticate(r *http.Request, body []byte) (int, string, string) {
	auth := r.Header.Get("Authorization")
	if key, ok := strings.CutPrefix(auth, "Bearer "); ok && key != "" {
		return 0, "", ""
	}
	g := sigV4Auth.FindStringSubmatch(auth)
	if g == nil {
		return http.StatusForbidden, "MissingAuthenticationTokenException", "Missing or malformed SigV4 Authorization header."
	}
	date := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", date)
	if err != nil || date[:8] != g[2] {
		return http.StatusForbidden, "InvalidSignatureException", "X-Amz-Date is missing or does not match the credential scope."
	}
	if !strings.Contains(";"+g[4]+";", ";host;") || !strings.Contains(";"+g[4]+";", ";x-amz-date;") {
		return http.StatusForbidden, "InvalidSignatureException", "The signed headers must include host and x-amz-date."
	}
	if m.Credentials == nil {
		return 0, "", ""
	}
	if g[1] != m.Credentials.AccessKeyID {
		return http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	// Sign the same request again, with only the headers the client
	// signed, and compare.
	re, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	re.Host = r.Host
	re.ContentLength = r.ContentLength
	for _, h := range strings.Split(g[4], ";") {
		if h != "host" {
			re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(r.Context(), *m.Credentials, re, hex.EncodeToString(sum[:]), "bedrock", g[3], t); err != nil {
		return http.StatusInternalServerError, "InternalServerException", "mock could not sign"
	}
	if re.Header.Get("Authorization") != auth {
		return http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
	}
	return 0, "", ""
}

func bedrockError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-ErrorType", typ+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	writeJSON(w, status, map[string]string{"message": msg})
}

// mockConverse is the part of a Converse request the mock reads.
type mockConverse struct {
	Messages []struct {
		Role    string            `json:"role"`
		Content []json.RawMessage `json:"content"`
	} `json:"messages"`
	System     []map[string]any `json:"system"`
	ToolConfig *struct {
		Tools []struct {
			ToolSpec *struct {
				Name string `json:"name"`
			} `json:"toolSpec"`
		} `json:"tools"`
		ToolChoice *struct {
			Tool *struct {
				Name string `json:"name"`
			} `json:"tool"`
		} `json:"toolChoice"`
	} `json:"toolConfig"`
	AdditionalModelRequestFields struct {
		Thinking *struct {
			Type string `json:"type"`
		} `json:"thinking"`
	} `json:"additionalModelRequestFields"`
	InferenceConfig *struct {
		StopSequences []string `json:"stopSequences"`
	} `json:"inferenceConfig"`
	OutputConfig *struct {
		TextFormat *struct {
			Type      string `json:"type"`
			Structure struct {
				JSONSchema *struct {
					Schema string `json:"schema"`
				} `json:"jsonSchema"`
			} `json:"structure"`
		} `json:"textFormat"`
	} `json:"outputConfig"`
	AdditionalModelResponseFieldPaths []string `json:"additionalModelResponseFieldPaths"`
}

// checkTextFormat refuses a textFormat that is not a JSON schema in a
// string, as Converse does.
func (c *mockConverse) checkTextFormat() string {
	if c.OutputConfig == nil || c.OutputConfig.TextFormat == nil {
		return ""
	}
	tf := c.OutputConfig.TextFormat
	if tf.Type != "json_schema" || tf.Structure.JSONSchema == nil || !json.Valid([]byte(tf.Structure.JSONSchema.Schema)) {
		return "outputConfig.textFormat must be a json_schema whose schema is a JSON text."
	}
	return ""
}

type mockBlock struct {
	Text       *string `json:"text"`
	ToolResult *struct {
		ToolUseID string `json:"toolUseId"`
		Content   []struct {
			Text *string        `json:"text"`
			JSON map[string]any `json:"json"`
		} `json:"content"`
	} `json:"toolResult"`
}

// checkThinking does what Claude does with extended thinking on: an
// assistant turn that used a tool must start with its thinking block,
// signature intact (the mock's signatures are "mock-signature-N").
func (c *mockConverse) checkThinking() string {
	if th := c.AdditionalModelRequestFields.Thinking; th == nil || th.Type != "enabled" {
		return ""
	}
	for i, m := range c.Messages {
		if m.Role != "assistant" || len(m.Content) == 0 {
			continue
		}
		var first struct {
			ReasoningContent *struct {
				ReasoningText *struct {
					Signature string `json:"signature"`
				} `json:"reasoningText"`
				RedactedContent string `json:"redactedContent"`
			} `json:"reasoningContent"`
		}
		usesTool := false
		for _, raw := range m.Content {
			usesTool = usesTool || strings.Contains(string(raw), `"toolUse"`)
		}
		if !usesTool {
			continue
		}
		_ = json.Unmarshal(m.Content[0], &first)
		rc := first.ReasoningContent
		if rc == nil || (rc.RedactedContent == "" && (rc.ReasoningText == nil || !strings.HasPrefix(rc.ReasoningText.Signature, "mock-signature-"))) {
			return "messages." + strconv.Itoa(i) + ".content.0.type: Expected `thinking` or `redacted_thinking`, but found another block. When `thinking` is enabled, a final `assistant` message must start with a thinking block with its signature."
		}
	}
	return ""
}

// prompt is the text of the last user message.
func (c *mockConverse) prompt() string {
	var sb strings.Builder
	for _, raw := range c.Messages[len(c.Messages)-1].Content {
		var b mockBlock
		if json.Unmarshal(raw, &b) == nil && b.Text != nil {
			sb.WriteString(*b.Text)
		}
	}
	return sb.String()
}

// mockAnswer is what the model says, plain or streamed.
type mockAnswer struct {
	reasoning, signature string
	words                []string
	toolID, toolName     string
	toolInput            string
	stop                 string
	inputTokens          int
	// stopSequence is the sequence that ended the text; reportStop says
	// whether the request asked for it in additionalModelResponseFields.
	stopSequence string
	reportStop   bool
}

func (c *mockConverse) answer() mockAnswer {
	var a mockAnswer
	for _, m := range c.Messages {
		for _, raw := range m.Content {
			a.inputTokens += len(strings.Fields(string(raw)))
		}
	}
	for range c.System {
		a.inputTokens += 5
	}
	last := c.Messages[len(c.Messages)-1]
	var result string
	hasResult := false
	for _, raw := range last.Content {
		var b mockBlock
		if json.Unmarshal(raw, &b) == nil && b.ToolResult != nil {
			hasResult = true
			for _, rc := range b.ToolResult.Content {
				if rc.Text != nil {
					result += *rc.Text
				} else if rc.JSON != nil {
					j, _ := json.Marshal(rc.JSON)
					result += string(j)
				}
			}
		}
	}
	if th := c.AdditionalModelRequestFields.Thinking; th != nil && th.Type == "enabled" {
		a.reasoning = "The user wants an answer; I will give a short one."
		a.signature = "mock-signature-" + strconv.Itoa(len(c.Messages))
	}
	prompt := c.prompt()
	switch {
	case hasResult:
		a.words = answerWords("the tool said " + result)
		a.stop = "end_turn"
	case c.ToolConfig != nil && c.ToolConfig.ToolChoice != nil && c.ToolConfig.ToolChoice.Tool != nil:
		// A forced tool (how gateways ask for JSON): answer through it.
		a.toolID = "tooluse_forced" + strconv.Itoa(len(c.Messages))
		a.toolName = c.ToolConfig.ToolChoice.Tool.Name
		in, _ := json.Marshal(map[string]string{"answer": prompt})
		a.toolInput = string(in)
		a.stop = "tool_use"
	case c.ToolConfig != nil && len(c.ToolConfig.Tools) > 0 && c.ToolConfig.Tools[0].ToolSpec != nil && strings.Contains(strings.ToLower(prompt), "weather"):
		a.toolID = "tooluse_mock" + strconv.Itoa(len(c.Messages))
		a.toolName = c.ToolConfig.Tools[0].ToolSpec.Name
		a.toolInput = `{"location":"Paris","unit":"celsius"}`
		a.stop = "tool_use"
	case c.OutputConfig != nil && c.OutputConfig.TextFormat != nil:
		in, _ := json.Marshal(map[string]string{"answer": prompt})
		a.words = []string{string(in)}
		a.stop = "end_turn"
	default:
		a.words = answerWords(prompt)
		a.stop = "end_turn"
	}
	if c.InferenceConfig != nil {
		a.stopAt(c.InferenceConfig.StopSequences)
	}
	for _, p := range c.AdditionalModelResponseFieldPaths {
		a.reportStop = a.reportStop || p == "/stop_sequence"
	}
	return a
}

// stopAt ends the text at the first of seqs it holds.
func (a *mockAnswer) stopAt(seqs []string) {
	text := strings.Join(a.words, "")
	at, seq := -1, ""
	for _, s := range seqs {
		if i := strings.Index(text, s); s != "" && i >= 0 && (at < 0 || i < at) {
			at, seq = i, s
		}
	}
	if at < 0 {
		return
	}
	var words []string
	for n := 0; n < at; {
		w := a.words[len(words)]
		if n+len(w) > at {
			w = w[:at-n]
		}
		words = append(words, w)
		n += len(w)
	}
	a.words, a.stop, a.stopSequence = words, "stop_sequence", seq
}

// responseFields are the additionalModelResponseFields asked for, or nil.
func (a *mockAnswer) responseFields() map[string]any {
	if !a.reportStop {
		return nil
	}
	var seq any
	if a.stopSequence != "" {
		seq = a.stopSequence
	}
	return map[string]any{"stop_sequence": seq}
}

func (a *mockAnswer) usage() map[string]int {
	out := len(a.words) + len(strings.Fields(a.reasoning)) + len(a.toolInput)/8
	return map[string]int{"inputTokens": a.inputTokens, "outputTokens": out, "totalTokens": a.inputTokens + out}
}

func (a *mockAnswer) response() map[string]any {
	var content []map[string]any
	if a.reasoning != "" {
		content = append(content, map[string]any{"reasoningContent": map[string]any{"reasoningText": map[string]any{"text": a.reasoning, "signature": a.signature}}})
	}
	if len(a.words) > 0 {
		content = append(content, map[string]any{"text": strings.Join(a.words, "")})
	}
	if a.toolID != "" {
		content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": a.toolID, "name": a.toolName, "input": json.RawMessage(a.toolInput)}})
	}
	out := map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": a.stop,
		"usage":      a.usage(),
		"metrics":    map[string]any{"latencyMs": 12},
	}
	if f := a.responseFields(); f != nil {
		out["additionalModelResponseFields"] = f
	}
	return out
}

// stream writes the answer as ConverseStream events.
func (m *Bedrock) stream(w http.ResponseWriter, a mockAnswer, cut bool) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Bedrock-Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := eventstream.NewEncoder()
	send := func(typ string, payload any) {
		b, _ := json.Marshal(payload)
		var hs eventstream.Headers
		hs.Set(":event-type", eventstream.StringValue(typ))
		hs.Set(":content-type", eventstream.StringValue("application/json"))
		hs.Set(":message-type", eventstream.StringValue("event"))
		_ = enc.Encode(w, eventstream.Message{Headers: hs, Payload: b})
		_ = rc.Flush()
		if m.EventDelay > 0 {
			time.Sleep(m.EventDelay)
		}
	}
	send("messageStart", map[string]any{"role": "assistant", "p": "abcdefgh"})
	idx := 0
	if a.reasoning != "" {
		for _, part := range strings.SplitAfter(a.reasoning, "; ") {
			send("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"reasoningContent": map[string]any{"text": part}}})
		}
		send("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"reasoningContent": map[string]any{"signature": a.signature}}})
		send("contentBlockStop", map[string]any{"contentBlockIndex": idx})
		idx++
	}
	for i, word := range a.words {
		send("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"text": word}})
		if cut && i == 1 {
			var hs eventstream.Headers
			hs.Set(":exception-type", eventstream.StringValue("throttlingException"))
			hs.Set(":content-type", eventstream.StringValue("application/json"))
			hs.Set(":message-type", eventstream.StringValue("exception"))
			_ = enc.Encode(w, eventstream.Message{Headers: hs, Payload: []byte(`{"message":"Too many tokens, please wait before trying again."}`)})
			return
		}
	}
	if len(a.words) > 0 {
		send("contentBlockStop", map[string]any{"contentBlockIndex": idx})
		idx++
	}
	if a.toolID != "" {
		send("contentBlockStart", map[string]any{"contentBlockIndex": idx, "start": map[string]any{"toolUse": map[string]any{"toolUseId": a.toolID, "name": a.toolName}}})
		half := len(a.toolInput) / 2
		for _, part := range []string{a.toolInput[:half], a.toolInput[half:]} {
			send("contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"toolUse": map[string]any{"input": part}}})
		}
		send("contentBlockStop", map[string]any{"contentBlockIndex": idx})
	}
	stop := map[string]any{"stopReason": a.stop}
	if f := a.responseFields(); f != nil {
		stop["additionalModelResponseFields"] = f
	}
	send("messageStop", stop)
	send("metadata", map[string]any{"usage": a.usage(), "metrics": map[string]any{"latencyMs": 12}})
}

// invoke answers InvokeModel for the embedding models.
func (m *Bedrock) invoke(w http.ResponseWriter, model string, body []byte) {
	switch {
	case strings.Contains(model, "amazon.titan-embed"):
		var req struct {
			InputText  *string `json:"inputText"`
			Dimensions int     `json:"dimensions"`
			Normalize  *bool   `json:"normalize"`
		}
		if json.Unmarshal(body, &req) != nil || req.InputText == nil {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: required key [inputText] not found")
			return
		}
		dims := req.Dimensions
		if dims == 0 {
			dims = 1024
		}
		if dims != 256 && dims != 512 && dims != 1024 {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: dimensions must be one of 256, 512, 1024")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"embedding": Embedding(*req.InputText, dims), "inputTextTokenCount": len(strings.Fields(*req.InputText))})
	case strings.Contains(model, "cohere.embed"):
		var req struct {
			Texts     []string `json:"texts"`
			InputType string   `json:"input_type"`
		}
		if json.Unmarshal(body, &req) != nil || len(req.Texts) == 0 || req.InputType == "" {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: texts and input_type are required")
			return
		}
		vecs := make([][]float64, len(req.Texts))
		for i, t := range req.Texts {
			vecs[i] = Embedding(t, 1024)
		}
		writeJSON(w, http.StatusOK, map[string]any{"embeddings": vecs, "id": "mock-embed", "response_type": "embeddings_floats", "texts": req.Texts})
	default:
		bedrockError(w, http.StatusBadRequest, "ValidationException", "The provided model does not support InvokeModel in this mock")
	}
}
