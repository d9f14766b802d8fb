package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// KeyStore finds key records by id.
type KeyStore interface {
	GetKey(ctx context.Context, id string) (Key, error)
}

// DefaultKeyCacheTTL bounds how long a key record is trusted without a new
// look-up: a revoked key stops working within this time.
const DefaultKeyCacheTTL = 30 * time.Second

// Authenticator checks presented keys against a KeyStore, caching records
// (and misses) in memory for TTL so the hot path does no I/O.
type Authenticator struct {
	store KeyStore
	ttl   time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	entries map[string]cached
}

type cached struct {
	key     Key
	missing bool
	loaded  time.Time
	until   time.Time
}

// minReload spaces the look-ups a wrong secret can cause for one key id:
// a rotated key's new secret works at once, and a stream of bad secrets
// costs at most one store read per id per minReload.
const minReload = 100 * time.Millisecond

// maxCached bounds the cache; past it, the cache starts over.
const maxCached = 100_000

// NewAuthenticator returns an Authenticator over store. A zero ttl means
// DefaultKeyCacheTTL; a nil now means time.Now.
func NewAuthenticator(store KeyStore, ttl time.Duration, now func() time.Time) *Authenticator {
	if ttl == 0 {
		ttl = DefaultKeyCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Authenticator{store: store, ttl: ttl, now: now, entries: map[string]cached{}}
}

// Check returns the key record for a presented key, or an error saying why
// it is refused. Store failures are returned wrapped and are not cached.
func (a *Authenticator) Check(ctx context.Context, presented string) (Key, error) {
	if presented == "" {
		return Key{}, ErrNoKey
	}
	id, secret, err := ParseKey(presented)
	if err != nil {
		return Key{}, err
	}
	now := a.now()
	a.mu.RLock()
	c, ok := a.entries[id]
	a.mu.RUnlock()
	if !ok || now.After(c.until) {
		if c, err = a.load(ctx, id, now); err != nil {
			return Key{}, err
		}
	}
	if c.missing {
		return Key{}, ErrUnknownKey
	}
	err = c.key.Verify(secret, now)
	if errors.Is(err, ErrUnknownKey) && now.Sub(c.loaded) >= minReload {
		// The secret may be a rotation's new one: look again, once.
		if c, err = a.load(ctx, id, now); err != nil {
			return Key{}, err
		}
		if c.missing {
			return Key{}, ErrUnknownKey
		}
		err = c.key.Verify(secret, now)
	}
	if err != nil {
		return Key{}, err
	}
	return c.key, nil
}

// Forget drops what the cache holds for key id, so the next check reads
// its record: for a process that changed the record itself (the local
// one's admin API revoking or rotating it), which need not wait for the
// TTL.
func (a *Authenticator) Forget(id string) {
	a.mu.Lock()
	delete(a.entries, id)
	a.mu.Unlock()
}

func (a *Authenticator) load(ctx context.Context, id string, now time.Time) (cached, error) {
	var c cached
	k, err := a.store.GetKey(ctx, id)
	switch {
	case errors.Is(err, ErrKeyNotFound):
		c = cached{missing: true, loaded: now, until: now.Add(a.ttl)}
	case err != nil:
		return c, fmt.Errorf("ledger: look up key %s: %w", id, err)
	default:
		c = cached{key: k, loaded: now, until: now.Add(a.ttl)}
	}
	a.mu.Lock()
	if len(a.entries) >= maxCached {
		a.entries = map[string]cached{}
	}
	a.entries[id] = c
	a.mu.Unlock()
	return c, nil
}
