package messages

import (
	"strings"
	"testing"
)

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int64
	}{
		{"empty", `{"model":"m","messages":[]}`, 0},
		// 4 framing + ceil(8/4)
		{"one short message", `{"model":"m","messages":[{"role":"user","content":"12345678"}]}`, 4 + 2},
		// system 4 chars + 2 messages of 4 chars, 8 framing: 8 + ceil(12/4)
		{"system and turns", `{"system":"abcd","messages":[{"role":"user","content":"efgh"},{"role":"assistant","content":[{"type":"text","text":"ijkl"}]}]}`, 8 + 3},
		// image: 1600; text 3 chars
		{"image", `{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}},{"type":"text","text":"abc"}]}]}`, 4 + ImageTokens + 1},
		// tool: 8 framing + name(3) + description(5) + schema(17 chars) = 25 chars
		{"tool", `{"messages":[],"tools":[{"name":"abc","description":"hello","input_schema":{"type":"object"}}]}`, 8 + 7},
		// tool_use input and tool_result content count
		{"tool use and result", `{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}`, 8 + 3},
		{"unknown fields ignored", `{"messages":[],"thinking":{"type":"enabled","budget_tokens":5},"future":1}`, 0},
		{"unicode counts characters", `{"messages":[{"role":"user","content":"` + strings.Repeat("é", 8) + `"}]}`, 4 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EstimateTokens([]byte(tt.body))
			if err != nil || got != tt.want {
				t.Fatalf("EstimateTokens = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	if _, err := EstimateTokens([]byte(`{"messages":3}`)); err == nil {
		t.Fatal("a malformed body was estimated")
	}
}
