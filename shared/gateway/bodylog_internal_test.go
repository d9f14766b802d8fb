package gateway

import "testing"

// TestAnswerText reads the answer's text from each protocol's plain body
// and stream, whole and split at every byte, as a client may receive it.
func TestAnswerText(t *testing.T) {
	tests := []struct {
		name   string
		stream bool
		body   string
		want   string
	}{
		{"chat plain", false, `{"choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}]}`, "Paris."},
		{"chat plain parts", false, `{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}`, "a\nb"},
		{"messages plain", false, `{"type":"message","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"Paris."},{"type":"tool_use","input":{}}]}`, "Paris."},
		{"responses plain", false, `{"status":"completed","output":[{"type":"reasoning"},{"type":"message","content":[{"type":"output_text","text":"Paris."}]}]}`, "Paris."},
		{"error plain", false, `{"error":{"message":"overloaded"}}`, ""},
		{"chat stream", true, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"}}]}\r\n\r\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is.\"}}]}\n\n" +
			"data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\ndata: [DONE]\n\n", "Paris."},
		{"messages stream", true, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Par\"}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"is.\"}}\n\n" +
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", "Paris."},
		{"responses stream", true, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Par\"}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"is.\"}\n\n" +
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{}}\n\n", "Paris."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, split := range []bool{false, true} {
				a := &answerText{stream: tt.stream, buf: textBuf{limit: 100}}
				if split {
					for i := range len(tt.body) {
						a.see([]byte(tt.body[i : i+1]))
					}
				} else {
					a.see([]byte(tt.body))
				}
				if got, total := a.text(); got != tt.want || total != len(tt.want) {
					t.Errorf("split %v: text %q (%d bytes in all), want %q", split, got, total, tt.want)
				}
			}
		})
	}
}

// TestPromptText reads the messages of each protocol's request.
func TestPromptText(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"chat", `{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:x"}}]}]}`,
			"system: Be brief.\nuser: Look:"},
		{"messages", `{"model":"m","system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"42"}]}]}]}`,
			"system: Be brief.\nuser: Hi\nuser: 42"},
		{"responses", `{"model":"m","instructions":"Be brief.","input":[{"role":"user","content":[{"type":"input_text","text":"Hi"}]}]}`,
			"system: Be brief.\nuser: Hi"},
		{"responses string input", `{"model":"m","input":"Hi"}`, "user: Hi"},
		{"embeddings", `{"model":"m","input":["one","two"]}`, "user: one\nuser: two"},
		{"not JSON", `{"model":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, total := promptText([]byte(tt.body), 1000); got != tt.want || total != len(tt.want) {
				t.Errorf("prompt %q (%d bytes in all), want %q", got, total, tt.want)
			}
		})
	}
	if got, total := promptText([]byte(`{"messages":[{"role":"user","content":"0123456789"}]}`), 8); got != "user: 01" || total != 16 {
		t.Errorf("cut prompt %q (%d in all)", got, total)
	}
}
