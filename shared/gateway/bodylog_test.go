package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"

	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/redact"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
	"github.com/sluicegw/sluice/shared/window"
)

// logLines hands over each line the access log writes.
type logLines chan []byte

func (l logLines) Write(b []byte) (int, error) {
	l <- bytes.Clone(b)
	return len(b), nil
}

func (l logLines) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case b := <-l:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("log line %s: %v", b, err)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no access log line")
	}
	return nil
}

// upstreamCredential is the backends' credential: it must never be logged.
const upstreamCredential = "upstream-credential-value-123"

// bodyLogGateway serves gpt-4o and claude-sonnet from the mock providers
// (which echo the prompt's start in their answer), every rule under
// policy (none when nil), and writes its access log to the lines returned.
func bodyLogGateway(t *testing.T, policy *route.AccessLog) (*gatewaytest.Gateway, logLines) {
	t.Helper()
	oai := gatewaytest.Upstream(t, &mock.OpenAI{})
	ant := gatewaytest.Upstream(t, &mock.Anthropic{})
	tab := gatewaytest.Table(t, gatewaytest.Routes{
		"gpt-4o":        {{Provider: "openai", Endpoint: oai + "/v1", Credential: "c"}},
		"claude-sonnet": {{Provider: "anthropic", Endpoint: ant + "/v1", Credential: "c"}},
	})
	if policy != nil {
		if err := policy.Prepare(); err != nil {
			t.Fatal(err)
		}
		for i := range tab.Rules {
			tab.Rules[i].AccessLog = policy
		}
	}
	lines := make(logLines, 16)
	log := slog.New(slog.NewJSONHandler(lines, nil))
	g := gatewaytest.New(t, tab, gatewaytest.WithCredentials(map[string]string{"c": upstreamCredential}),
		gatewaytest.WithConfig(gateway.Config{Telemetry: telemetry.New(telemetry.Config{Logger: log})}))
	return g, lines
}

func chatRequest(question string) string {
	q, _ := json.Marshal(question)
	return `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":` + string(q) + `}]}`
}

