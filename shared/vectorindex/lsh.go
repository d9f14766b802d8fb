package vectorindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// lsh is random-hyperplane locality-sensitive hashing: two unit vectors at
// angle θ agree on one hyperplane's side with probability 1-θ/π, so near
// vectors share a table's bucket far more often than others do. Every key
// of a scope carries the scope hash as its hash tag: one slot, so a
// lookup's pipelines work on a cluster too.
type lsh struct {
	cfg    Config
	planes sync.Map // dims → []float32, Tables*Bits hyperplanes of dims each
}

func newLSH(cfg Config) *lsh { return &lsh{cfg: cfg} }

// hyperplanes returns the fixed hyperplanes for vectors of dims
// dimensions: drawn from a generator seeded with the seed and dims, so
// every gateway draws the same ones without sharing them.
func (l *lsh) hyperplanes(dims int) []float32 {
	if p, ok := l.planes.Load(dims); ok {
		return p.([]float32)
	}
	r := rand.New(rand.NewPCG(l.cfg.Seed, uint64(dims)))
	p := make([]float32, l.cfg.Tables*l.cfg.Bits*dims)
	for i := range p {
		p[i] = float32(r.NormFloat64())
	}
	got, _ := l.planes.LoadOrStore(dims, p)
	return got.([]float32)
}

// buckets returns vec's bucket in each table.
func (l *lsh) buckets(vec []float32) []uint32 {
	dims := len(vec)
	p := l.hyperplanes(dims)
	out := make([]uint32, l.cfg.Tables)
	for t := range out {
		var b uint32
		for k := range l.cfg.Bits {
			off := (t*l.cfg.Bits + k) * dims
			if dot(vec, p[off:off+dims]) >= 0 {
				b |= 1 << k
			}
		}
		out[t] = b
	}
	return out
}

func (l *lsh) bucketKey(prefix, sh string, dims, table int, bucket uint32) string {
	return prefix + ":{" + sh + "}:b:" + strconv.Itoa(dims) + ":" + strconv.Itoa(table) + ":" + strconv.FormatUint(uint64(bucket), 16)
}

func vectorKey(prefix, sh string, dims int, id string) string {
	return prefix + ":{" + sh + "}:v:" + strconv.Itoa(dims) + ":" + id
}

// add writes the record and puts its id in one bucket per table. A
// bucket is a sorted set scored by each member's expiry: expired and
// excess members are trimmed as new ones come, and the set itself
// expires with its newest member.
func (l *lsh) add(ctx context.Context, c redis.UniversalClient, prefix, sh string, vec []float32, entry string, ttl time.Duration, now time.Time) error {
	pipe := c.Pipeline()
	l.queueAdd(ctx, pipe, prefix, sh, vec, entry, ttl, now)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("vectorindex: add: %w", err)
	}
	return nil
}

func (l *lsh) queueAdd(ctx context.Context, pipe redis.Pipeliner, prefix, sh string, vec []float32, entry string, ttl time.Duration, now time.Time) {
	id := entryID(entry)
	exp := float64(now.Add(ttl).UnixMilli())
	past := "(" + strconv.FormatInt(now.UnixMilli(), 10)
	pipe.Set(ctx, vectorKey(prefix, sh, len(vec), id), encodeRecord(vec, entry), ttl)
	for t, b := range l.buckets(vec) {
		k := l.bucketKey(prefix, sh, len(vec), t, b)
		pipe.ZAdd(ctx, k, redis.Z{Score: exp, Member: id})
		pipe.ZRemRangeByScore(ctx, k, "-inf", past)
		pipe.ZRemRangeByRank(ctx, k, 0, int64(-l.cfg.MaxBucket-1))
		pipe.PExpire(ctx, k, ttl)
	}
}

// nearest reads the newest live ids of vec's buckets (one round trip),
// keeps the ids that share the most buckets with vec, up to
// MaxCandidates, fetches their vectors (a second round trip) and returns
// the most similar at or above threshold.
func (l *lsh) nearest(ctx context.Context, c redis.UniversalClient, prefix, sh string, vec []float32, threshold float32, now time.Time) (string, float32, error) {
	dims := len(vec)
	nowMS := strconv.FormatInt(now.UnixMilli(), 10)
	pipe := c.Pipeline()
	cmds := make([]*redis.StringSliceCmd, l.cfg.Tables)
	for t, b := range l.buckets(vec) {
		cmds[t] = pipe.ZRevRangeByScore(ctx, l.bucketKey(prefix, sh, dims, t, b),
			&redis.ZRangeBy{Max: "+inf", Min: nowMS, Count: int64(l.cfg.PerBucket)})
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return "", 0, fmt.Errorf("vectorindex: lookup: %w", err)
	}
	type cand struct {
		id    string
		votes int
		order int
	}
	var cands []cand
	seen := make(map[string]int)
	for _, cmd := range cmds {
		for _, id := range cmd.Val() {
			if i, ok := seen[id]; ok {
				cands[i].votes++
				continue
			}
			seen[id] = len(cands)
			cands = append(cands, cand{id: id, votes: 1, order: len(cands)})
		}
	}
	if len(cands) == 0 {
		return "", 0, nil
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.votes != b.votes {
			return b.votes - a.votes
		}
		return a.order - b.order
	})
	cands = cands[:min(len(cands), l.cfg.MaxCandidates)]
	keys := make([]string, len(cands))
	for i, cd := range cands {
		keys[i] = vectorKey(prefix, sh, dims, cd.id)
	}
	vals, err := c.MGet(ctx, keys...).Result()
	if err != nil {
		return "", 0, fmt.Errorf("vectorindex: lookup: %w", err)
	}
	best, bestSim := "", float32(-2)
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // expired since the bucket was read
		}
		stored, entry, ok := decodeRecord([]byte(s), dims)
		if !ok {
			continue
		}
		if sim := dot(vec, stored); sim > bestSim {
			best, bestSim = entry, sim
		}
	}
	if best == "" || bestSim < threshold {
		return "", 0, nil
	}
	return best, min(bestSim, 1), nil
}
