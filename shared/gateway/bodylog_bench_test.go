package gateway_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// BenchmarkAccessLogPolicy: the cost of logging the prompt and the answer
// (read, redacted by the built-in patterns, written as JSON) over the same
// exchange without a policy, plain and streamed.
func BenchmarkAccessLogPolicy(b *testing.B) {
	chunk := `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi "},"finish_reason":null}]}` + "\n\n"
	cases := []struct {
		name, contentType, upstream, request string
	}{
		{"plain", "application/json", benchChat, `{"model":"m","messages":[{"role":"user","content":"Hello there, how are you today?"}]}`},
		{"stream", "text/event-stream", strings.Repeat(chunk, 20) + "data: [DONE]\n\n", `{"model":"m","stream":true,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`},
	}
	for _, c := range cases {
		for _, on := range []bool{false, true} {
			name := c.name + "/off"
			if on {
				name = c.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				tab := gatewaytest.Table(b, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")})
				if on {
					p := &route.AccessLog{Policy: "ai/p", Prompt: true, Answer: true, MaxBytes: 4096}
					if err := p.Prepare(); err != nil {
						b.Fatal(err)
					}
					tab.Rules[0].AccessLog = p
				}
				log := slog.New(slog.NewJSONHandler(io.Discard, nil))
				g := gatewaytest.New(b, tab, gatewaytest.WithConfig(gateway.Config{
					Transport: cannedTransport{contentType: c.contentType, body: c.upstream},
					Telemetry: telemetry.New(telemetry.Config{Logger: log})}))
				body := []byte(c.request)
				b.ReportAllocs()
				for b.Loop() {
					r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
					r.Header.Set("Authorization", "Bearer "+g.Key)
					w := httptest.NewRecorder()
					g.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
