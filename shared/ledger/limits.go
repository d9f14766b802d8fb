package ledger

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Limits caps what a key or a consumer may spend. Zero fields are no limit.
// Requests and tokens per minute are counted in Redis windows (fixed,
// one-minute, UTC-aligned); tokens per day and month and the spend budget
// are durable counters in the ledger table (UTC days and calendar months).
type Limits struct {
	RequestsPerMinute int64 `json:"requestsPerMinute,omitempty"`
	TokensPerMinute   int64 `json:"tokensPerMinute,omitempty"`
	TokensPerDay      int64 `json:"tokensPerDay,omitempty"`
	TokensPerMonth    int64 `json:"tokensPerMonth,omitempty"`
	// BudgetUSD caps spend per calendar month, priced from the price table.
	BudgetUSD float64 `json:"budgetUSD,omitempty"`
	// Models holds limits that apply to one model only, on top of the
	// limits above (which count every model together).
	Models map[string]Limits `json:"models,omitempty"`
}

// IsZero reports whether l limits nothing.
func (l *Limits) IsZero() bool {
	return l.RequestsPerMinute == 0 && l.TokensPerMinute == 0 && l.TokensPerDay == 0 &&
		l.TokensPerMonth == 0 && l.BudgetUSD == 0 && len(l.Models) == 0
}

// Validate reports the first bad value, naming its field.
func (l *Limits) Validate() error {
	if err := l.validateOne(""); err != nil {
		return err
	}
	names := make([]string, 0, len(l.Models))
	for m := range l.Models {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		ml := l.Models[m]
		if m == "" {
			return errors.New("models: a model name is empty")
		}
		if len(ml.Models) > 0 {
			return fmt.Errorf("models.%s.models: per-model limits do not nest", m)
		}
		if err := ml.validateOne("models." + m + "."); err != nil {
			return err
		}
	}
	return nil
}

func (l *Limits) validateOne(prefix string) error {
	for _, f := range []struct {
		name string
		v    int64
	}{{"requestsPerMinute", l.RequestsPerMinute}, {"tokensPerMinute", l.TokensPerMinute},
		{"tokensPerDay", l.TokensPerDay}, {"tokensPerMonth", l.TokensPerMonth}} {
		if f.v < 0 {
			return fmt.Errorf("%s%s: must not be negative, got %d", prefix, f.name, f.v)
		}
	}
	if l.BudgetUSD < 0 || math.IsNaN(l.BudgetUSD) || math.IsInf(l.BudgetUSD, 0) {
		return fmt.Errorf("%sbudgetUSD: must be a non-negative number, got %v", prefix, l.BudgetUSD)
	}
	return nil
}

// Price is what a model costs, in USD per million tokens. Cached is the
// price of input tokens served from the provider's prompt cache; zero means
// the input price.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
	Cached float64 `json:"cached,omitempty"`
}

// DefaultPrices are list prices (USD per million tokens) of a few
// well-known models, as published by their providers in 2025. A
// TokenLimitPolicy's prices override them per model; a model in neither
// costs nothing, so spend budgets do not limit it.
var DefaultPrices = map[string]Price{
	"gpt-4o":            {Input: 2.50, Output: 10.00, Cached: 1.25},
	"gpt-4o-mini":       {Input: 0.15, Output: 0.60, Cached: 0.075},
	"gpt-4.1":           {Input: 2.00, Output: 8.00, Cached: 0.50},
	"gpt-4.1-mini":      {Input: 0.40, Output: 1.60, Cached: 0.10},
	"o3":                {Input: 2.00, Output: 8.00, Cached: 0.50},
	"o4-mini":           {Input: 1.10, Output: 4.40, Cached: 0.275},
	"claude-sonnet-4-5": {Input: 3.00, Output: 15.00, Cached: 0.30},
	"claude-haiku-4-5":  {Input: 1.00, Output: 5.00, Cached: 0.10},
	"claude-opus-4-1":   {Input: 15.00, Output: 75.00, Cached: 1.50},
	"gemini-2.5-pro":    {Input: 1.25, Output: 10.00, Cached: 0.31},
	"gemini-2.5-flash":  {Input: 0.30, Output: 2.50, Cached: 0.075},
	// Embedding models, which the semantic cache calls on a key's behalf.
	"text-embedding-3-small": {Input: 0.02},
	"text-embedding-3-large": {Input: 0.13},
}

// Micros is an amount of money in millionths of a US dollar; a price in
// USD per million tokens times a token count is Micros.
type Micros int64

// USD is m in dollars.
func (m Micros) USD() float64 { return float64(m) / 1e6 }

// MicrosOf converts dollars to Micros, rounding down.
func MicrosOf(usd float64) Micros { return Micros(math.Floor(usd * 1e6)) }

// Cost prices a usage: uncached input, cached input and output tokens.
func (p Price) Cost(input, cached, output int64) Micros {
	if cached > input {
		cached = input
	}
	cp := p.Cached
	if cp == 0 {
		cp = p.Input
	}
	return Micros(math.Ceil(float64(input-cached)*p.Input + float64(cached)*cp + float64(output)*p.Output))
}

// Policy is a compiled TokenLimitPolicy: limits for every key and every
// consumer that send requests through the routes it is attached to, and
// the prices that override the defaults there.
type Policy struct {
	Name     string           `json:"name"` // namespace/name
	Key      Limits           `json:"key,omitzero"`
	Consumer Limits           `json:"consumer,omitzero"`
	Prices   map[string]Price `json:"prices,omitempty"`
	// DefaultMaxTokens is reserved for the output of a request that sets
	// no max tokens; zero means the limiter's default.
	DefaultMaxTokens int64 `json:"defaultMaxTokens,omitempty"`
}