// TestAccessLogWithoutPolicy: without a policy, no line has a prompt or
// an answer, nor any of their text.
func TestAccessLogWithoutPolicy(t *testing.T) {
	g, lines := bodyLogGateway(t, nil)
	resp, body := g.Post(t, "/v1/chat/completions", chatRequest("What is the capital of France?"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	line := lines.next(t)
	if _, ok := line["prompt"]; ok {
		t.Errorf("prompt logged without a policy: %v", line)
	}
	if _, ok := line["answer"]; ok {
		t.Errorf("answer logged without a policy: %v", line)
	}
	raw, _ := json.Marshal(line)
	if strings.Contains(string(raw), "capital") || strings.Contains(string(raw), "Hello from") {
		t.Errorf("the line holds the texts: %s", raw)
	}
	if line["status"] != float64(200) || line["route"] != "default/gpt-4o" {
		t.Errorf("line %v", line)
	}
}

// TestAccessLogPromptAndAnswer: with a policy, the prompt's messages and
// the plain answer's text are in the line; a policy that asks only for
// the prompt gets no answer key.
func TestAccessLogPromptAndAnswer(t *testing.T) {
	tests := []struct {
		name          string
		policy        route.AccessLog
		prompt, reply bool
	}{
		{"both", route.AccessLog{Policy: "ai/p", Prompt: true, Answer: true, MaxBytes: 4096}, true, true},
		{"prompt only", route.AccessLog{Policy: "ai/p", Prompt: true, MaxBytes: 4096}, true, false},
		{"answer only", route.AccessLog{Policy: "ai/p", Answer: true, MaxBytes: 4096}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, lines := bodyLogGateway(t, &tt.policy)
			resp, body := g.Post(t, "/v1/chat/completions", chatRequest("What is the capital of France?"))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var answer struct {
				Choices []struct {
					Message struct{ Content string } `json:"message"`
				} `json:"choices"`
			}
			if err := json.Unmarshal([]byte(body), &answer); err != nil || len(answer.Choices) != 1 {
				t.Fatalf("answer %s: %v", body, err)
			}
			line := lines.next(t)
			prompt, hasPrompt := line["prompt"]
			reply, hasReply := line["answer"]
			if hasPrompt != tt.prompt || hasReply != tt.reply {
				t.Fatalf("prompt logged %v, answer logged %v: %v", hasPrompt, hasReply, line)
			}
			if tt.prompt && prompt != "system: Be brief.\nuser: What is the capital of France?" {
				t.Errorf("prompt %q", prompt)
			}
			if tt.reply && reply != answer.Choices[0].Message.Content {
				t.Errorf("answer %q, the client got %q", reply, answer.Choices[0].Message.Content)
			}
		})
	}
}

// TestAccessLogRedaction: each built-in pattern, a custom one, the
// client's key and the backend's credential are hidden in the prompt and
// in the answer that echoes it; a built-in turned off is not.
func TestAccessLogRedaction(t *testing.T) {
	policy := &route.AccessLog{Policy: "ai/p", Prompt: true, Answer: true, MaxBytes: 4096,
		BuiltinOff: []string{redact.Email},
		Redact:     []redact.Pattern{{Name: "ticket", Expr: `TICKET-\d+`}}}
	g, lines := bodyLogGateway(t, policy)
	tests := []struct {
		name, text, mark string
	}{
		{"api key", "sk-proj-abcdefghijklmnop1234", "[REDACTED:apiKey]"},
		{"bearer token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "[REDACTED:bearerToken]"},
		{"card number", "4111 1111 1111 1111", "[REDACTED:cardNumber]"},
		{"custom pattern", "TICKET-4242", "[REDACTED:ticket]"},
		{"backend credential", upstreamCredential, "[REDACTED:secret]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := g.Post(t, "/v1/chat/completions", chatRequest(tt.text+" is what I have"))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if !strings.Contains(body, tt.text) {
				t.Fatalf("the mock did not echo the text, so the answer's redaction is untested: %s", body)
			}
			line := lines.next(t)
			for _, k := range []string{"prompt", "answer"} {
				v, _ := line[k].(string)
				if strings.Contains(v, tt.text) || !strings.Contains(v, tt.mark+" is what I have") {
					t.Errorf("%s %q: want %s in place of %q", k, v, tt.mark, tt.text)
				}
			}
		})
	}
	// The mock echoes only the prompt's first 60 bytes, less than a key:
	// the answer holds a piece of the key, which the apiKey pattern hides.
	t.Run("client's key", func(t *testing.T) {
		g.Post(t, "/v1/chat/completions", chatRequest(g.Key+" is what I have"))
		line := lines.next(t)
		if p := line["prompt"]; p != "system: Be brief.\nuser: [REDACTED:secret] is what I have" {
			t.Errorf("prompt %q", p)
		}
		if a := line["answer"]; a != "Hello from the Sluice mock provider. You said: [REDACTED:apiKey]..." {
			t.Errorf("answer %q", a)
		}
	})
	t.Run("built-in turned off", func(t *testing.T) {
		g.Post(t, "/v1/chat/completions", chatRequest("mail jane@example.com"))
		if p := lines.next(t)["prompt"]; p != "system: Be brief.\nuser: mail jane@example.com" {
			t.Errorf("prompt %q", p)
		}
	})
}

