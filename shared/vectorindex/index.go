// Package vectorindex finds, in Redis or Valkey, the stored entry whose
// vector is nearest a query vector, within one scope. It serves the
// semantic cache: an entry is a cache key, a vector is the embedding of the
// question that key answered.
//
// Plain Redis and ElastiCache Serverless have no vector search, so the
// default index is random-hyperplane LSH: each vector's sign pattern
// against fixed hyperplanes names one bucket per table, buckets are sorted
// sets of entry ids, and a lookup reads a bounded number of candidates
// from its buckets and checks each with exact cosine here, in the gateway.
// When the server answers Valkey's FT commands (valkey-search, ElastiCache
// for Valkey 8.2+ on node-based clusters), Open uses an HNSW index there
// instead. Either way the scope is hashed into every key, so one scope
// never reads another's entries, and every key has a TTL.
package vectorindex

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config tunes the index; zero fields take the defaults named below.
type Config struct {
	// Prefix starts every key (default "sluice:vx").
	Prefix string
	// Tables is the number of LSH tables (default 10) and Bits the
	// hyperplanes per table (default 14). More bits make buckets smaller
	// and lookups cheaper; more tables find near vectors more surely.
	Tables, Bits int
	// PerBucket is how many of a bucket's newest ids a lookup reads
	// (default 16), and MaxCandidates how many vectors it fetches and
	// checks (default 32): the bound on a lookup's cost whatever the
	// scope holds.
	PerBucket, MaxCandidates int
	// MaxBucket is how many ids a bucket keeps, newest first (default 512).
	MaxBucket int
	// Seed fixes the hyperplanes. Every gateway sharing a Redis must use
	// the same seed (the default, 0, is fine).
	Seed uint64
	// Search chooses the index: "" detects vector search at Open and uses
	// it when present, "lsh" always uses LSH.
	Search string
}

// Index is a vector index over one Redis client. It is safe for
// concurrent use.
type Index struct {
	c   redis.UniversalClient
	cfg Config
	now func() time.Time
	lsh *lsh
	ft  *search // nil unless the server has vector search
}

// Mode names the index in use: "lsh" or "valkey-search".
func (x *Index) Mode() string {
	if x.ft != nil {
		return "valkey-search"
	}
	return "lsh"
}

// Open returns an index over c, asking the server once whether it has
// vector search unless cfg.Search is "lsh". A server that cannot be
// asked (down, timing out) gets LSH, which works everywhere, and the
// error is returned beside the index for the caller to log.
func Open(ctx context.Context, c redis.UniversalClient, cfg Config) (*Index, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "sluice:vx"
	}
	cfg.Tables = orDefault(cfg.Tables, 10)
	cfg.Bits = min(orDefault(cfg.Bits, 14), 30)
	cfg.PerBucket = orDefault(cfg.PerBucket, 16)
	cfg.MaxCandidates = orDefault(cfg.MaxCandidates, 32)
	cfg.MaxBucket = orDefault(cfg.MaxBucket, 512)
	x := &Index{c: c, cfg: cfg, now: time.Now, lsh: newLSH(cfg)}
	switch cfg.Search {
	case "lsh":
		return x, nil
	case "":
	default:
		return nil, fmt.Errorf("vectorindex: unknown search %q (want \"\" or \"lsh\")", cfg.Search)
	}
	has, err := hasSearch(ctx, c)
	if has {
		x.ft = newSearch(cfg.Prefix)
	}
	return x, err
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Nearest returns the entry stored in scope whose vector is most similar
// (cosine) to vec, if that similarity is at least threshold; entry is ""
// when none is. Stored data that does not decode is skipped, never an
// error.
func (x *Index) Nearest(ctx context.Context, scope string, vec []float32, threshold float32) (entry string, similarity float32, err error) {
	q, ok := normalized(vec)
	if !ok {
		return "", 0, nil
	}
	sh := scopeHash(scope)
	if x.ft != nil {
		return x.ft.nearest(ctx, x.c, sh, q, threshold)
	}
	return x.lsh.nearest(ctx, x.c, x.cfg.Prefix, sh, q, threshold, x.now())
}

// Add stores entry under vec in scope for ttl. Adding the same entry again
// replaces its vector and renews its TTL.
func (x *Index) Add(ctx context.Context, scope string, vec []float32, entry string, ttl time.Duration) error {
	q, ok := normalized(vec)
	if !ok {
		return errors.New("vectorindex: add: the vector is empty, zero or not finite")
	}
	if ttl <= 0 || entry == "" {
		return errors.New("vectorindex: add: the entry must be named and the TTL positive")
	}
	sh := scopeHash(scope)
	if x.ft != nil {
		return x.ft.add(ctx, x.c, sh, q, entry, ttl)
	}
	return x.lsh.add(ctx, x.c, x.cfg.Prefix, sh, q, entry, ttl, x.now())
}

// scopeHash is the scope as it appears in keys: hashed, so keys reveal
// nothing of the scope and no scope can be named by guessing one.
func scopeHash(scope string) string {
	s := sha256.Sum256([]byte(scope))
	return hex.EncodeToString(s[:16])
}

// entryID names an entry inside its scope.
func entryID(entry string) string {
	s := sha256.Sum256([]byte(entry))
	return hex.EncodeToString(s[:12])
}

// normalized returns vec scaled to unit length, so that cosine is a dot
// product; ok is false for a vector with no direction.
func normalized(vec []float32) ([]float32, bool) {
	if len(vec) == 0 || len(vec) > math.MaxUint16 {
		return nil, false
	}
	var n float64
	for _, v := range vec {
		n += float64(v) * float64(v)
	}
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return nil, false
	}
	inv := 1 / math.Sqrt(n)
	out := make([]float32, len(vec))
	for i, v := range vec {
		out[i] = float32(float64(v) * inv)
	}
	return out, true
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// A stored record is version 1, the dimension count (uint16), the unit
// vector as little-endian float32s, then the entry.
const recordVersion = 1

func encodeRecord(vec []float32, entry string) []byte {
	b := make([]byte, 3, 3+4*len(vec)+len(entry))
	b[0] = recordVersion
	binary.LittleEndian.PutUint16(b[1:], uint16(len(vec)))
	b = appendVector(b, vec)
	return append(b, entry...)
}

func appendVector(b []byte, vec []float32) []byte {
	for _, v := range vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// decodeRecord reads a record whose vector has dims dimensions; ok is
// false for anything else (a truncated or foreign value).
func decodeRecord(b []byte, dims int) (vec []float32, entry string, ok bool) {
	if len(b) < 3 || b[0] != recordVersion || int(binary.LittleEndian.Uint16(b[1:])) != dims || len(b) < 3+4*dims {
		return nil, "", false
	}
	vec, ok = decodeVector(b[3:3+4*dims], dims)
	return vec, string(b[3+4*dims:]), ok
}

func decodeVector(b []byte, dims int) ([]float32, bool) {
	if len(b) != 4*dims {
		return nil, false
	}
	vec := make([]float32, dims)
	for i := range vec {
		v := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, false
		}
		vec[i] = v
	}
	return vec, true
}
