package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/window"
)

// respStreamed is what openai-go reads from a streamed Responses answer.
type respStreamed struct {
	shape []string          // event types in order (with the item's type and status when added), a run of one delta type counted once
	text  string            // the output_text deltas added up
	args  map[string]string // each function call's argument deltas added up, by call id
	final responses.Response
	start responses.Response
}

// respStream streams a Responses answer through openai-go, checking what
// the SDK and a client rely on: sequence numbers count up from zero, the
// item ids of deltas name an item added before, and response.created
// names the response that completes.
func respStream(t *testing.T, c openai.Client, params responses.ResponseNewParams, h **http.Response, opts ...option.RequestOption) respStreamed {
	t.Helper()
	s := c.Responses.NewStreaming(context.Background(), params, append(opts, option.WithResponseInto(h))...)
	r := respStreamed{args: map[string]string{}}
	var text strings.Builder
	items := map[string]string{} // item id → call id
	var seq int64
	for s.Next() {
		ev := s.Current()
		if ev.SequenceNumber != seq {
			t.Fatalf("event %s: sequence %d, want %d", ev.Type, ev.SequenceNumber, seq)
		}
		seq++
		if !strings.HasSuffix(ev.Type, ".delta") || len(r.shape) == 0 || r.shape[len(r.shape)-1] != ev.Type {
			r.shape = append(r.shape, ev.Type)
		}
		switch ev.Type {
		case "response.created":
			r.start = ev.AsResponseCreated().Response
		case "response.output_item.added":
			it := ev.AsResponseOutputItemAdded().Item
			items[it.ID] = it.CallID
			r.shape[len(r.shape)-1] += " " + it.Type + " " + it.Status
		case "response.output_text.delta":
			d := ev.AsResponseOutputTextDelta()
			if _, ok := items[d.ItemID]; !ok {
				t.Fatalf("text delta for item %q not added", d.ItemID)
			}
			text.WriteString(d.Delta)
		case "response.function_call_arguments.delta":
			d := ev.AsResponseFunctionCallArgumentsDelta()
			call, ok := items[d.ItemID]
			if !ok {
				t.Fatalf("arguments delta for item %q not added", d.ItemID)
			}
			r.args[call] += d.Delta
		case "response.completed":
			r.final = ev.AsResponseCompleted().Response
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if r.final.ID == "" || r.final.ID != r.start.ID || r.start.Status != "in_progress" || r.final.Status != "completed" {
		t.Fatalf("created %q (%s), completed %q (%s)", r.start.ID, r.start.Status, r.final.ID, r.final.Status)
	}
	r.text = text.String()
	return r
}

// TestCacheResponsesStreamReplay: a streamed Responses miss is stored as
// the answer it adds up to, and replayed, streamed or plain, as openai-go
// reads a live answer: the same events in the same order, the text and
// each function call's arguments adding up to the same, with a fresh id.
func TestCacheResponsesStreamReplay(t *testing.T) {
	policy := exact
	policy.AllowToolCalls = true
	g, rec := cachedGateway(t, "", policy)
	c := g.OpenAI()
	ask := func(q string) responses.ResponseNewParams {
		return responses.ResponseNewParams{Model: "gpt-4o", Temperature: openai.Float(0),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(q)},
			Tools: []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{Name: "lookup",
				Parameters: map[string]any{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}}}}}}
	}
	cases := []struct{ name, question string }{
		{"text", "Tell me a short story about a lighthouse keeper and the sea"},
		{"function calls", "Use the tool in parallel to look up the tides"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params := ask(tc.question)
			var h *http.Response
			live := respStream(t, c, params, &h)
			if h.Header.Get("X-Sluice-Cache") != "miss" {
				t.Fatalf("live: cache %q", h.Header.Get("X-Sluice-Cache"))
			}
			upstream := rec.Count()
			replay := respStream(t, c, params, &h)
			if h.Header.Get("X-Sluice-Cache") != "hit" || rec.Count() != upstream || h.Header.Get("X-Sluice-Cache-Saved-Tokens") != itoa(live.final.Usage.TotalTokens) {
				t.Fatalf("replay: cache %q, saved %q, upstream reached %v", h.Header.Get("X-Sluice-Cache"),
					h.Header.Get("X-Sluice-Cache-Saved-Tokens"), rec.Count() != upstream)
			}
			if !slices.Equal(replay.shape, live.shape) {
				t.Fatalf("replay's events %v\nlive's %v", replay.shape, live.shape)
			}
			if replay.text != live.text || replay.final.OutputText() != live.final.OutputText() || !maps(replay.args, live.args) {
				t.Fatalf("replay adds up to %q %v, live to %q %v", replay.text, replay.args, live.text, live.args)
			}
			if tc.name == "function calls" && (len(live.args) != 2 || !strings.Contains(live.args["call_mock1"], `"n":1`)) {
				t.Fatalf("live calls %v", live.args)
			}
			if tc.name == "text" && (replay.text == "" || strings.Count(strings.Join(replay.shape, " "), "delta") == 0) {
				t.Fatalf("no text deltas: %v", replay.shape)
			}
			if replay.final.ID == live.final.ID || !strings.HasPrefix(replay.final.ID, "resp_") || replay.final.Usage.TotalTokens != live.final.Usage.TotalTokens {
				t.Fatalf("replay id %q usage %d, live id %q usage %d", replay.final.ID, replay.final.Usage.TotalTokens, live.final.ID, live.final.Usage.TotalTokens)
			}
			plain, err := c.Responses.New(context.Background(), params, option.WithResponseInto(&h))
			if err != nil || h.Header.Get("X-Sluice-Cache") != "hit" || plain.ID == live.final.ID || plain.OutputText() != live.final.OutputText() ||
				len(plain.Output) != len(live.final.Output) {
				t.Fatalf("plain hit: %v, cache %q, %+v", err, h.Header.Get("X-Sluice-Cache"), plain)
			}
		})
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCacheResponsesCutStreamNotStored: a Responses stream the upstream
// cuts before response.completed is never stored: the same request again
// is a miss that reaches the upstream.
func TestCacheResponsesCutStreamNotStored(t *testing.T) {
	g, rec := cachedGateway(t, "", exact)
	body := `{"model":"cut-midstream","temperature":0,"stream":true,"input":"Tell me a long story about a river"}`
	for i := range 2 {
		before := rec.Count()
		resp, out := g.Do(t, "POST", "/v1/responses", body, "Authorization", "Bearer "+g.Key)
		if resp.Header.Get("X-Sluice-Cache") != "miss" || rec.Count() == before || strings.Contains(out, "response.completed") {
			t.Fatalf("request %d: cache %q, upstream reached %v: %s", i, resp.Header.Get("X-Sluice-Cache"), rec.Count() != before, out)
		}
	}
}

