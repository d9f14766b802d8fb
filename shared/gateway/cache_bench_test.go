package gateway_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/window"
)

// BenchmarkChatCompletionCacheHit serves an exact hit from the test
// binary's redis-server, plain and streamed: the gateway's work and one
// Redis round trip, no upstream.
func BenchmarkChatCompletionCacheHit(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "plain"
		if stream {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			rc, err := window.NewClient("redis://"+env.Redis(b), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer rc.Close()
			tab := gatewaytest.Table(b, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")})
			p := exact
			p.Scope = "bench/" + name
			tab.Rules[0].Cache = &p
			g := gatewaytest.New(b, tab, gatewaytest.WithConfig(gateway.Config{
				Cache: cache.NewRedis(rc, cache.StoreConfig{}),
				Transport: cannedTransport{contentType: "application/json",
					body: `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, I am fine, thank you for asking."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}}`},
			}))
			rc.FlushAll(context.Background())
			body := []byte(`{"model":"m","temperature":0,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
			serve := func(body []byte) *httptest.ResponseRecorder {
				r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+g.Key)
				w := httptest.NewRecorder()
				g.ServeHTTP(w, r)
				return w
			}
			serve(body) // the miss that stores the answer
			if stream {
				body = []byte(`{"model":"m","stream":true,"temperature":0,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
			}
			b.ReportAllocs()
			for b.Loop() {
				if w := serve(body); w.Code != 200 || w.Header().Get("X-Sluice-Cache") != "hit" {
					b.Fatalf("status %d, cache %q: %s", w.Code, w.Header().Get("X-Sluice-Cache"), w.Body)
				}
			}
		})
	}
}
