package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/servertest"
)

// TestSettleIsIdempotentPerRequestID: the same request id settled twice
// (a retried invocation that admitted and settled again) counts once, and
// the retry's reservation is given back.
func TestSettleIsIdempotentPerRequestID(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{})
	ctx := context.Background()
	k := e.key("retry", "team-r", ledger.Limits{TokensPerDay: 100000})
	key, err := e.st.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	lim := ledger.NewLimiter(ledger.LimiterConfig{Now: e.clock.Now}, nil, e.st)
	req := ledger.Request{ID: "req_idempotent_1", Key: key, Model: "gpt-4o", Body: []byte(chatBody("gpt-4o", "hello", `,"max_tokens":50`))}
	u := api.Usage{InputTokens: 12, OutputTokens: 30, CachedTokens: 4, ReasoningTokens: 9, Reported: true}
	for run := range 2 {
		tk, err := lim.Admit(ctx, req)
		if err != nil {
			t.Fatalf("run %d: admit: %v", run, err)
		}
		if err := tk.Settle(ctx, ledger.Outcome{Usage: u, Started: true}); err != nil {
			t.Fatalf("run %d: settle: %v", run, err)
		}
		if err := tk.Settle(ctx, ledger.Outcome{Usage: u, Started: true}); err != nil { // the same ticket again
			t.Fatalf("run %d: second settle of one ticket: %v", run, err)
		}
	}
	tot := e.usage("key=" + k.ID).Total
	want := ledger.UsageRow{Requests: 1, InputTokens: 12, OutputTokens: 30, CachedTokens: 4, ReasoningTokens: 9, CostMicros: tot.CostMicros}
	if tot != want || tot.CostMicros == 0 {
		t.Fatalf("ledger %+v, want %+v", tot, want)
	}
	held, err := e.st.Held(ctx, ledger.Bucket{Subject: "key#" + k.ID, Name: "tokens-day#" + ledger.Day(e.clock.Now()) + "#*"})
	if err != nil || held != 42 {
		t.Fatalf("held %d (%v), want the 42 tokens settled once", held, err)
	}
	rec, ok, err := e.st.Settled(ctx, "req_idempotent_1")
	if err != nil || !ok || rec.InputTokens != 12 {
		t.Fatalf("idempotency record %+v %v %v", rec, ok, err)
	}
}

// TestThrottledDebitsAreNeverLost: DynamoDB answers throttling errors
// (ProvisionedThroughputExceededException, ThrottlingException) to the
// ledger's writes; reservations and debits retry with backoff and every
// one lands, exactly once.
func TestThrottledDebitsAreNeverLost(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{})
	k := e.key("throttled", "", ledger.Limits{TokensPerDay: 1_000_000})
	ctx := context.Background()

	e.db.throttle(6)
	resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o", "one", `,"max_tokens":50`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v %s", err, resp, body)
	}
	var one reported
	json.Unmarshal(body, &one)

	// Twenty at once, against thirty more throttling errors.
	e.db.throttle(30)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sum := one.Usage.PromptTokens + one.Usage.CompletionTokens
	for range 20 {
		wg.Go(func() {
			resp, body, err := e.chat(ctx, k.Key, chatBody("gpt-4o", "many", `,"max_tokens":50`))
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("%v %v %s", err, resp, body)
				return
			}
			var r reported
			json.Unmarshal(body, &r)
			mu.Lock()
			sum += r.Usage.PromptTokens + r.Usage.CompletionTokens
			mu.Unlock()
		})
	}
	wg.Wait()
	e.db.mu.Lock()
	injected, left := e.db.injected, e.db.throttles
	e.db.mu.Unlock()
	if injected != 36 || left != 0 {
		t.Fatalf("injected %d throttling errors, %d left unused; want all 36 used", injected, left)
	}
	tot := e.usage("key=" + k.ID).Total
	if tot.Requests != 21 || tot.InputTokens+tot.OutputTokens != sum {
		t.Fatalf("ledger %+v, want 21 requests and %d tokens", tot, sum)
	}
	held, _ := e.st.Held(ctx, ledger.Bucket{Subject: "key#" + k.ID, Name: "tokens-day#" + ledger.Day(e.clock.Now()) + "#*"})
	if held != sum {
		t.Fatalf("held %d, want %d", held, sum)
	}
}

// TestRedisDown: with the window store's redis-server stopped, limits fail
// open by default (served, without per-minute limits, at once) and closed
// when configured (503 with Retry-After); durable budgets still count.
func TestRedisDown(t *testing.T) {
	rs := servertest.OwnRedis(t)
	open := newLedgerEnv(t, ledgerOpts{redisURL: rs.URL("redis")})
	closed := newLedgerEnv(t, ledgerOpts{redisURL: rs.URL("redis"), failClosed: true})
	ctx := context.Background()
	ko := open.key("open", "", ledger.Limits{RequestsPerMinute: 2, TokensPerDay: 1_000_000})
	kc := closed.key("closed", "", ledger.Limits{RequestsPerMinute: 2})
	for _, c := range []struct {
		e   *ledgerEnv
		key string
	}{{open, ko.Key}, {closed, kc.Key}} {
		resp, _, err := c.e.chat(ctx, c.key, chatBody("gpt-4o", "up", ""))
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "1" {
			t.Fatalf("with redis up: %v %v", err, resp)
		}
	}
	rs.Stop()

	for i := range 4 { // past the limit of 2 a minute: not enforced while Redis is down
		resp, body, err := open.chat(ctx, ko.Key, chatBody("gpt-4o", "down", ""))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("fail open, request %d: %v %v %s", i, err, resp, body)
		}
		if resp.Header.Get("X-Ratelimit-Remaining-Requests") != "" {
			t.Fatalf("fail open: headers claim a window %v", resp.Header)
		}
	}
	if tot := open.usage("key=" + ko.ID).Total; tot.Requests != 5 {
		t.Fatalf("fail open: the ledger recorded %d requests, want 5", tot.Requests)
	}
	resp, body, err := closed.chat(ctx, kc.Key, chatBody("gpt-4o", "down", ""))
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fail closed: %v %v %s", err, resp, body)
	}
}
