package ledger

import (
	"context"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

// WindowStore counts in fixed time windows: requests and tokens per minute.
// Redis implements it; each call names counters of one subject only, so a
// store may keep them together (one Redis cluster slot).
type WindowStore interface {
	// Take adds costs[i] to counter keys[i], for every i, if every counter
	// stays within limits[i]; otherwise it changes nothing. It returns
	// whether it took, and each counter's value after (or as it stands,
	// when refused). New counters expire after ttl.
	Take(ctx context.Context, keys []string, limits, costs []int64, ttl time.Duration) (ok bool, counts []int64, err error)
	// Add adds deltas to counters (settling or undoing a Take).
	Add(ctx context.Context, keys []string, deltas []int64, ttl time.Duration) error
}

// Bucket names a durable counter: whose (Subject: "key#<id>" or
// "consumer#<name>") and what (Name: metric, period and model).
type Bucket struct {
	Subject string
	Name    string
}

// BudgetStore keeps durable counters and usage records: DynamoDB in
// Sluice. Every method must be atomic per bucket.
type BudgetStore interface {
	// Reserve adds amount to the bucket's held total if the total stays
	// within limit, and returns whether it did and the total after (or as
	// it stands).
	Reserve(ctx context.Context, b Bucket, limit, amount int64) (ok bool, held int64, err error)
	// Release takes back a reservation that is not going to be settled.
	Release(ctx context.Context, b Bucket, amount int64) error
	// Settle records s once per request id: its usage and the adjustment
	// of its buckets, all or nothing. already is true when the request id
	// was settled before; nothing changes then.
	Settle(ctx context.Context, s Settlement) (already bool, err error)
}

// UsageStore reads recorded usage.
type UsageStore interface {
	// Usage returns a subject's rows ("key#<id>", "consumer#<name>" or
	// "all") for the UTC days from..to, inclusive (YYYY-MM-DD).
	Usage(ctx context.Context, subject, from, to string) ([]UsageRow, error)
}

// Settlement is what one request cost, to be recorded once.
type Settlement struct {
	RequestID string
	// Run identifies the admission that is settling (random): a store
	// tells its own earlier, committed try from another run's settle.
	Run      string
	KeyID    string
	Consumer string
	Model    string
	At       time.Time
	Usage    api.Usage
	Cost     Micros
	// Estimated is set when the provider reported nothing and the usage
	// was estimated from the request and the streamed text.
	Estimated bool
	// NoUsage is set when the request failed before any token flowed: only
	// the holds are adjusted (released).
	NoUsage bool
	Holds   []Hold
	// Route and ErrorKind are counted for the usage page (InsightRows).
	Route, ErrorKind string
	// Saved and SavedCost are what a cache hit saved (zero otherwise).
	Saved     api.Usage
	SavedCost Micros
}

// Hold adjusts a bucket's held total: the settled amount minus the
// reserved one.
type Hold struct {
	Bucket Bucket
	Delta  int64
}

// UsageRow is one subject's usage of one model on one UTC day.
type UsageRow struct {
	Day             string `json:"day,omitempty"`
	Model           string `json:"model,omitempty"`
	Requests        int64  `json:"requests"`
	InputTokens     int64  `json:"inputTokens"`
	OutputTokens    int64  `json:"outputTokens"`
	CachedTokens    int64  `json:"cachedTokens"`
	ReasoningTokens int64  `json:"reasoningTokens"`
	CostMicros      Micros `json:"costMicros"`
	// Estimated counts the requests whose usage was estimated.
	Estimated int64 `json:"estimated,omitempty"`
	// CacheHits counts the requests the response cache answered; they
	// cost nothing and saved SavedTokens tokens and SavedCostMicros.
	CacheHits       int64  `json:"cacheHits,omitempty"`
	SavedTokens     int64  `json:"savedTokens,omitempty"`
	SavedCostMicros Micros `json:"savedCostMicros,omitempty"`
}

// SettledRow is the usage row one settlement adds.
func (s *Settlement) SettledRow() UsageRow {
	row := s.Counts()
	row.Day, row.Model = Day(s.At), s.Model
	return row
}

// Counts is what one settlement adds to a usage row's counters, for
// callers that already know the row's day and model.
func (s *Settlement) Counts() UsageRow {
	row := UsageRow{Requests: 1, InputTokens: s.Usage.InputTokens,
		OutputTokens: s.Usage.OutputTokens, CachedTokens: s.Usage.CachedTokens,
		ReasoningTokens: s.Usage.ReasoningTokens, CostMicros: s.Cost}
	if s.Estimated {
		row.Estimated = 1
	}
	if s.Saved.Total() > 0 {
		row.CacheHits, row.SavedTokens, row.SavedCostMicros = 1, s.Saved.Total(), s.SavedCost
	}
	return row
}

// Day and Month name UTC periods as the ledger stores them.
func Day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func Month(t time.Time) string { return t.UTC().Format("2006-01") }
