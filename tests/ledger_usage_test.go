package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
)

// cutBackend is the mock provider, except for prompts that ask it to fail:
// "FAIL" answers 500 before any token, "CUT" streams three chunks and then
// drops the connection without usage.
type cutBackend struct{ mock.OpenAI }

func (b *cutBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case bytes.Contains(body, []byte("FAIL")):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":{"message":"boom","type":"server_error","code":null}}`)
	case bytes.Contains(body, []byte("CUT")):
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, word := range []string{"Hello ", "from a ", "stream that breaks"} {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", word)
			http.NewResponseController(w).Flush()
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
		b.OpenAI.ServeHTTP(w, r)
	}
}

// TestUsageIsSettledToProviderFigures covers what a request costs: the
// provider's figures, plain or streamed, cached and reasoning tokens
// included and priced; an estimate, marked, for a stream cut or cancelled
// before usage came; nothing for a request that failed before any token.
func TestUsageIsSettledToProviderFigures(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{backend: &cutBackend{OpenAI: mock.OpenAI{EventDelay: 20 * time.Millisecond}}})
	ctx := context.Background()
	k := e.key("usage", "team-u", ledger.Limits{TokensPerDay: 1_000_000})
	day := ledger.Day(e.clock.Now())
	held := func() int64 {
		h, err := e.st.Held(ctx, ledger.Bucket{Subject: "key#" + k.ID, Name: "tokens-day#" + day + "#*"})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	var want ledger.UsageRow

	t.Run("plain, with cached and reasoning tokens", func(t *testing.T) {
		resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o", "cache me please", `,"prompt_cache_key":"k1","reasoning_effort":"high"`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v %s", err, resp, body)
		}
		var r reported
		json.Unmarshal(body, &r)
		u := r.Usage
		if u.PromptTokensDetails.CachedTokens == 0 || u.CompletionTokensDetails.ReasoningTokens != 7 {
			t.Fatalf("the mock reported %+v", u)
		}
		want.Add(ledger.UsageRow{Requests: 1, InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens,
			CachedTokens: u.PromptTokensDetails.CachedTokens, ReasoningTokens: u.CompletionTokensDetails.ReasoningTokens,
			CostMicros: ledger.DefaultPrices["gpt-4o"].Cost(u.PromptTokens, u.PromptTokensDetails.CachedTokens, u.CompletionTokens)})
		if got := e.usage("key=" + k.ID).Total; got != want {
			t.Fatalf("ledger %+v, want %+v", got, want)
		}
	})

	t.Run("streamed, usage asked for on the client's behalf", func(t *testing.T) {
		_, plain, _ := e.chat(ctx, k.Key, chatBody("gpt-4o-mini", "stream this", ""))
		var r reported
		json.Unmarshal(plain, &r)
		resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o-mini", "stream this", `,"stream":true`))
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "[DONE]") || strings.Contains(string(body), `"usage":{`) {
			t.Fatalf("%v %v %s", err, resp, body)
		}
		cost := ledger.DefaultPrices["gpt-4o-mini"].Cost(r.Usage.PromptTokens, 0, r.Usage.CompletionTokens)
		want.Add(ledger.UsageRow{Requests: 2, InputTokens: 2 * r.Usage.PromptTokens, OutputTokens: 2 * r.Usage.CompletionTokens, CostMicros: 2 * cost})
		if got := e.usage("key=" + k.ID).Total; got != want {
			t.Fatalf("ledger %+v, want %+v", got, want)
		}
	})

	t.Run("failed before any token costs nothing", func(t *testing.T) {
		before := held()
		resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o", "FAIL", `,"max_tokens":500`))
		if err != nil || resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("%v %v %s", err, resp, body)
		}
		if got := e.usage("key=" + k.ID).Total; got != want {
			t.Fatalf("ledger %+v, want %+v unchanged", got, want)
		}
		if h := held(); h != before {
			t.Fatalf("held %d, want %d: the reservation must be released", h, before)
		}
	})

	t.Run("stream cut after tokens: estimated and marked", func(t *testing.T) {
		b := chatBody("gpt-4o", "CUT", `,"stream":true,"max_tokens":500`)
		resp, body, err := e.chat(ctx, k.Key, b)
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "stream that breaks") || !strings.Contains(string(body), `"error"`) {
			t.Fatalf("%v %v %s", err, resp, body)
		}
		in := ledger.EstimateBody([]byte(b)).Input
		out := int64((len("Hello from a stream that breaks") + 3) / 4)
		want.Add(ledger.UsageRow{Requests: 1, InputTokens: in, OutputTokens: out, Estimated: 1,
			CostMicros: ledger.DefaultPrices["gpt-4o"].Cost(in, 0, out)})
		if got := e.usage("key=" + k.ID).Total; got != want {
			t.Fatalf("ledger %+v, want %+v", got, want)
		}
	})

	t.Run("stream cancelled by the client after tokens: estimated", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		req, _ := http.NewRequestWithContext(cctx, http.MethodPost, e.url+"/v1/chat/completions",
			strings.NewReader(chatBody("gpt-4o", "a long answer please, one that takes a while to stream", `,"stream":true`)))
		req.Header.Set("Authorization", "Bearer "+k.Key)
		resp, err := ledgerClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for n := 0; n < 4 && sc.Scan(); {
			if strings.HasPrefix(sc.Text(), "data: ") {
				n++
			}
		}
		cancel()
		resp.Body.Close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := e.usage("key=" + k.ID).Total
			if got.Requests == want.Requests+1 {
				if got.Estimated != want.Estimated+1 || got.OutputTokens <= want.OutputTokens {
					t.Fatalf("ledger %+v after %+v: want one more estimated request with output", got, want)
				}
				want = got
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cancelled stream was not settled: %+v", got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("nothing stays reserved", func(t *testing.T) {
		if h := held(); h != want.InputTokens+want.OutputTokens {
			t.Fatalf("held %d, want the settled %d", h, want.InputTokens+want.OutputTokens)
		}
	})

	t.Run("the usage report counts every request by route and the failures by kind", func(t *testing.T) {
		var rep admin.UsageReport
		e.adminDo(http.MethodGet, "/admin/v1/usage/report?since=1d", nil, http.StatusOK, &rep)
		kinds := map[string]int64{}
		for _, s := range rep.Errors {
			kinds[s.Name] = s.Total.Requests
		}
		// The failed request, the cut stream (an upstream failure) and the
		// cancelled one (the client's doing, named apart).
		if len(rep.Routes) != 1 || rep.Routes[0].Name != "ai/chat" || rep.Routes[0].Total.Requests != want.Requests+1 ||
			rep.Routes[0].Total.InputTokens != want.InputTokens {
			t.Errorf("routes %+v, want ai/chat with %d requests", rep.Routes, want.Requests+1)
		}
		if kinds["client_closed"] != 1 || kinds["upstream_error"] != 2 || len(kinds) != 2 {
			t.Errorf("errors by kind %v, want upstream_error 2 and client_closed 1", kinds)
		}
		if len(rep.Keys) != 1 || rep.Keys[0].Name != k.ID || rep.Keys[0].Total != withDay(want, "") {
			t.Errorf("keys %+v", rep.Keys)
		}
	})

	t.Run("usage by model and by day, for key, consumer and all", func(t *testing.T) {
		e.clock.Advance(24 * time.Hour)
		e.chat(ctx, k.Key, chatBody("gpt-4o", "tomorrow", ""))
		byDay := e.usage("key=" + k.ID + "&by=day&since=2d")
		if len(byDay.Rows) != 2 || byDay.Rows[0].Day != day || byDay.Rows[0] != withDay(want, day) {
			t.Fatalf("by day: %+v", byDay)
		}
		byModel := e.usage("consumer=team-u&by=model")
		if len(byModel.Rows) != 2 || byModel.Rows[0].Model != "gpt-4o" || byModel.Rows[1].Model != "gpt-4o-mini" || byModel.Total != byDay.Total {
			t.Fatalf("by model: %+v", byModel)
		}
		if all := e.usage("since=7d"); all.Total != byDay.Total {
			t.Fatalf("all: %+v, want %+v", all.Total, byDay.Total)
		}
		if one := e.usage("key=" + k.ID + "&since=1d"); one.Total.Requests != 1 {
			t.Fatalf("since=1d: %+v", one)
		}
	})
}

func withDay(r ledger.UsageRow, day string) ledger.UsageRow {
	r.Day = day
	return r
}
