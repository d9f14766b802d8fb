package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/vectorindex"
	"github.com/sluicegw/sluice/shared/window"
)

// newVectorIndex opens the semantic cache's index: in the Valkey of
// SLUICE_VECTOR_REDIS_URL when set (the stack's vector search cluster),
// else in the Redis the windows and answers share. A server that cannot
// be asked whether it has vector search gets LSH, which works on any.
func newVectorIndex(ctx context.Context, cfg gateway.Config, shared *redis.Client, log *slog.Logger) (*vectorindex.Index, error) {
	c := shared
	if cfg.VectorRedisURL != "" {
		var err error
		if c, err = window.NewClient(cfg.VectorRedisURL, log); err != nil {
			return nil, err
		}
	}
	if c == nil {
		return nil, nil
	}
	search := ""
	if cfg.VectorSearch == "lsh" {
		search = "lsh"
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	idx, err := vectorindex.Open(ctx, c, vectorindex.Config{Search: search})
	if err != nil {
		log.Warn("vector search could not be detected: the semantic cache uses LSH", slog.String("error", err.Error()))
	}
	log.Debug("semantic cache index", slog.String("mode", idx.Mode()))
	return idx, nil
}
