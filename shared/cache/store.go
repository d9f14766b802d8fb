package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps entries in Redis or Valkey (ElastiCache Serverless in AWS).
// Redis is an accelerator: each call waits at most Wait, a failure marks
// Redis down for a second so that requests skip it at no cost, and trouble
// is counted and logged once per LogEvery, never once per request.
type Redis struct {
	c   redis.UniversalClient
	cfg StoreConfig

	down     atomic.Int64 // unix nanoseconds until which Redis is taken as down
	failures atomic.Int64 // calls that failed or were skipped, all time
	corrupt  atomic.Int64 // entries read that did not decode, all time
	logged   atomic.Int64 // failures already reported in a log line
	nextLog  atomic.Int64 // unix nanoseconds before which no line is logged
}

// StoreConfig holds the store's settings; zero values mean the defaults noted.
type StoreConfig struct {
	// Wait bounds each Redis call (default DefaultWait): past it the
	// request goes on without the cache.
	Wait time.Duration
	// LogEvery is the least time between two log lines about Redis
	// trouble (default one minute).
	LogEvery time.Duration
	// Logger receives those lines; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultWait is how long a cache call waits on Redis when StoreConfig
// sets no Wait: a lookup that takes longer than a short answer's
// overhead is not worth waiting for.
const DefaultWait = 50 * time.Millisecond

// downFor is how long a failure keeps Redis marked down.
const downFor = time.Second

// ErrDown is returned, without calling Redis, while a recent failure says
// it is down.
var ErrDown = errors.New("cache: redis is down (recent failure)")

// NewRedis returns a store over c, a client the mains already made for the
// rate windows.
func NewRedis(c redis.UniversalClient, cfg StoreConfig) *Redis {
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Redis{c: c, cfg: cfg}
}

// Get returns the entry stored under key. ok is false on a miss, on a
// corrupt entry (counted) and on any Redis failure (counted, and
// returned as err for callers that tell them apart).
func (r *Redis) Get(ctx context.Context, key string) (e Entry, ok bool, err error) {
	if r.isDown() {
		return e, false, r.failed(ErrDown)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Wait)
	defer cancel()
	b, err := r.c.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return e, false, nil
	case err != nil:
		return e, false, r.failed(fmt.Errorf("cache: get: %w", err))
	}
	e, err = Decode(b)
	if err != nil {
		r.corrupt.Add(1)
		return e, false, nil
	}
	return e, true, nil
}

// Set stores e under key for ttl.
func (r *Redis) Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	if r.isDown() {
		return r.failed(ErrDown)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Wait)
	defer cancel()
	if err := r.c.Set(ctx, key, e.Encode(nil), ttl).Err(); err != nil {
		return r.failed(fmt.Errorf("cache: set: %w", err))
	}
	return nil
}

// Stats are the store's counts since it was made.
type Stats struct {
	Failures int64 // calls that failed, timed out or were skipped as Redis was down
	Corrupt  int64 // entries that did not decode, served as misses
}

// Stats returns the counts so far.
func (r *Redis) Stats() Stats {
	return Stats{Failures: r.failures.Load(), Corrupt: r.corrupt.Load()}
}

func (r *Redis) isDown() bool { return r.cfg.Now().UnixNano() < r.down.Load() }

// failed counts err, marks Redis down unless the caller went away, and
// logs at most one line per LogEvery with the failures since the last.
func (r *Redis) failed(err error) error {
	n := r.failures.Add(1)
	if errors.Is(err, context.Canceled) {
		return err
	}
	now := r.cfg.Now()
	if !errors.Is(err, ErrDown) {
		r.down.Store(now.Add(downFor).UnixNano())
	}
	next := r.nextLog.Load()
	if now.UnixNano() < next || !r.nextLog.CompareAndSwap(next, now.Add(r.cfg.LogEvery).UnixNano()) {
		return err
	}
	since := n - r.logged.Swap(n)
	r.cfg.Logger.Warn("response cache unavailable: serving without it",
		slog.Int64("failures", since), slog.String("error", err.Error()))
	return err
}