// TestAccessLogStreamedAnswer: a streamed answer's text is logged whole,
// as the SDK clients put it together, for OpenAI and Anthropic streams;
// a small maxLength cuts it and says how long it was.
func TestAccessLogStreamedAnswer(t *testing.T) {
	question := "Tell me everything about rivers, lakes and the sea, please"
	t.Run("openai", func(t *testing.T) {
		g, lines := bodyLogGateway(t, &route.AccessLog{Policy: "ai/p", Answer: true, MaxBytes: 4096})
		c := g.OpenAI()
		s := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(question)}})
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		got := acc.Choices[0].Message.Content
		if line := lines.next(t); line["answer"] != got || line["stream"] != true || got == "" {
			t.Errorf("answer %q, the client got %q", line["answer"], got)
		}
	})
	t.Run("anthropic", func(t *testing.T) {
		g, lines := bodyLogGateway(t, &route.AccessLog{Policy: "ai/p", Prompt: true, Answer: true, MaxBytes: 4096})
		c := g.Anthropic()
		s := c.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
			Model: "claude-sonnet", MaxTokens: 100, System: []anthropic.TextBlockParam{{Text: "Be brief."}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(question))}})
		var acc anthropic.Message
		for s.Next() {
			if err := acc.Accumulate(s.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		var got string
		for _, b := range acc.Content {
			got += b.Text
		}
		line := lines.next(t)
		if line["answer"] != got || got == "" {
			t.Errorf("answer %q, the client got %q", line["answer"], got)
		}
		if line["prompt"] != "system: Be brief.\nuser: "+question {
			t.Errorf("prompt %q", line["prompt"])
		}
	})
	t.Run("cut at maxLength", func(t *testing.T) {
		g, lines := bodyLogGateway(t, &route.AccessLog{Policy: "ai/p", Answer: true, MaxBytes: 10})
		resp, body := g.Post(t, "/v1/chat/completions",
			`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"`+question+`"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		whole := "Hello from the Sluice mock provider. You said: " + question
		if a := lines.next(t)["answer"]; a != whole[:10]+"…[cut, "+itoa(int64(len(whole)))+" bytes in all]" {
			t.Errorf("answer %q", a)
		}
	})
}

// TestAccessLogCacheHit: with a CachePolicy too, one tap serves both: the
// miss is stored and its answer logged, and the hit's replayed answer is
// logged as the client got it, streamed or not.
func TestAccessLogCacheHit(t *testing.T) {
	oai := gatewaytest.Upstream(t, &mock.OpenAI{})
	tab := gatewaytest.Table(t, gatewaytest.Routes{"gpt-4o": gatewaytest.OpenAIAt(oai + "/v1")})
	policy := &route.AccessLog{Policy: "ai/p", Answer: true, MaxBytes: 4096}
	if err := policy.Prepare(); err != nil {
		t.Fatal(err)
	}
	c := exact
	c.Scope = tab.Rules[0].Route + "/0"
	tab.Rules[0].Cache, tab.Rules[0].AccessLog = &c, policy
	rc, err := window.NewClient("redis://"+env.Redis(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	rc.FlushAll(context.Background())
	lines := make(logLines, 16)
	g := gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Cache: cache.NewRedis(rc, cache.StoreConfig{}),
		Telemetry: telemetry.New(telemetry.Config{Logger: slog.New(slog.NewJSONHandler(lines, nil))})}))
	body := `{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"Where is Paris?"}]}`
	want := "Hello from the Sluice mock provider. You said: Where is Paris?"
	for i, res := range []string{"miss", "hit"} {
		resp, out := g.Post(t, "/v1/chat/completions", body)
		if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != res {
			t.Fatalf("request %d: %d %s %s", i, resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), out)
		}
		if line := lines.next(t); line["cache"] != res || line["answer"] != want {
			t.Errorf("request %d: cache %v answer %q", i, line["cache"], line["answer"])
		}
	}
	c2 := g.OpenAI()
	s := c2.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o",
		Temperature: openai.Float(0), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Where is Paris?")}})
	for s.Next() {
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if line := lines.next(t); line["cache"] != "hit" || line["answer"] != want {
		t.Errorf("streamed hit: cache %v answer %q", line["cache"], line["answer"])
	}
}
