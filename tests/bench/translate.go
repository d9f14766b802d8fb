package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The four streams of the translating-path comparison, in the order they
// take turns.
const (
	directOpenAI     = iota // the OpenAI mock, called directly
	gatewayPass             // mock-gpt through the gateway: OpenAI in, OpenAI out
	directAnthropic         // the Anthropic mock, called directly
	gatewayTranslate        // mock-claude through the gateway: OpenAI in, Anthropic out
	streams
)

// translateRun compares the gateway's translating path (a streamed chat
// completion answered by an Anthropic backend) with its pass-through path
// (the same request answered by an OpenAI backend), each against its mock
// called directly.
type translateRun struct {
	conns       int
	names       [streams]string
	first, last [streams]summary     // time to first byte, to last byte
	shapes      [streams]streamShape // what one answer held
	cpu         usage                // over the interleaved run, all four streams
}

// streamShape is what one streamed answer held: its events (an OpenAI
// stream's "data: [DONE]" included) and the text pieces among them.
type streamShape struct {
	events, pieces int
	text           string
}

// added is how much longer the gateway took than the mock it calls, at a
// percentile of the first- or last-byte figures.
func (t translateRun) added(fig *[streams]summary, gateway int, pick func(summary) time.Duration) time.Duration {
	direct := directOpenAI
	if gateway == gatewayTranslate {
		direct = directAnthropic
	}
	return pick(fig[gateway]) - pick(fig[direct])
}

// translateRun measures streaming on both paths at one connection: after
// a warm-up, the four streams are interleaved request by request (see
// interleaved) for as long as turns would give them all, and each
// stream's first- and last-byte latencies are kept.
func (e *env) translateRun(ctx context.Context) (translateRun, error) {
	t := translateRun{conns: 1}
	eps := [streams]endpoint{
		directOpenAI:     {name: "OpenAI mock", url: "http://" + e.mockAddr + "/v1/chat/completions", body: streamBody},
		gatewayPass:      {name: "gateway to OpenAI", url: e.gw.url("/v1/chat/completions"), key: e.gw.key, body: streamBody},
		directAnthropic:  {name: "Anthropic mock", url: "http://" + e.mockAddr + "/anthropic/v1/messages", body: anthropicStreamBody, header: anthropicHeader},
		gatewayTranslate: {name: "gateway to Anthropic", url: e.gw.url("/v1/chat/completions"), key: e.gw.key, body: claudeStreamBody},
	}
	var clients [streams]*http.Client
	for i, ep := range eps {
		t.names[i] = ep.name
		clients[i] = newClient(1)
		defer clients[i].CloseIdleConnections()
		var err error
		if t.shapes[i], err = shapeOf(ctx, clients[i], ep); err != nil {
			return t, err
		}
	}
	if err := t.comparable(); err != nil {
		return t, err
	}
	progress("%s, %s, %s", strings.Join(t.names[:], " / "), "1 connection each, streamed, interleaved request by request", e.cfg.duration*streams)
	interleaved(ctx, clients[:], eps[:], e.cfg.warmup)
	var results []runResult
	_, cpu, err := e.metered(func() runResult {
		results = interleaved(ctx, clients[:], eps[:], e.cfg.duration*streams)
		return runResult{}
	})
	if err != nil {
		return t, err
	}
	if err := ctx.Err(); err != nil {
		return t, err
	}
	t.cpu = cpu
	for i := range eps {
		if err := results[i].check(eps[i].name + ", translating path"); err != nil {
			return t, err
		}
		t.first[i], t.last[i] = summarize(results[i], first), summarize(results[i], total)
	}
	return t, nil
}

// interleaved sends one request to each endpoint in turn, each over its
// own client, for d, and returns each endpoint's results. The streams thus
// meet the machine at the same moments, and drift or bursts of other load
// weigh on all of them alike: the paths differ by tens of microseconds,
// which runs taking turns by the second could not resolve from one run to
// the next.
func interleaved(ctx context.Context, clients []*http.Client, eps []endpoint, d time.Duration) []runResult {
	results := make([]runResult, len(eps))
	buf := make([]byte, 32<<10)
	start := time.Now()
	for ctx.Err() == nil && time.Since(start) < d {
		for i, ep := range eps {
			t0 := time.Now()
			first, done, err := exchange(ctx, clients[i], ep, ep.body, buf)
			results[i].note(t0, first, done, err)
		}
	}
	return results
}

