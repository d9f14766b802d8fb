package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

// TestCacheHitCostsNothingAndRecordsSavings: a request the cache answered
// settles to zero tokens and zero cost, with what it saved beside, priced
// as the request would have been; the rate windows still count it.
func TestCacheHitCostsNothingAndRecordsSavings(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	l, w, b := newTestLimiter(now)
	policy := &Policy{Key: Limits{BudgetUSD: 1, RequestsPerMinute: 10}, Prices: map[string]Price{"gpt-4o": {Input: 1000, Output: 2000}}}
	tk, err := l.Admit(context.Background(), Request{ID: "r1", Key: Key{ID: "k1"}, Model: "gpt-4o",
		Body: []byte(`{"model":"gpt-4o","max_tokens":10,"messages":[]}`), Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	saved := api.Usage{InputTokens: 30, OutputTokens: 12, Reported: true}
	if err := tk.Settle(context.Background(), Outcome{Usage: api.Usage{Reported: true}, Started: true, Saved: saved}); err != nil {
		t.Fatal(err)
	}
	s := b.settled["r1"]
	if s.Usage.Total() != 0 || s.Cost != 0 || s.Saved != saved || s.SavedCost != 30*1000+12*2000 {
		t.Fatalf("settlement %+v", s)
	}
	row := s.SettledRow()
	if row.Requests != 1 || row.CacheHits != 1 || row.SavedTokens != 42 || row.SavedCostMicros != 54000 || row.CostMicros != 0 {
		t.Fatalf("row %+v", row)
	}
	var counted int64
	for _, n := range w.counts {
		counted += n
	}
	if counted == 0 {
		t.Fatal("the rate windows did not count the request")
	}
	var sum UsageRow
	sum.Add(row)
	sum.Add(row)
	if sum.CacheHits != 2 || sum.SavedTokens != 84 || sum.SavedCostMicros != 108000 {
		t.Fatalf("sum %+v", sum)
	}
}
