package gateway

import (
	"bytes"
	"strings"

	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/redact"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// bodyLog is what an AccessLogPolicy asks of one exchange: the request
// body, read for its prompt only when the line is written, and the
// answer's text as the client receives it.
type bodyLog struct {
	policy *route.AccessLog
	body   []byte
	answer *answerText
}

// redactSlack is how far past the policy's length a text is kept before it is
// redacted, so that a secret straddling the cut is still recognised and
// hidden rather than logged in part.
const redactSlack = 256

// maxPlainAnswer bounds the plain answer body kept to read its text from.
const maxPlainAnswer = 1 << 20

// logBodies readies the exchange to log the texts the policy asks for.
func (ex *exchange) logBodies(p *route.AccessLog, body []byte) {
	bl := &bodyLog{policy: p}
	if p.Prompt {
		bl.body = body
	}
	if p.Answer {
		bl.answer = &answerText{stream: ex.stream, buf: textBuf{limit: p.MaxBytes + redactSlack}}
		ex.tapped().answer = bl.answer
	}
	ex.bodyLog = bl
}

// logTexts puts the redacted, cut texts into the request's record. The
// client's key and the answering backend's credential are hidden whatever
// the patterns: a user may paste either into a prompt.
func (ex *exchange) logTexts(rec *telemetry.Request) {
	bl := ex.bodyLog
	p := bl.policy
	secrets := [2]string{keyFrom(ex.r.Header), ex.backendCredential()}
	if p.Prompt {
		text, total := promptText(bl.body, p.MaxBytes+redactSlack)
		rec.Prompt = clean(p, secrets[:], text, total)
	}
	if a := bl.answer; a != nil {
		text, total := a.text()
		rec.Answer = clean(p, secrets[:], text, total)
	}
}

// clean redacts a text and cuts it to the policy's length. total is the
// length of the whole text, which was kept only in part when longer.
func clean(p *route.AccessLog, secrets []string, text string, total int) string {
	if total == len(text) {
		total = 0 // kept whole: the redacted length is the one to cut at
	}
	return redact.Truncate(p.Redactor().Redact(text, secrets...), p.MaxBytes, total)
}

// backendCredential is the value of the answering backend's credential,
// "" when it has none.
func (ex *exchange) backendCredential() string {
	t := ex.g.tables.Table()
	if t == nil || ex.backend == "" {
		return ""
	}
	for i := range t.Backends {
		if b := &t.Backends[i]; b.Name == ex.backend && b.Credential != "" {
			v, _ := ex.g.creds.Credential(b.Credential)
			return v
		}
	}
	return ""
}

// promptText is the text of a model request's messages, one "role: text"
// line each, system instructions first: OpenAI's messages and Responses
// input, Anthropic's system and messages. It keeps at most limit bytes and
// says how long the whole was.
func promptText(body []byte, limit int) (string, int) {
	var req struct {
		System       any `json:"system"`
		Instructions any `json:"instructions"`
		Messages     []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
		Input  any `json:"input"`
		Prompt any `json:"prompt"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "", 0
	}
	var t textBuf
	t.limit = limit
	t.line("system", req.System)
	t.line("system", req.Instructions)
	for _, m := range req.Messages {
		t.line(m.Role, m.Content)
	}
	if items, ok := req.Input.([]any); ok {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok && m["content"] != nil {
				role, _ := m["role"].(string)
				t.line(role, m["content"])
			} else {
				t.line("user", it)
			}
		}
	} else {
		t.line("user", req.Input)
	}
	t.line("user", req.Prompt)
	return t.b.String(), t.total
}

// textBuf gathers text up to a limit while counting all of it.
type textBuf struct {
	b     strings.Builder
	limit int
	total int
}

func (t *textBuf) add(s string) {
	t.total += len(s)
	if room := t.limit - t.b.Len(); room > 0 {
		t.b.WriteString(s[:min(len(s), room)])
	}
}

// line adds "role: text" for a content that has text.
func (t *textBuf) line(role string, content any) {
	var parts []string
	parts = textsOf(parts, content)
	if len(parts) == 0 {
		return
	}
	if t.total > 0 {
		t.add("\n")
	}
	if role != "" {
		t.add(role + ": ")
	}
	for i, p := range parts {
		if i > 0 {
			t.add(" ")
		}
		t.add(p)
	}
}

// textsOf appends the texts in a message content: a string, or parts
// whose text member holds it (images, tool calls and the like have none),
// or nested contents (tool results).
func textsOf(dst []string, v any) []string {
	switch v := v.(type) {
	case string:
		if v != "" {
			dst = append(dst, v)
		}
	case []any:
		for _, e := range v {
			dst = textsOf(dst, e)
		}
	case map[string]any:
		if s, ok := v["text"].(string); ok {
			return textsOf(dst, s)
		}
		return textsOf(dst, v["content"])
	}
	return dst
}

// answerText reads the answer's text from what the client is sent: from
// each event of a stream (OpenAI chunks' deltas, Anthropic's text deltas,
// Responses' output text deltas) as it passes, or from a plain body once
// it has all passed. Its buf keeps the text up to its limit.
type answerText struct {
	stream bool
	line   []byte // a stream's unfinished line
	body   []byte // a plain body, up to maxPlainAnswer
	over   bool
	buf    textBuf
}

func (a *answerText) see(b []byte) {
	if !a.stream {
		if !a.over && len(a.body)+len(b) <= maxPlainAnswer {
			a.body = append(a.body, b...)
		} else {
			a.over, a.body = true, nil
		}
		return
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if len(a.line) < maxPlainAnswer {
				a.line = append(a.line, b...)
			}
			return
		}
		line := b[:i]
		if len(a.line) > 0 {
			line = append(a.line, line...)
		}
		a.event(bytes.TrimSuffix(line, []byte("\r")))
		a.line = a.line[:0]
		b = b[i+1:]
	}
}

// event takes one line of a stream; only data lines carry text.
func (a *answerText) event(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return
	}
	var ev struct {
		Type    string `json:"type"`
		Choices []struct {
			Delta struct {
				Content *string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
		Delta json.RawMessage `json:"delta"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return
	}
	for _, c := range ev.Choices {
		if c.Delta.Content != nil {
			a.buf.add(*c.Delta.Content)
		}
	}
	switch ev.Type {
	case "content_block_delta":
		var d struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(ev.Delta, &d) == nil && d.Type == "text_delta" {
			a.buf.add(d.Text)
		}
	case "response.output_text.delta":
		var s string
		if json.Unmarshal(ev.Delta, &s) == nil {
			a.buf.add(s)
		}
	}
}

// text is the answer's text, cut at the limit, and the whole's length.
func (a *answerText) text() (string, int) {
	if a.stream {
		return a.buf.b.String(), a.buf.total
	}
	if a.over {
		return "", 0
	}
	var ans struct {
		Choices []struct {
			Message struct {
				Content any `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Content any `json:"content"`
		Output  []struct {
			Content any `json:"content"`
		} `json:"output"`
	}
	if json.Unmarshal(a.body, &ans) != nil {
		return "", 0
	}
	var parts []string
	for _, c := range ans.Choices {
		parts = textsOf(parts, c.Message.Content)
	}
	parts = textsOf(parts, ans.Content)
	for _, o := range ans.Output {
		parts = textsOf(parts, o.Content)
	}
	for i, p := range parts {
		if i > 0 {
			a.buf.add("\n")
		}
		a.buf.add(p)
	}
	return a.buf.b.String(), a.buf.total
}