// comparable makes sure the two mocks answer with the same text in the same
// number of pieces, and that the client gets it so on both paths: then the
// paths differ only by protocol.
func (t translateRun) comparable() error {
	want := t.shapes[directOpenAI]
	if want.pieces == 0 {
		return fmt.Errorf("translating path: the %s streamed no text", t.names[directOpenAI])
	}
	for i, s := range t.shapes {
		if s.pieces != want.pieces || s.text != want.text {
			return fmt.Errorf("translating path: the %s streamed %d text pieces (%q), the %s %d (%q): the streams are not comparable",
				t.names[i], s.pieces, s.text, t.names[directOpenAI], want.pieces, want.text)
		}
	}
	return nil
}

// shapeOf sends one request to ep and counts the events and text pieces of
// the stream it answers with, in either protocol.
func shapeOf(ctx context.Context, c *http.Client, ep endpoint) (streamShape, error) {
	var s streamShape
	req, err := newRequest(ctx, ep.url, ep.key, ep.body)
	if err != nil {
		return s, err
	}
	for k, v := range ep.header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return s, fmt.Errorf("%s: %w", ep.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return s, fmt.Errorf("%s: read answer: %w", ep.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("%s answered %d: %.300s", ep.name, resp.StatusCode, body)
	}
	var text strings.Builder
	for ev := range strings.SplitSeq(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n") {
		var data []string
		sc := bufio.NewScanner(strings.NewReader(ev))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				data = append(data, strings.TrimPrefix(d, " "))
			}
		}
		if len(data) == 0 {
			continue
		}
		s.events++
		d := strings.Join(data, "\n")
		if d == "[DONE]" {
			continue
		}
		var v struct {
			Type  string `json:"type"` // Anthropic
			Delta struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"delta"`
			Choices []struct { // OpenAI
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			return s, fmt.Errorf("%s: event %d: %w: %.200s", ep.name, s.events, err, d)
		}
		piece := v.Delta.Text
		if v.Type != "content_block_delta" || v.Delta.Type != "text_delta" {
			piece = ""
		}
		if len(v.Choices) > 0 {
			piece = v.Choices[0].Delta.Content
		}
		if piece != "" {
			s.pieces++
			text.WriteString(piece)
		}
	}
	s.text = text.String()
	return s, nil
}

// The translation cost per stream comes from the Go benchmarks of the
// gateway's handler. Best, BenchmarkTranslationCost: the same streamed chat
// completion through the handler to an OpenAI and to an Anthropic upstream,
// each a loopback server replaying the local mock's answer one event per
// write, minus a plain client reading each directly; its translation-ns/op
// is the median difference, the four taking turns. Without it, a streamed
// chat completion from an Anthropic backend minus the same from an OpenAI
// one, both in process from canned upstream streams read at once; without
// those, the translator's own benchmarks: a request plus a 100-event stream.
const (
	gatewayPkg           = module + "/shared/gateway"
	anthropicPkg         = module + "/shared/provider/anthropic"
	benchTranslationCost = "BenchmarkTranslationCost"
	translationMetric    = "translation-ns/op"
	benchToAnthropic     = "BenchmarkChatCompletionStreamToAnthropic"
	benchStreamPlain     = "BenchmarkChatCompletionStream"
	benchFromOpenAIReq   = "BenchmarkFromOpenAIRequest"
	benchFromOpenAI100   = "BenchmarkFromOpenAIStream100"
)

// The check's allowance for noise: this share of the pass-through path's
// added latency, and at least translateToleranceMin.
const (
	translateTolerancePct = 10
	translateToleranceMin = 25 * time.Microsecond
)

// translationCost is the Go benchmarks' translation cost per stream and
// how it was reached, for the report; ok is false when the benchmarks are
// not in the results.
func translationCost(benches []goBench) (cost time.Duration, how string, ok bool) {
	find := func(pkg, name string) (goBench, bool) {
		for _, g := range benches {
			if g.pkg == pkg && benchNamed(g.name, name) {
				return g, true
			}
		}
		return goBench{}, false
	}
	ns := func(v float64) time.Duration { return time.Duration(v + 0.5) }
	if tc, ok := find(gatewayPkg, benchTranslationCost); ok {
		if v, ok := tc.metrics[translationMetric]; ok {
			how := fmt.Sprintf("`%s`, `shared/gateway`: the gateway's handler serving one streamed chat completion from an Anthropic upstream "+
				"(anthropic-added-ns/op %s) minus the same from an OpenAI upstream (openai-added-ns/op %s), each upstream a loopback server "+
				"replaying the local mock's answer one event per write, each path's time less a plain client's reading that upstream directly; "+
				"medians over iterations in which the four take turns",
				tc.name, num(tc.metrics["anthropic-added-ns/op"]), num(tc.metrics["openai-added-ns/op"]))
			if to, ok1 := find(gatewayPkg, benchToAnthropic); ok1 {
				if plain, ok2 := find(gatewayPkg, benchStreamPlain); ok2 {
					how += fmt.Sprintf(". For comparison, in process with each whole upstream stream read at once (20 text pieces), `%s` − `%s` = %s",
						to.name, plain.name, dur(ns(to.nsPerOp-plain.nsPerOp)))
				}
			}
			return ns(v), how, true
		}
	}
	if to, ok1 := find(gatewayPkg, benchToAnthropic); ok1 {
		if plain, ok2 := find(gatewayPkg, benchStreamPlain); ok2 {
			return ns(to.nsPerOp - plain.nsPerOp), fmt.Sprintf("`%s` (%s ns/op) − `%s` (%s ns/op), `shared/gateway`: the gateway's handler serving one streamed chat completion "+
				"from an Anthropic backend (20 text pieces in 25 Messages events) minus the same from an OpenAI backend (20 chunks), in process with canned upstream streams",
				to.name, num(to.nsPerOp), plain.name, num(plain.nsPerOp)), true
		}
	}
	req, ok1 := find(anthropicPkg, benchFromOpenAIReq)
	stream, ok2 := find(anthropicPkg, benchFromOpenAI100)
	if ok1 && ok2 {
		return ns(req.nsPerOp + stream.nsPerOp), fmt.Sprintf("`%s` (%s ns/op) + `%s` (%s ns/op), `shared/provider/anthropic`: the translator alone, one request with tools and a 100-event stream",
			req.name, num(req.nsPerOp), stream.name, num(stream.nsPerOp)), true
	}
	return 0, "", false
}

// benchNamed reports whether a go test result name is the benchmark name,
// with or without its -GOMAXPROCS suffix.
func benchNamed(got, name string) bool {
	rest, ok := strings.CutPrefix(got, name)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	digits := strings.TrimPrefix(rest, "-")
	return len(digits) < len(rest) && digits != "" && strings.Trim(digits, "0123456789") == ""
}

// translateCheck is the check at one percentile of the first- or
// last-byte figures: translating added ≤ pass-through added + cost +
// tolerance.
type translateCheck struct {
	what                       string
	judged                     bool
	pass, translate, tolerance time.Duration
	bound                      time.Duration
}

func (c translateCheck) met() bool { return c.translate <= c.bound }

func (t translateRun) checks(cost time.Duration) []translateCheck {
	p50 := func(s summary) time.Duration { return s.p50 }
	p99 := func(s summary) time.Duration { return s.p99 }
	var out []translateCheck
	for _, c := range []struct {
		what   string
		fig    *[streams]summary
		pick   func(summary) time.Duration
		judged bool
	}{
		{"Time to first byte, p50", &t.first, p50, true},
		{"Time to last byte, p50", &t.last, p50, true},
		{"Time to first byte, p99", &t.first, p99, false},
		{"Time to last byte, p99", &t.last, p99, false},
	} {
		pass, tr := t.added(c.fig, gatewayPass, c.pick), t.added(c.fig, gatewayTranslate, c.pick)
		tol := max(translateToleranceMin, pass*translateTolerancePct/100)
		out = append(out, translateCheck{what: c.what, judged: c.judged, pass: pass, translate: tr, tolerance: tol, bound: pass + cost + tol})
	}
	return out
}

// translateMet is the check's verdict: every judged line met. ok is false
// when there is nothing to judge.
func (r *results) translateMet() (met, ok bool) {
	cost, _, ok := translationCost(r.goBench)
	if !ok || r.translate.first[gatewayTranslate].n == 0 {
		return false, false
	}
	met = true
	for _, c := range r.translate.checks(cost) {
		if c.judged && !c.met() {
			met = false
		}
	}
	return met, true
}

// renderTranslate is the report's translating-path section.
func renderTranslate(r *results) string {
	t := r.translate
	if t.first[gatewayTranslate].n == 0 {
		return ""
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## Translating path (OpenAI in, Anthropic out, streamed)\n\n")
	p("The same streamed chat completion goes through the gateway for model `mock-gpt`, routed to the OpenAI mock and passed through, "+
		"and for model `mock-claude`, routed to an AIBackend with `provider: anthropic` on the Anthropic mock: the request is translated "+
		"into a Messages request and every Anthropic event back into chat completion chunks. Each path's added latency is its gateway "+
		"percentile minus its mock's, called directly with the request the gateway sends it (the chat completion; the Messages request "+
		"with the same prompt and `max_tokens`). One keep-alive connection each; the four are interleaved request by request (one "+
		"request to each in turn, %s in all), so that drift and other load weigh on them alike.\n\n",
		r.cfg.duration*streams)
	p("| Added over the mock called directly | First byte p50 | First byte p99 | Last byte p50 | Last byte p99 |\n|---|---:|---:|---:|---:|\n")
	p50 := func(s summary) time.Duration { return s.p50 }
	p99 := func(s summary) time.Duration { return s.p99 }
	for _, l := range []struct {
		name string
		gw   int
	}{{"Pass-through (`mock-gpt` → OpenAI mock)", gatewayPass}, {"Translating (`mock-claude` → Anthropic mock)", gatewayTranslate}} {
		p("| %s | %s | %s | %s | %s |\n", l.name, dur(t.added(&t.first, l.gw, p50)), dur(t.added(&t.first, l.gw, p99)),
			dur(t.added(&t.last, l.gw, p50)), dur(t.added(&t.last, l.gw, p99)))
	}
	diff := func(fig *[streams]summary, pick func(summary) time.Duration) string {
		return dur(t.added(fig, gatewayTranslate, pick) - t.added(fig, gatewayPass, pick))
	}
	p("| Translating − pass-through | %s | %s | %s | %s |\n", diff(&t.first, p50), diff(&t.first, p99), diff(&t.last, p50), diff(&t.last, p99))

	cost, how, ok := translationCost(r.goBench)
	if !ok {
		p("\nTranslation cost per stream: not measured (the Go benchmarks `%s`, or `%s` and `%s`, of `shared/gateway` are not in this run's Go benchmark results), so the check is not judged.\n",
			benchTranslationCost, benchToAnthropic, benchStreamPlain)
	} else {
		p("\nTranslation cost per stream, from the Go benchmarks: **%s**, from %s.\n", dur(cost), how)
		p("\n| Translating added ≤ pass-through added + translation cost + tolerance | Translating added | Pass-through added | + cost | + tolerance | = Bound | |\n|---|---:|---:|---:|---:|---:|:---:|\n")
		for _, c := range t.checks(cost) {
			v := "not met"
			if c.met() {
				v = "met"
			}
			if !c.judged {
				v = "(" + v + ", not judged)"
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n", c.what, dur(c.translate), dur(c.pass), dur(cost), dur(c.tolerance), dur(c.bound), v)
		}
		met, _ := r.translateMet()
		v := "**not met**"
		if met {
			v = "**met**"
		}
		p("\nCheck \"translating added ≤ pass-through added + translation cost\": %s. Judged at p50 on the first and the last byte; "+
			"p99 is shown, not judged, as on a shared machine it mostly measures the machine. Tolerance for noise: %d%% of the pass-through "+
			"path's added latency at that percentile, at least %s.\n", v, translateTolerancePct, dur(translateToleranceMin))
	}

	p("\n| Stream | Events | Text pieces | Requests | First byte p50 | First byte p99 | Last byte p50 | Last byte p99 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, name := range []string{
		"OpenAI mock, called directly (chat completion)",
		"Gateway, `mock-gpt`, as the client gets it",
		"Anthropic mock, called directly (Messages)",
		"Gateway, `mock-claude`, as the client gets it",
	} {
		f, l, s := t.first[i], t.last[i], t.shapes[i]
		p("| %s | %d | %d | %d | %s | %s | %s | %s |\n", name, s.events, s.pieces, f.n,
			dur(f.p50), dur(f.p99), dur(l.p50), dur(l.p99))
	}
	p("\nOver the interleaved run the gateway used %.0f%% of a core, the mocks %.0f%%, processes other than the bench's %.0f%%.\n",
		t.cpu.share(t.cpu.gateway), t.cpu.share(t.cpu.mock), t.cpu.share(t.cpu.other()))
	p("\nBoth mocks stream the same text (%q) in the same %d pieces, one event each; the protocols frame them differently "+
		"(OpenAI: a role chunk, the pieces, a finish chunk, `[DONE]`; Anthropic: `message_start`, `ping`, a content block's start, "+
		"deltas and stop, `message_delta`, `message_stop`), and the client gets the same chat completion chunks on both paths. "+
		"The bench checks this before it measures.\n", t.shapes[directOpenAI].text, t.shapes[directOpenAI].pieces)
	return b.String()
}
