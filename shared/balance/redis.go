package balance

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis shares health marks between gateway instances in one Redis hash:
// backend name → the Unix millisecond until which it is unavailable. A
// mark only ever moves later, and the hash expires once every mark would
// have.
type Redis struct {
	c   redis.Cmdable
	key string
	now func() time.Time
}

// DefaultRedisKey is the hash that holds the marks.
const DefaultRedisKey = "sluice:balance:unavailable"

// NewRedis returns the marks in c (the client the gateway's rate windows
// use), under DefaultRedisKey. now is the clock (nil: time.Now).
func NewRedis(c redis.Cmdable, now func() time.Time) *Redis {
	if now == nil {
		now = time.Now
	}
	return &Redis{c: c, key: DefaultRedisKey, now: now}
}

// markScript sets a mark unless a later one is there, and keeps the hash
// as long as its newest mark.
var markScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if cur < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1`)

// Mark records that backend is unavailable until until.
func (r *Redis) Mark(ctx context.Context, backend string, until time.Time) error {
	ttl := until.Sub(r.now()).Milliseconds() + 1000
	if ttl <= 0 {
		return nil
	}
	if err := markScript.Run(ctx, r.c, []string{r.key}, backend, until.UnixMilli(), ttl).Err(); err != nil {
		return fmt.Errorf("balance: mark %s in redis: %w", backend, err)
	}
	return nil
}

// Load reads the marks still in force.
func (r *Redis) Load(ctx context.Context) (map[string]time.Time, error) {
	all, err := r.c.HGetAll(ctx, r.key).Result()
	if err != nil {
		return nil, fmt.Errorf("balance: read marks from redis: %w", err)
	}
	now := r.now()
	out := make(map[string]time.Time, len(all))
	for name, v := range all {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		if t := time.UnixMilli(ms); t.After(now) {
			out[name] = t
		}
	}
	return out, nil
}

var _ Shared = (*Redis)(nil)
