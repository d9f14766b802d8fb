package vectorindex

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/window"
)

// Start opens the semantic cache's index for a main: in the Valkey at url
// when set (the stack's vector search cluster), else on shared, the Redis
// the windows and answers use; nil when there is neither. search "lsh"
// forces LSH buckets, anything else asks the server, within a second, for
// vector search. A server that cannot be asked gets LSH, which works on
// any Redis, and the reason is logged rather than stopping the start.
func Start(ctx context.Context, url string, shared *redis.Client, search string, log *slog.Logger) (*Index, error) {
	c := shared
	if url != "" {
		var err error
		if c, err = window.NewClient(url, log); err != nil {
			return nil, err
		}
	}
	if c == nil {
		return nil, nil
	}
	if search != "lsh" {
		search = ""
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	idx, err := Open(ctx, c, Config{Search: search})
	if err != nil {
		log.Warn("vector search could not be detected: the semantic cache uses LSH", slog.String("error", err.Error()))
	}
	log.Debug("semantic cache index", slog.String("mode", idx.Mode()))
	return idx, nil
}
