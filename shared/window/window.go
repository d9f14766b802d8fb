// Package window keeps the ledger's rate windows in Redis (or Valkey): one
// Lua script checks every counter of a request against its limit and adds
// the request's cost to all of them, or to none, in one round trip.
package window

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/ledger"
)

// Redis is a ledger.WindowStore over a go-redis client. After a failure
// it answers ErrDown at once for a second instead of waiting on Redis
// again, so a down Redis costs requests no time when limits fail open.
type Redis struct {
	c    redis.UniversalClient
	down atomic.Int64 // unix nanoseconds until which Redis is taken as down
	now  func() time.Time
}

var _ ledger.WindowStore = (*Redis)(nil)

// ErrDown is returned while a recent failure says Redis is down.
var ErrDown = errors.New("window: redis is down (recent failure)")

// downFor is how long a failure keeps Redis marked down.
const downFor = time.Second

// New returns a window store over c.
func New(c redis.UniversalClient) *Redis { return &Redis{c: c, now: time.Now} }

// NewClient connects to a Redis URL with the short timeouts rate limiting
// wants: a limiter that waits seconds on a dead Redis is worse than none.
// go-redis's own log lines (dial failures, pool notes) go to log at debug
// level rather than to stderr, since the limiter already reports Redis
// trouble, once per interval; go-redis keeps one logger per process, so
// the last client made with a non-nil log sets it for all.
func NewClient(url string, log *slog.Logger) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("window: redis URL: %w", err)
	}
	if log != nil {
		redis.SetLogger(redisLog{log})
	}
	opt.DialTimeout = 250 * time.Millisecond
	opt.ReadTimeout = 250 * time.Millisecond
	opt.WriteTimeout = 250 * time.Millisecond
	opt.MaxRetries = 1
	// go-redis dials up to five times, 100 ms apart, before a command
	// fails: with Redis down that would hold a request for about a second
	// before limits fail open. One quick retry is enough; the limiter then
	// skips Redis for a while.
	opt.DialerRetries = 1
	opt.DialerRetryTimeout = 10 * time.Millisecond
	return redis.NewClient(opt), nil
}

func (r *Redis) isDown() bool { return r.now().UnixNano() < r.down.Load() }

func (r *Redis) failed(err error) error {
	if err != nil && !errors.Is(err, context.Canceled) {
		r.down.Store(r.now().Add(downFor).UnixNano())
	}
	return err
}

// take: KEYS are the counters; ARGV[1] is the TTL in milliseconds, then a
// limit and a cost per key. It answers {1, counts after...} when every
// counter fits, else {0, counts as they stand...} and changes nothing.
var take = redis.NewScript(`
local n = #KEYS
local cur = {}
local fits = 1
for i = 1, n do
  cur[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  if cur[i] + tonumber(ARGV[2*i+1]) > tonumber(ARGV[2*i]) then fits = 0 end
end
if fits == 0 then
  table.insert(cur, 1, 0)
  return cur
end
local out = {1}
for i = 1, n do
  out[i+1] = redis.call('INCRBY', KEYS[i], ARGV[2*i+1])
  if out[i+1] == tonumber(ARGV[2*i+1]) then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return out
`)

// add: KEYS are counters, ARGV[1] the TTL in milliseconds, then a delta per
// key. Counters that expired are left alone.
var add = redis.NewScript(`
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[i+1]) end
end
return 1
`)

// Take implements ledger.WindowStore.
func (r *Redis) Take(ctx context.Context, keys []string, limits, costs []int64, ttl time.Duration) (bool, []int64, error) {
	if len(keys) == 0 {
		return true, nil, nil
	}
	if r.isDown() {
		return false, nil, ErrDown
	}
	args := make([]any, 0, 1+2*len(keys))
	args = append(args, ttl.Milliseconds())
	for i := range keys {
		args = append(args, limits[i], costs[i])
	}
	res, err := take.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return false, nil, fmt.Errorf("window: take: %w", r.failed(err))
	}
	if len(res) != len(keys)+1 {
		return false, nil, errors.New("window: take: unexpected answer of " + strconv.Itoa(len(res)) + " values")
	}
	return res[0] == 1, res[1:], nil
}

// Add implements ledger.WindowStore.
func (r *Redis) Add(ctx context.Context, keys []string, deltas []int64, ttl time.Duration) error {
	if len(keys) == 0 {
		return nil
	}
	if r.isDown() {
		return ErrDown
	}
	args := make([]any, 0, 1+len(keys))
	args = append(args, ttl.Milliseconds())
	for _, d := range deltas {
		args = append(args, d)
	}
	if err := add.Run(ctx, r.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("window: add: %w", r.failed(err))
	}
	return nil
}

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	if l.log.Enabled(ctx, slog.LevelDebug) {
		l.log.DebugContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
	}
}
