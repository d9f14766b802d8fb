package route

import "time"

// Cache is the CachePolicy in force on a rule, compiled: what the gateway
// needs to look answers up and store them. Scope names the rule
// (namespace/name/index) so that no two rules share entries.
type Cache struct {
	Policy string `json:"policy"` // namespace/name of the CachePolicy
	Scope  string `json:"scope"`
	// Exact and Semantic say which lookups run (mode exact, semantic or both).
	Exact    bool `json:"exact,omitempty"`
	Semantic bool `json:"semantic,omitempty"`
	// TTL is how long an answer is kept; MaxBytes bounds a stored answer.
	TTL      time.Duration `json:"ttl"`
	MaxBytes int           `json:"maxBytes"`
	// PerConsumer and PerKey narrow the scope to the consumer or the key.
	PerConsumer bool `json:"perConsumer,omitempty"`
	PerKey      bool `json:"perKey,omitempty"`
	// Allow* admit what is not cached by default: requests sampled above
	// temperature zero, answers cut at the token limit, tool calls.
	AllowTemperature bool `json:"allowTemperature,omitempty"`
	AllowLengthCut   bool `json:"allowLengthCut,omitempty"`
	AllowToolCalls   bool `json:"allowToolCalls,omitempty"`
	// The semantic lookup's settings: the cosine similarity needed, the
	// AIBackend that embeds, the text compared (Turns 0: the last user
	// turn; else the last Turns messages), and how long the embedding
	// call may take.
	Threshold        float64       `json:"threshold,omitempty"`
	EmbeddingBackend string        `json:"embeddingBackend,omitempty"`
	EmbeddingModel   string        `json:"embeddingModel,omitempty"`
	Turns            int           `json:"turns,omitempty"`
	EmbeddingBudget  time.Duration `json:"embeddingBudget,omitempty"`
}
