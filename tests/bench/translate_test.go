package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestMocksComparable checks that the bench's mock process answers the
// translating path's two direct requests with the same text in the same
// pieces, as the bench requires before it measures.
func TestMocksComparable(t *testing.T) {
	srv := httptest.NewServer(mockHandler())
	defer srv.Close()
	c := srv.Client()
	openai, err := shapeOf(context.Background(), c, endpoint{name: "OpenAI mock", url: srv.URL + "/v1/chat/completions", body: streamBody})
	if err != nil {
		t.Fatal(err)
	}
	anthropic, err := shapeOf(context.Background(), c, endpoint{name: "Anthropic mock", url: srv.URL + "/anthropic/v1/messages", body: anthropicStreamBody, header: anthropicHeader})
	if err != nil {
		t.Fatal(err)
	}
	if openai.pieces == 0 || openai.pieces != anthropic.pieces || openai.text != anthropic.text {
		t.Fatalf("OpenAI %+v, Anthropic %+v", openai, anthropic)
	}
	// A role chunk, the pieces, a finish chunk, [DONE]; message_start,
	// ping, block start, the pieces, block stop, message_delta, message_stop.
	if openai.events != openai.pieces+3 || anthropic.events != anthropic.pieces+6 {
		t.Errorf("events: OpenAI %d, Anthropic %d, for %d pieces", openai.events, anthropic.events, openai.pieces)
	}
	tr := translateRun{shapes: [streams]streamShape{openai, openai, anthropic, anthropic}}
	if err := tr.comparable(); err != nil {
		t.Error(err)
	}
	tr.shapes[gatewayTranslate].pieces--
	if err := tr.comparable(); err == nil {
		t.Error("streams with different pieces are comparable")
	}
}

func TestTranslationCost(t *testing.T) {
	out := `pkg: github.com/sluicegw/sluice/shared/gateway
BenchmarkChatCompletionStream-2   	   20000	     50000 ns/op	   28771 B/op	      86 allocs/op
BenchmarkChatCompletionStreamToAnthropic-2   	   10000	     80000 ns/op	   49384 B/op	     366 allocs/op
pkg: github.com/sluicegw/sluice/shared/provider/anthropic
BenchmarkFromOpenAIRequest-2   	   50000	     20000 ns/op
BenchmarkFromOpenAIStream100-2   	   10000	     40000 ns/op
`
	benches := parseGoBench(out)
	cost, how, ok := translationCost(benches)
	if !ok || cost != 30*time.Microsecond || !strings.Contains(how, "`BenchmarkChatCompletionStreamToAnthropic-2` (80,000 ns/op)") {
		t.Errorf("gateway benchmarks: %v %q %v", cost, how, ok)
	}
	cost, how, ok = translationCost(benches[2:])
	if !ok || cost != 60*time.Microsecond || !strings.Contains(how, "translator alone") {
		t.Errorf("translator benchmarks: %v %q %v", cost, how, ok)
	}
	if _, _, ok := translationCost(benches[:1]); ok {
		t.Error("a cost without the benchmarks")
	}
	withSocket := parseGoBench("pkg: github.com/sluicegw/sluice/shared/gateway\n" +
		"BenchmarkTranslationCost-2   	    1500	    850000 ns/op	     70000 anthropic-added-ns/op	     41000 openai-added-ns/op	     29000 translation-ns/op	  103000 B/op	     541 allocs/op\n" +
		out)
	cost, how, ok = translationCost(withSocket)
	if !ok || cost != 29*time.Microsecond || !strings.Contains(how, "anthropic-added-ns/op 70,000") || !strings.Contains(how, "= 30 µs") {
		t.Errorf("socket benchmark: %v %q %v", cost, how, ok)
	}
	if m := withSocket[0]; m.allocs != 541 || m.bytesPerOp != 103000 || len(m.metrics) != 3 {
		t.Errorf("parsed %+v", m)
	}
	for name, want := range map[string]bool{
		"BenchmarkChatCompletionStream":               true,
		"BenchmarkChatCompletionStream-16":            true,
		"BenchmarkChatCompletionStreamToAnthropic-2":  false,
		"BenchmarkChatCompletionStream-":              false,
		"BenchmarkChatCompletionStream-2/sub":         false,
		"BenchmarkChatCompletionStreamToAnthropic-22": false,
	} {
		if got := benchNamed(name, benchStreamPlain); got != want {
			t.Errorf("benchNamed(%q) = %v", name, got)
		}
	}
}

func TestTranslateReport(t *testing.T) {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	fig := func(p50s, p99s [streams]int) (out [streams]summary) {
		for i := range out {
			out[i] = summary{n: 100, p50: us(p50s[i]), p99: us(p99s[i])}
		}
		return out
	}
	shape := streamShape{events: 16, pieces: 13, text: "Hello"}
	r := &results{cfg: config{duration: 2 * time.Second, rounds: 2}, goBench: parseGoBench(`pkg: github.com/sluicegw/sluice/shared/gateway
BenchmarkChatCompletionStream-2   	   20000	     50000 ns/op
BenchmarkChatCompletionStreamToAnthropic-2   	   10000	     80000 ns/op
`)}
	r.translate = translateRun{conns: 1,
		// pass-through adds 100 µs first, 200 µs last; translating 140 and 260.
		first:  fig([streams]int{200, 300, 210, 350}, [streams]int{1000, 2000, 1000, 2000}),
		last:   fig([streams]int{300, 500, 320, 580}, [streams]int{1000, 2000, 1000, 5000}),
		shapes: [streams]streamShape{shape, shape, {events: 19, pieces: 13, text: "Hello"}, shape},
	}
	report := renderTranslate(r)
	for _, want := range []string{
		"## Translating path (OpenAI in, Anthropic out, streamed)",
		"| Pass-through (`mock-gpt` → OpenAI mock) | 100 µs | 1 ms | 200 µs | 1 ms |",
		"| Translating (`mock-claude` → Anthropic mock) | 140 µs | 1 ms | 260 µs | 4 ms |",
		"Translation cost per stream, from the Go benchmarks: **30 µs**",
		// 140 ≤ 100 + 30 + 25; 260 ≤ 200 + 30 + 25 (10% of 200 is less than 25 µs).
		"| Time to first byte, p50 | 140 µs | 100 µs | 30 µs | 25 µs | 155 µs | met |",
		"| Time to last byte, p50 | 260 µs | 200 µs | 30 µs | 25 µs | 255 µs | not met |",
		"| Time to last byte, p99 | 4 ms | 1 ms | 30 µs | 100 µs | 1.13 ms | (not met, not judged) |",
		"Check \"translating added ≤ pass-through added + translation cost\": **not met**",
		"| Anthropic mock, called directly (Messages) | 19 | 13 | 100 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	r.translate.last[gatewayTranslate].p50 = us(570) // 250 added: within the bound
	if met, ok := r.translateMet(); !met || !ok {
		t.Errorf("met %v, ok %v", met, ok)
	}
	if !strings.Contains(renderTranslate(r), "**met**") {
		t.Error("the report does not say met")
	}
	r.goBench = nil
	if !strings.Contains(renderTranslate(r), "not measured") {
		t.Error("the report judges without a translation cost")
	}
}
