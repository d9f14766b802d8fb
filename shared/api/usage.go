package api

// Usage is what one exchange cost, in the provider's own figures. The
// gateway's ledger settles budgets with it, so every translator fills it
// from the provider's response (or stream) and nothing else.
type Usage struct {
	InputTokens     int64 // prompt tokens, cached ones included
	OutputTokens    int64 // completion tokens, reasoning ones included
	CachedTokens    int64 // input tokens served from the provider's prompt cache
	ReasoningTokens int64 // output tokens spent on reasoning
	// Reported is true once the provider has sent usage figures; when it
	// stays false the ledger must estimate and say so.
	Reported bool
}

// Total is input plus output tokens.
func (u Usage) Total() int64 { return u.InputTokens + u.OutputTokens }
