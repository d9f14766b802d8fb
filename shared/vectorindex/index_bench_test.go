package vectorindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/servertest"
)

// BenchmarkLSHNearest100k measures one lookup (a paraphrase of a stored
// question, so a hit) in a scope holding 100,000 entries of 256
// dimensions, on a redis-server of its own over loopback, and reports the
// p50 and p99 of the lookups' durations.
func BenchmarkLSHNearest100k(b *testing.B) {
	const n, dims = 100_000, 256
	rs := servertest.OwnRedis(b)
	c := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer c.Close()
	ctx := context.Background()
	x, err := Open(ctx, c, Config{Search: "lsh"})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	stored := make([][]float32, n)
	now := time.Now()
	sh := scopeHash("bench")
	for i := 0; i < n; i += 1000 {
		pipe := c.Pipeline()
		for j := i; j < i+1000; j++ {
			stored[j] = randomVector(r, dims)
			x.lsh.queueAdd(ctx, pipe, x.cfg.Prefix, sh, stored[j], fmt.Sprintf("entry-%d", j), time.Hour, now)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	queries := make([][]float32, 1024)
	for i := range queries {
		queries[i] = near(r, stored[r.IntN(n)], 0.97)
	}
	var took []time.Duration
	hits := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		entry, _, err := x.Nearest(ctx, "bench", queries[i%len(queries)], 0.95)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if entry != "" {
			hits++
		}
		i++
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(hits)/float64(len(took)), "hit-ratio")
}
