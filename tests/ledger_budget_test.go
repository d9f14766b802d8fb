package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/sluicegw/sluice/shared/ledger"
)

// budgetPolicy prices gpt-4o at 1,000 USD per million tokens ($0.001 a
// token) and caps each key's spend at $1.50 a month.
const budgetPolicy = `apiVersion: sluice.dev/v1alpha1
kind: TokenLimitPolicy
metadata: {name: budget, namespace: ai}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chat}]
  perKey: {budgetUSD: 1.5}
  prices:
    gpt-4o: {input: 1000, output: 1000}
  defaultMaxTokens: %d
`

type concurrentResult struct {
	ok, refused   int
	input, output int64 // as the provider reported them to clients
	excess        int64 // sum over admitted requests of actual - reserved, where positive
	otherStatuses []int
}

// fire sends n requests at once with one key and adds up what the
// provider reported in the answers.
func fire(t *testing.T, e *ledgerEnv, key string, n int, body func(i int) string, reserved func(b string) int64) concurrentResult {
	t.Helper()
	var mu sync.Mutex
	var res concurrentResult
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b := body(i)
			resp, out, err := e.chat(context.Background(), key, b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("request %d: %v", i, err)
			case resp.StatusCode == http.StatusOK:
				var r reported
				if err := json.Unmarshal(out, &r); err != nil {
					t.Errorf("request %d: %v", i, err)
				}
				res.ok++
				res.input += r.Usage.PromptTokens
				res.output += r.Usage.CompletionTokens
				if x := r.Usage.PromptTokens + r.Usage.CompletionTokens - reserved(b); x > 0 {
					res.excess += x
				}
			case resp.StatusCode == http.StatusTooManyRequests:
				res.refused++
			default:
				res.otherStatuses = append(res.otherStatuses, resp.StatusCode)
				t.Errorf("request %d: %d %s", i, resp.StatusCode, out)
			}
		}()
	}
	close(start)
	wg.Wait()
	return res
}

// TestBudgetUnder200Concurrent: 200 requests at once against one key with
// a $1.50 budget and a 2,000 tokens/day quota. Each reserves its worst
// case before going out, so with max_tokens set neither is ever exceeded;
// the ledger's totals equal the sum of what the provider reported; and
// once all settled, nothing stays reserved.
func TestBudgetUnder200Concurrent(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{policy: fmt.Sprintf(budgetPolicy, 0)})
	k := e.key("busy", "team-busy", ledger.Limits{TokensPerDay: 2000})
	body := func(i int) string {
		return chatBody("gpt-4o", fmt.Sprintf("question number %d", i), `,"max_tokens":40`)
	}
	reserved := func(b string) int64 { return ledger.EstimateBody([]byte(b)).Input + 40 }
	res := fire(t, e, k.Key, 200, body, reserved)
	t.Logf("200 concurrent: %d admitted, %d refused; provider reported %d input + %d output tokens", res.ok, res.refused, res.input, res.output)
	if res.ok == 0 || res.refused == 0 {
		t.Fatalf("want some admitted and some refused, got %d and %d", res.ok, res.refused)
	}
	u := e.usage("key=" + k.ID)
	tot := u.Total
	if tot.Requests != int64(res.ok) || tot.InputTokens != res.input || tot.OutputTokens != res.output {
		t.Fatalf("ledger %+v, providers reported %d requests, %d input, %d output", tot, res.ok, res.input, res.output)
	}
	cost := tot.CostMicros
	if want := ledger.Micros((res.input + res.output) * 1000); cost != want {
		t.Fatalf("cost %d µUSD, want %d", cost, want)
	}
	if cost > ledger.MicrosOf(1.5) || tot.InputTokens+tot.OutputTokens > 2000 {
		t.Fatalf("limits exceeded: cost $%.4f of $1.50, %d tokens of 2000", cost.USD(), tot.InputTokens+tot.OutputTokens)
	}
	// The consumer's and the overall totals agree, and nothing stays held
	// beyond what was used.
	if c := e.usage("consumer=team-busy").Total; c != tot {
		t.Fatalf("consumer total %+v, key total %+v", c, tot)
	}
	day, month := ledger.Day(e.clock.Now()), ledger.Month(e.clock.Now())
	held, err := e.st.Held(context.Background(), ledger.Bucket{Subject: "key#" + k.ID, Name: "spend-month#" + month + "#*"})
	if err != nil || held != int64(cost) {
		t.Fatalf("spend held %d (%v), want the settled %d", held, err, cost)
	}
	held, err = e.st.Held(context.Background(), ledger.Bucket{Subject: "key#" + k.ID, Name: "tokens-day#" + day + "#*"})
	if err != nil || held != tot.InputTokens+tot.OutputTokens {
		t.Fatalf("tokens held %d (%v), want the settled %d", held, err, tot.InputTokens+tot.OutputTokens)
	}
}

// TestBudgetOvershootBoundedWithoutMaxTokens: requests that set no max
// tokens reserve the policy's default (2 output tokens here), and the mock
// answers with more (reasoning included), so the budget can be passed, but
// by no more than the admitted requests' excess over their reservations.
func TestBudgetOvershootBoundedWithoutMaxTokens(t *testing.T) {
	e := newLedgerEnv(t, ledgerOpts{policy: fmt.Sprintf(budgetPolicy, 2)})
	k := e.key("loose", "", ledger.Limits{})
	body := func(i int) string {
		return chatBody("gpt-4o", fmt.Sprintf("question number %d", i), `,"reasoning_effort":"low"`)
	}
	reserved := func(b string) int64 { return ledger.EstimateBody([]byte(b)).Input + 2 }
	res := fire(t, e, k.Key, 200, body, reserved)
	tot := e.usage("key=" + k.ID).Total
	t.Logf("200 concurrent: %d admitted, %d refused; spent $%.3f of $1.50; admitted excess %d tokens", res.ok, res.refused, tot.CostMicros.USD(), res.excess)
	if tot.InputTokens != res.input || tot.OutputTokens != res.output || tot.Requests != int64(res.ok) {
		t.Fatalf("ledger %+v, providers reported %d requests, %d input, %d output", tot, res.ok, res.input, res.output)
	}
	if res.excess == 0 || res.refused == 0 {
		t.Fatalf("the test needs answers larger than reservations and some refusals: excess %d, refused %d", res.excess, res.refused)
	}
	if over := tot.CostMicros - ledger.MicrosOf(1.5); over > ledger.Micros(res.excess*1000) {
		t.Fatalf("overshoot $%.4f is more than the admitted requests' excess ($%.4f)", over.USD(), float64(res.excess)/1000)
	}
}
