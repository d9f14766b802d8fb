package messages

import (
	"reflect"
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

func TestUsageOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   api.Usage
		want Usage
	}{
		{"plain", api.Usage{InputTokens: 12, OutputTokens: 30, Reported: true}, Usage{InputTokens: 12, OutputTokens: 30}},
		{"cache reads and writes leave input_tokens",
			api.Usage{InputTokens: 1225, OutputTokens: 15, CachedTokens: 1000, CacheWriteTokens: 200, Reported: true},
			Usage{InputTokens: 25, OutputTokens: 15, CacheReadInputTokens: 1000, CacheCreationInputTokens: 200}},
		{"reasoning stays in the output", api.Usage{InputTokens: 9, OutputTokens: 6, CachedTokens: 3, ReasoningTokens: 4, Reported: true},
			Usage{InputTokens: 6, OutputTokens: 6, CacheReadInputTokens: 3}},
		{"more cached than sent is no input", api.Usage{InputTokens: 30, CachedTokens: 40, CacheWriteTokens: 5, Reported: true},
			Usage{CacheReadInputTokens: 40, CacheCreationInputTokens: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := UsageOf(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
