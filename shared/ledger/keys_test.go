package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type mapStore struct {
	keys  map[string]Key
	calls int
	err   error
}

func (m *mapStore) GetKey(_ context.Context, id string) (Key, error) {
	m.calls++
	if m.err != nil {
		return Key{}, m.err
	}
	k, ok := m.keys[id]
	if !ok {
		return Key{}, ErrKeyNotFound
	}
	return k, nil
}

func TestNewKeyRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	s, k := NewKey("app", "team-a", now)
	if !strings.HasPrefix(s, KeyPrefix) || strings.Contains(k.Hash, s[len(KeyPrefix)+len(k.ID)+1:]) {
		t.Fatalf("bad key %q / record %+v", s, k)
	}
	id, secret, err := ParseKey(s)
	if err != nil || id != k.ID {
		t.Fatalf("ParseKey(%q) = %q, %v", s, id, err)
	}
	if err := k.Verify(secret, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestAuthenticator(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	good, gk := NewKey("good", "", now)
	revoked, rk := NewKey("revoked", "", now)
	rk.State = KeyRevoked
	expired, ek := NewKey("expired", "", now)
	ek.ExpiresAt = now.Add(-time.Second)
	store := &mapStore{keys: map[string]Key{gk.ID: gk, rk.ID: rk, ek.ID: ek}}
	a := NewAuthenticator(store, time.Minute, func() time.Time { return now })

	tests := []struct {
		name    string
		key     string
		wantErr error
	}{
		{"valid", good, nil},
		{"missing", "", ErrNoKey},
		{"not a sluice key", "sk-proj-abc", ErrMalformed},
		{"no secret", KeyPrefix + gk.ID, ErrMalformed},
		{"wrong secret", KeyPrefix + gk.ID + "-wrong", ErrUnknownKey},
		{"unknown id", KeyPrefix + "nosuchid-secret", ErrUnknownKey},
		{"revoked", revoked, ErrRevokedKey},
		{"expired", expired, ErrExpiredKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Check(context.Background(), tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check = %v, want %v", err, tt.wantErr)
			}
		})
	}

	// A revocation reaches a gateway within the cache's bound: the record
	// loaded by "valid" above serves until exactly ttl later, no longer.
	t.Run("cached within ttl, reloaded after", func(t *testing.T) {
		calls := store.calls
		a.Check(context.Background(), good)
		if store.calls != calls {
			t.Fatalf("store called again within ttl")
		}
		rk2 := gk
		rk2.State = KeyRevoked
		store.keys[gk.ID] = rk2
		loaded := now
		now = loaded.Add(time.Minute)
		if _, err := a.Check(context.Background(), good); err != nil || store.calls != calls {
			t.Fatalf("at ttl: %v after %d store calls, want the cached record", err, store.calls-calls)
		}
		now = loaded.Add(time.Minute + time.Nanosecond)
		if _, err := a.Check(context.Background(), good); !errors.Is(err, ErrRevokedKey) {
			t.Fatalf("after ttl: %v, want revoked", err)
		}
	})

	t.Run("forgotten, reloaded at once", func(t *testing.T) {
		fresh, fk := NewKey("fresh", "", now)
		store.keys[fk.ID] = fk
		if _, err := a.Check(context.Background(), fresh); err != nil {
			t.Fatal(err)
		}
		revokedNow := fk
		revokedNow.State = KeyRevoked
		store.keys[fk.ID] = revokedNow
		if _, err := a.Check(context.Background(), fresh); err != nil {
			t.Fatalf("within ttl the cached record still serves: %v", err)
		}
		a.Forget(fk.ID)
		if _, err := a.Check(context.Background(), fresh); !errors.Is(err, ErrRevokedKey) {
			t.Fatalf("after Forget: %v, want revoked", err)
		}
	})

	t.Run("store failure is not cached", func(t *testing.T) {
		s2 := &mapStore{err: errors.New("throttled")}
		a2 := NewAuthenticator(s2, time.Minute, func() time.Time { return now })
		if _, err := a2.Check(context.Background(), good); err == nil || errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want a store error", err)
		}
		s2.err = nil
		s2.keys = map[string]Key{gk.ID: gk}
		if _, err := a2.Check(context.Background(), good); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	})
}

func BenchmarkCheckCached(b *testing.B) {
	now := time.Now()
	s, k := NewKey("bench", "", now)
	a := NewAuthenticator(&mapStore{keys: map[string]Key{k.ID: k}}, time.Hour, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Check(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}
