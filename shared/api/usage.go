package api

// Usage is what one exchange cost, in the provider's own figures. The
// gateway's ledger settles budgets with it, so every translator fills it
// from the provider's response (or stream) and nothing else. It is also
// the one meeting point of usage figures: each provider reads its own into
// a Usage, and chat.UsageOf and messages.UsageOf write it for the client.
type Usage struct {
	InputTokens      int64 // prompt tokens, cached ones and cache writes included
	OutputTokens     int64 // completion tokens, reasoning ones included
	CachedTokens     int64 // input tokens served from the provider's prompt cache
	CacheWriteTokens int64 // input tokens written to the provider's prompt cache
	// ReasoningTokens are the output tokens spent on reasoning, for
	// providers that count them apart; 0 for the others.
	ReasoningTokens int64
	// Reported is true once the provider has sent usage figures; when it
	// stays false the ledger must estimate and say so.
	Reported bool
}

// Total is input plus output tokens.
func (u Usage) Total() int64 { return u.InputTokens + u.OutputTokens }
