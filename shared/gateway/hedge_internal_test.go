package gateway

import (
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

// TestHedgeUsage: cancelled hedges are billed the prompt they sent.
func TestHedgeUsage(t *testing.T) {
	tests := []struct {
		lost int
		in   api.Usage
		want api.Usage
	}{
		{0, api.Usage{InputTokens: 10, OutputTokens: 5, Reported: true}, api.Usage{InputTokens: 10, OutputTokens: 5, Reported: true}},
		{1, api.Usage{InputTokens: 10, OutputTokens: 5, CachedTokens: 2, Reported: true}, api.Usage{InputTokens: 20, OutputTokens: 5, CachedTokens: 4, Reported: true}},
		{2, api.Usage{InputTokens: 10, OutputTokens: 5, Reported: true}, api.Usage{InputTokens: 30, OutputTokens: 5, Reported: true}},
		{1, api.Usage{}, api.Usage{}}, // nothing reported: the ledger estimates
	}
	for _, tt := range tests {
		ex := &exchange{hedgeLost: tt.lost}
		if got := ex.hedgeUsage(tt.in); got != tt.want {
			t.Errorf("%d lost, %+v: %+v, want %+v", tt.lost, tt.in, got, tt.want)
		}
	}
}
