package cache

import (
	"testing"
)

const baseChat = `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`

func mustCanonical(t *testing.T, p Protocol, body string, sel Selection) *Request {
	t.Helper()
	r, err := Canonical(p, []byte(body), sel)
	if err != nil {
		t.Fatalf("Canonical(%s): %v", body, err)
	}
	return r
}

func TestKeyChangesWithEverythingThatChangesTheAnswer(t *testing.T) {
	route := Scope{Route: "default/chat/0"}
	base := route.ExactKey(mustCanonical(t, ChatCompletions, baseChat, Selection{}))
	cases := []struct {
		name  string
		p     Protocol
		body  string
		scope Scope
		same  bool
	}{
		{"identical", ChatCompletions, baseChat, route, true},
		{"member order and whitespace", ChatCompletions, `{ "max_tokens": 50, "temperature": 0.0,
			"messages":[{"content":"Be brief.","role":"system"},{"role":"user","content":"What is 2+2?"}],"model":"gpt-4o"}`, route, true},
		{"stream, stream_options and user", ChatCompletions, `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"user":"u1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, true},
		{"model", ChatCompletions, `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"system prompt", ChatCompletions, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be long."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"question", ChatCompletions, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+3?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"image", ChatCompletions, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"What is 2+2?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],"temperature":0,"max_tokens":50}`, route, false},
		{"tools", ChatCompletions, `{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"add"}}],"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"tool choice", ChatCompletions, `{"model":"gpt-4o","tool_choice":"none","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"response format", ChatCompletions, `{"model":"gpt-4o","response_format":{"type":"json_object"},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"temperature", ChatCompletions, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0.5,"max_tokens":50}`, route, false},
		{"top_p", ChatCompletions, `{"model":"gpt-4o","top_p":0.5,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"max tokens", ChatCompletions, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":51}`, route, false},
		{"stop", ChatCompletions, `{"model":"gpt-4o","stop":["\n"],"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"seed", ChatCompletions, `{"model":"gpt-4o","seed":9007199254740993,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"reasoning effort", ChatCompletions, `{"model":"gpt-4o","reasoning_effort":"low","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"temperature":0,"max_tokens":50}`, route, false},
		{"ingress protocol", Messages, baseChat, route, false},
		{"route", ChatCompletions, baseChat, Scope{Route: "default/chat/1"}, false},
		{"consumer", ChatCompletions, baseChat, Scope{Route: "default/chat/0", Tenant: "consumer:acme"}, false},
		{"key", ChatCompletions, baseChat, Scope{Route: "default/chat/0", Tenant: "key:k1"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.scope.ExactKey(mustCanonical(t, c.p, c.body, Selection{}))
			if (got == base) != c.same {
				t.Fatalf("same key = %v, want %v", got == base, c.same)
			}
		})
	}
}

func TestSeedsKeepEveryDigit(t *testing.T) {
	s := Scope{Route: "r"}
	a := s.ExactKey(mustCanonical(t, ChatCompletions, `{"model":"m","seed":9007199254740993}`, Selection{}))
	b := s.ExactKey(mustCanonical(t, ChatCompletions, `{"model":"m","seed":9007199254740992}`, Selection{}))
	if a == b {
		t.Fatal("seeds one apart past 2^53 share a key")
	}
}

func TestContextLeavesOutTheSelectedText(t *testing.T) {
	s := Scope{Route: "r"}
	a := mustCanonical(t, Messages, `{"model":"claude","system":"S","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":[{"type":"text","text":"What is the capital of France?"}]}]}`, Selection{})
	b := mustCanonical(t, Messages, `{"model":"claude","system":"S","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":[{"type":"text","text":"france capital?"}]}]}`, Selection{})
	c := mustCanonical(t, Messages, `{"model":"claude","system":"T","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":[{"type":"text","text":"france capital?"}]}]}`, Selection{})
	if a.Text() != "What is the capital of France?" || b.Text() != "france capital?" {
		t.Fatalf("texts %q %q", a.Text(), b.Text())
	}
	if s.ContextKey(a) != s.ContextKey(b) {
		t.Fatal("the same context with another question has another context key")
	}
	if s.ExactKey(a) == s.ExactKey(b) {
		t.Fatal("different questions share an exact key")
	}
	if s.ContextKey(a) == s.ContextKey(c) {
		t.Fatal("a different system prompt shares the context key")
	}
	whole := mustCanonical(t, Messages, `{"model":"claude","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"}]}`, Selection{Turns: 2})
	if whole.Text() != "Hello\nBye" {
		t.Fatalf("two turns: %q", whole.Text())
	}
}

func TestTemperatureDefaultsToOne(t *testing.T) {
	for body, want := range map[string]float64{
		`{"model":"m"}`:                   1,
		`{"model":"m","temperature":0}`:   0,
		`{"model":"m","temperature":0.7}`: 0.7,
	} {
		if got := mustCanonical(t, ChatCompletions, body, Selection{}).Temperature; got != want {
			t.Errorf("%s: temperature %v, want %v", body, got, want)
		}
	}
	if _, err := Canonical(ChatCompletions, []byte(`[1]`), Selection{}); err == nil {
		t.Error("an array was taken as a request")
	}
}

func BenchmarkCanonical(b *testing.B) {
	body := []byte(baseChat)
	s := Scope{Route: "default/chat/0"}
	b.ReportAllocs()
	for b.Loop() {
		r, err := Canonical(ChatCompletions, body, Selection{})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.ExactKey(r)
	}
}
