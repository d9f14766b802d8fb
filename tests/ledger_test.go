package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
)

// TestRateLimitHeadersCountDown: per-minute request and token windows in
// redis-server; every answer carries x-ratelimit-* headers that count
// down, and the request past the limit gets OpenAI's 429 with Retry-After.
func TestRateLimitHeadersCountDown(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{})
	k := e.key("app", "", ledger.Limits{RequestsPerMinute: 3, TokensPerMinute: 100000})
	ctx := context.Background()
	for i, want := range []string{"2", "1", "0"} {
		resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o", "hi", `,"max_tokens":100`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %v %v %s", i, err, resp, body)
		}
		h := resp.Header
		if got := h.Get("X-Ratelimit-Remaining-Requests"); got != want {
			t.Fatalf("request %d: remaining requests %q, want %q", i, got, want)
		}
		if h.Get("X-Ratelimit-Limit-Requests") != "3" || h.Get("X-Ratelimit-Reset-Requests") != "40s" {
			t.Fatalf("request %d: headers %v", i, h)
		}
		if h.Get("X-Ratelimit-Limit-Tokens") != "100000" || h.Get("X-Ratelimit-Remaining-Tokens") == "" {
			t.Fatalf("request %d: token headers %v", i, h)
		}
	}
	resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o", "hi", ""))
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: %v %v %s", err, resp, body)
	}
	var oe struct {
		Error struct{ Type, Code, Message string }
	}
	json.Unmarshal(body, &oe)
	if oe.Error.Type != "rate_limit_error" || !strings.Contains(oe.Error.Message, "3 requests per minute") {
		t.Fatalf("429 body %s", body)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "40" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Fatalf("429 headers %v", resp.Header)
	}
	// The next minute opens a new window.
	e.clock.Advance(time.Minute)
	resp, body, _ = e.chat(ctx, k.Key, chatBody("gpt-4o", "hi", ""))
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "2" {
		t.Fatalf("next minute: %d %v", resp.StatusCode, resp.Header)
	}
	// That request reserved its worst case (no max_tokens: 4096 output
	// tokens) and settled to the provider's figures, so what the next one
	// sees remaining is the limit minus real use minus its own reservation.
	var a reported
	json.Unmarshal(body, &a)
	next := chatBody("gpt-4o", "hi", `,"max_tokens":100`)
	resp, _, _ = e.chat(ctx, k.Key, next)
	want := 100000 - (a.Usage.PromptTokens + a.Usage.CompletionTokens) - (ledger.EstimateBody([]byte(next)).Input + 100)
	if got := resp.Header.Get("X-Ratelimit-Remaining-Tokens"); got != strconv.FormatInt(want, 10) {
		t.Fatalf("remaining tokens %s, want %d", got, want)
	}
}
