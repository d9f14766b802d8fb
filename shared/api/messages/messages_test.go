package messages

import "testing"

func TestAnthropicOnly(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"none", `{"model":"m","max_tokens":1,"messages":[]}`, ""},
		{"null is not set", `{"model":"m","max_tokens":1,"messages":[],"container":null,"mcp_servers":null}`, ""},
		{"container", `{"model":"m","max_tokens":1,"messages":[],"container":"cntr_1"}`, "container"},
		{"mcp servers", `{"model":"m","max_tokens":1,"messages":[],"mcp_servers":[{"type":"url","url":"https://mcp.example","name":"x"}]}`, "mcp_servers"},
		{"context management", `{"model":"m","max_tokens":1,"messages":[],"context_management":{"edits":[]}}`, "context_management"},
		{"the first named", `{"model":"m","max_tokens":1,"messages":[],"context_management":{},"container":"c"}`, "container"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Request
			if err := Decode([]byte(tc.body), &r); err != nil {
				t.Fatal(err)
			}
			if got := r.AnthropicOnly(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
