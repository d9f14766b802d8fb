package gateway

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
)

// BenchmarkChatCompletionStreamToAnthropic is BenchmarkChatCompletionStream
// with an Anthropic backend: the same 20 text pieces arrive as Messages
// stream events and leave as chat completion chunks. The difference
// between the two is the translation's cost on the gateway's path.
func BenchmarkChatCompletionStreamToAnthropic(b *testing.B) {
	var up strings.Builder
	up.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n")
	up.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	up.WriteString(strings.Repeat("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi \"}}\n\n", 20))
	up.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	up.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\n")
	up.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")

	secret, k := ledger.NewKey("bench", "", time.Now())
	auth := ledger.NewAuthenticator(keyMap{k.ID: k}, time.Hour, nil)
	tab := &route.Table{Version: 1,
		Backends: []route.Backend{{Name: "default/claude", Provider: "anthropic", Endpoint: "http://upstream/v1"}},
		Rules:    []route.Rule{{Route: "default/m", Backends: []route.BackendRef{{Backend: 0, Weight: 1}}}},
		Entries: []route.Entry{{Rule: 0, RouteName: "default/m", Match: route.Match{
			Path: route.PathMatch{Type: route.PathPrefix, Value: "/v1"}, Headers: []route.ValueMatch{{Name: "x-sluice-model", Value: "m"}}}}},
	}
	if err := tab.Prepare(); err != nil {
		b.Fatal(err)
	}
	g, err := New(Config{Transport: cannedTransport{contentType: "text/event-stream", body: up.String()}}, staticTables{tab}, auth, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 || !strings.HasSuffix(w.Body.String(), "data: [DONE]\n\n") {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
