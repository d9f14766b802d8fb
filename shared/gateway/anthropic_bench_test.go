package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
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

	g := gatewaytest.New(b, gatewaytest.Table(b, gatewaytest.Routes{"m": {{Provider: "anthropic", Endpoint: "http://upstream/v1"}}}),
		gatewaytest.WithConfig(gateway.Config{Transport: cannedTransport{contentType: "text/event-stream", body: up.String()}}))
	body := []byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+g.Key)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 || !strings.HasSuffix(w.Body.String(), "data: [DONE]\n\n") {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkTranslationCost measures what the translating path costs over
// the pass-through path the way the gateway meets a provider: through a
// socket, one event per write. A streamed chat completion goes through the
// handler to an OpenAI backend and to an Anthropic backend, each a
// loopback server replaying, event by event, the answer the local mock of
// that protocol gives (the same text in the same pieces); a plain client
// reading each server directly is the baseline. Per iteration the four
// take turns, and the figures are medians:
//
//	openai-added-ns/op     gateway to the OpenAI server − that server direct
//	anthropic-added-ns/op  gateway to the Anthropic server − that server direct
//	translation-ns/op      anthropic-added − openai-added
//
// Unlike BenchmarkChatCompletionStreamToAnthropic − BenchmarkChatCompletionStream
// (the whole stream in one read, no socket), this counts the reads of the
// events Anthropic's protocol has beyond OpenAI's (ping, the content block's
// start and stop), which on a machine where system calls are dear are a
// good part of the cost.
func BenchmarkTranslationCost(b *testing.B) {
	const prompt = "Say hello in five words."
	openaiUp := replayServer(b, &mock.OpenAI{}, "/v1/chat/completions", nil,
		`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"`+prompt+`"}]}`)
	anthropicUp := replayServer(b, &mock.Anthropic{}, "/v1/messages", http.Header{"Anthropic-Version": {messages.Version}},
		`{"model":"m","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"`+prompt+`"}]}`)

	g := gatewaytest.New(b, gatewaytest.Table(b, gatewaytest.Routes{
		"gpt":    {{Provider: "openai", Endpoint: openaiUp.URL + "/v1"}},
		"claude": {{Provider: "anthropic", Endpoint: anthropicUp.URL + "/v1"}},
	}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	buf := make([]byte, 32<<10)
	direct := func(url string) time.Duration {
		t0 := time.Now()
		resp, err := client.Post(url, "application/json", strings.NewReader(`{}`))
		if err != nil {
			b.Fatal(err)
		}
		for err == nil {
			_, err = resp.Body.Read(buf)
		}
		resp.Body.Close()
		return time.Since(t0)
	}
	through := func(model string) time.Duration {
		body := `{"model":"` + model + `","stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`
		t0 := time.Now()
		r := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+g.Key)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		d := time.Since(t0)
		if w.Code != 200 || !strings.HasSuffix(w.Body.String(), "data: [DONE]\n\n") {
			b.Fatalf("model %s: status %d: %s", model, w.Code, w.Body)
		}
		return d
	}
	var openaiAdded, anthropicAdded []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		od, og := direct(openaiUp.URL), through("gpt")
		ad, ag := direct(anthropicUp.URL), through("claude")
		openaiAdded, anthropicAdded = append(openaiAdded, og-od), append(anthropicAdded, ag-ad)
	}
	o, a := median(openaiAdded), median(anthropicAdded)
	b.ReportMetric(float64(o), "openai-added-ns/op")
	b.ReportMetric(float64(a), "anthropic-added-ns/op")
	b.ReportMetric(float64(a-o), "translation-ns/op")
}

// replayServer asks h once for a streamed answer, then serves that answer
// to every request, one event per write and flush, as a provider streams.
func replayServer(b *testing.B, h http.Handler, path string, header http.Header, body string) *httptest.Server {
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Fatalf("mock answered %d: %s", w.Code, w.Body)
	}
	var events [][]byte
	for ev := range bytes.SplitAfterSeq(w.Body.Bytes(), []byte("\n\n")) {
		events = append(events, ev)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for _, ev := range events {
			w.Write(ev)
			rc.Flush()
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
