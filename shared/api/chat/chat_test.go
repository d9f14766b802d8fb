package chat

import (
	"testing"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/json"
)

func TestUsageOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   api.Usage
		want string
	}{
		{"plain", api.Usage{InputTokens: 12, OutputTokens: 30, Reported: true},
			`{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0}}`},
		{"cache reads and writes", api.Usage{InputTokens: 60, OutputTokens: 5, CachedTokens: 30, CacheWriteTokens: 20, Reported: true},
			`{"prompt_tokens":60,"completion_tokens":5,"total_tokens":65,"prompt_tokens_details":{"cached_tokens":30,"cache_write_tokens":20}}`},
		{"reasoning counted apart", api.Usage{InputTokens: 20, OutputTokens: 15, CachedTokens: 8, ReasoningTokens: 5, Reported: true},
			`{"prompt_tokens":20,"completion_tokens":15,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":5}}`},
		{"nothing reported", api.Usage{},
			`{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(UsageOf(tc.in))
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}