// BenchmarkResponsesCacheHit serves an exact Responses hit from the test
// binary's redis-server, plain and streamed, beside the chat completion
// hits of BenchmarkChatCompletionCacheHit.
func BenchmarkResponsesCacheHit(b *testing.B) {
	const answer = `{"id":"resp_c","object":"response","created_at":1700000000,"status":"completed","model":"m","output":[{"type":"message","id":"msg_c","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello there, I am fine, thank you for asking.","annotations":[]}]}],"usage":{"input_tokens":9,"output_tokens":11,"total_tokens":20}}`
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
			p.Scope = "bench/responses/" + name
			tab.Rules[0].Cache = &p
			g := gatewaytest.New(b, tab, gatewaytest.WithConfig(gateway.Config{
				Cache:     cache.NewRedis(rc, cache.StoreConfig{}),
				Transport: cannedTransport{contentType: "application/json", body: answer},
			}))
			rc.FlushAll(context.Background())
			serve := func(body string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("POST", "/v1/responses", strings.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+g.Key)
				w := httptest.NewRecorder()
				g.ServeHTTP(w, r)
				return w
			}
			body := `{"model":"m","temperature":0,"input":"Hello there, how are you today?"}`
			serve(body) // the miss that stores the answer
			if stream {
				body = `{"model":"m","stream":true,"temperature":0,"input":"Hello there, how are you today?"}`
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
