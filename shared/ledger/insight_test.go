package ledger

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

func TestInsightRows(t *testing.T) {
	at := time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC)
	u := api.Usage{InputTokens: 10, OutputTokens: 4, CachedTokens: 2, ReasoningTokens: 1}
	tests := []struct {
		name string
		s    Settlement
		want []BatchRow
	}{
		{"no route, no error", Settlement{At: at, Usage: u}, nil},
		{"a route", Settlement{At: at, Usage: u, Cost: 9, Route: "default/chat"}, []BatchRow{
			{RoutesSubject, UsageRow{Day: "2026-11-27", Model: "default/chat", Requests: 1, InputTokens: 10, OutputTokens: 4, CachedTokens: 2, ReasoningTokens: 1, CostMicros: 9}},
		}},
		{"a failure before any token", Settlement{At: at, NoUsage: true, Route: "default/chat", ErrorKind: "upstream_error"}, []BatchRow{
			{RoutesSubject, UsageRow{Day: "2026-11-27", Model: "default/chat", Requests: 1}},
			{ErrorsSubject, UsageRow{Day: "2026-11-27", Model: "upstream_error", Requests: 1}},
		}},
		{"a stream cut after tokens", Settlement{At: at, Usage: u, Cost: 9, Route: "r", ErrorKind: "client_closed", Estimated: true}, []BatchRow{
			{RoutesSubject, UsageRow{Day: "2026-11-27", Model: "r", Requests: 1, InputTokens: 10, OutputTokens: 4, CachedTokens: 2, ReasoningTokens: 1, CostMicros: 9}},
			{ErrorsSubject, UsageRow{Day: "2026-11-27", Model: "client_closed", Requests: 1}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InsightRows(tt.s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A batched key's failed requests count under their route and error kind,
// and not in the key's usage.
func TestBatchedInsight(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	b := &batchBudgets{memBudgets: memBudgets{held: map[Bucket]int64{}, settled: map[string]Settlement{}}}
	l := NewLimiter(LimiterConfig{Now: func() time.Time { return now }, BatchUsage: time.Hour}, nil, b)
	ok := Outcome{Usage: api.Usage{InputTokens: 3, OutputTokens: 4, Reported: true}, Started: true}
	failed := Outcome{ErrorKind: "upstream_error"}
	for i, o := range []Outcome{ok, ok, failed} {
		tk, err := l.Admit(context.Background(), Request{ID: "r" + string(rune('0'+i)), Key: Key{ID: "k"}, Model: "m", Route: "default/chat"})
		if err != nil {
			t.Fatal(err)
		}
		tk.Settle(context.Background(), o)
	}
	l.Close()
	got := map[string]UsageRow{}
	for _, batch := range b.batches {
		for _, r := range batch {
			got[r.Subject+" "+r.Usage.Model] = r.Usage
		}
	}
	want := map[string]UsageRow{
		"key#k m":               {Day: "2026-11-27", Model: "m", Requests: 2, InputTokens: 6, OutputTokens: 8},
		"all m":                 {Day: "2026-11-27", Model: "m", Requests: 2, InputTokens: 6, OutputTokens: 8},
		"routes default/chat":   {Day: "2026-11-27", Model: "default/chat", Requests: 3, InputTokens: 6, OutputTokens: 8},
		"errors upstream_error": {Day: "2026-11-27", Model: "upstream_error", Requests: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batched rows\n got %+v\nwant %+v", got, want)
	}
}
