package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// accessLogPolicy logs the team-chat route's prompts and answers.
const accessLogPolicy = `apiVersion: sluice.dev/v1alpha1
kind: AccessLogPolicy
metadata: {name: chat-bodies, namespace: team-chat}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: gpt}]
  prompt: true
  answer: true
  redaction:
    patterns: [{name: ticket, regex: 'TICKET-\d+'}]
`

// TestLocalAccessLogPolicy: the local process, given the examples plus an
// AccessLogPolicy, logs the prompt and the streamed answer of a request
// the openai-go client sends, with the email, the custom pattern and the
// client's own key redacted; a route without the policy logs neither.
func TestLocalAccessLogPolicy(t *testing.T) {
	dir := t.TempDir()
	root, _ := filepath.Abs("../examples")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(root, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "accesslog.yaml"), []byte(accessLogPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-manifests", dir, "-log-level", "info")
	client := openai.NewClient(option.WithBaseURL(p.url("/v1/")), option.WithAPIKey(p.key), option.WithMaxRetries(0))
	question := "TICKET-77 from jane@example.com"
	s := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(question + " " + p.key)}})
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(acc.Choices[0].Message.Content, "jane@example.com") {
		t.Fatalf("the mock did not echo the prompt: %q", acc.Choices[0].Message.Content)
	}
	if _, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "llama-3.1-8b", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("unlogged question")}}); err != nil {
		t.Fatal(err)
	}
	p.stop(t)
	var logged, other string
	for line := range strings.Lines(p.out.String()) {
		switch {
		case strings.Contains(line, "msg=request") && strings.Contains(line, "model=gpt-4o-mini"):
			logged = line
		case strings.Contains(line, "msg=request") && strings.Contains(line, "model=llama-3.1-8b"):
			other = line
		}
	}
	if logged == "" || other == "" {
		t.Fatalf("no request lines for both models in:\n%s", p.out.String())
	}
	for _, want := range []string{`prompt="user: [REDACTED:ticket] from [REDACTED:email] [REDACTED:secret]"`,
		`answer="Hello from the Sluice mock provider. You said: [REDACTED:ticket] from [REDACTED:email]`} {
		if !strings.Contains(logged, want) {
			t.Errorf("line lacks %s:\n%s", want, logged)
		}
	}
	if strings.Contains(logged, "jane@") || strings.Contains(logged, p.key[len(p.key)-12:]) || strings.Contains(logged, "TICKET-77") {
		t.Errorf("line holds what the policy hides:\n%s", logged)
	}
	if strings.Contains(other, "prompt=") || strings.Contains(other, "unlogged") {
		t.Errorf("a route without the policy logged its texts:\n%s", other)
	}
}
