// Package ledger holds API keys, their limits, and token usage: admission
// against rate windows and budgets before a request goes out, and the
// settling of what it cost after. Keys look like sk-sluice-<id>-<secret>;
// only a SHA-256 hash of the secret is ever stored, and a presented key is
// checked in constant time. The stores are interfaces declared here: Redis
// windows and DynamoDB counters live in other packages.
package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// KeyPrefix starts every Sluice API key.
const KeyPrefix = "sk-sluice-"

// Key state values.
const (
	KeyActive  = "active"
	KeyRevoked = "revoked"
)

// Key is a stored API key record. It never holds the secret.
type Key struct {
	ID        string
	Name      string
	Consumer  string
	Hash      string // hex SHA-256 of the secret
	State     string
	Created   time.Time
	ExpiresAt time.Time // zero: never
	Limits    Limits
	// PrevHash is the hash of the secret a rotation replaced; it stays
	// valid until PrevExpires, so clients can move to the new secret.
	PrevHash    string
	PrevExpires time.Time
	Revoked     time.Time // when State became revoked
}

// Errors a key check returns; all of them mean 401 to the client.
var (
	ErrNoKey       = errors.New("no API key")
	ErrMalformed   = errors.New("malformed API key")
	ErrUnknownKey  = errors.New("unknown API key")
	ErrRevokedKey  = errors.New("API key revoked")
	ErrExpiredKey  = errors.New("API key expired")
	ErrKeyNotFound = errors.New("key not found") // from stores
)

// idEncoding keeps ids and secrets lowercase and free of '-', so a key
// splits unambiguously.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey makes a fresh key: the full secret string to show once, and the
// record to store.
func NewKey(name, consumer string, now time.Time) (secretKey string, k Key) {
	var idb [10]byte
	var sb [30]byte
	rand.Read(idb[:])
	rand.Read(sb[:])
	id := idEncoding.EncodeToString(idb[:])
	secret := idEncoding.EncodeToString(sb[:])
	return KeyPrefix + id + "-" + secret, Key{
		ID: id, Name: name, Consumer: consumer, Hash: HashSecret(secret),
		State: KeyActive, Created: now.UTC(),
	}
}

// ParseKey splits a presented key into id and secret.
func ParseKey(s string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok {
		return "", "", ErrMalformed
	}
	id, secret, ok = strings.Cut(rest, "-")
	if !ok || id == "" || secret == "" || len(id) > 64 || len(secret) > 128 {
		return "", "", ErrMalformed
	}
	return id, secret, nil
}

// HashSecret is the stored form of a secret. Secrets are 150 random bits,
// so a fast hash is enough: there is nothing to brute-force.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Verify checks secret against k's hash in constant time, then k's state.
func (k *Key) Verify(secret string, now time.Time) error {
	got := sha256.Sum256([]byte(secret))
	if !hashIs(k.Hash, got[:]) && !(k.PrevHash != "" && now.Before(k.PrevExpires) && hashIs(k.PrevHash, got[:])) {
		return ErrUnknownKey
	}
	if k.State == KeyRevoked {
		return ErrRevokedKey
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return ErrExpiredKey
	}
	return nil
}

func hashIs(stored string, sum []byte) bool {
	want, err := hex.DecodeString(stored)
	return err == nil && subtle.ConstantTimeCompare(want, sum) == 1
}

// Rotate gives k a new secret; the old one stays valid for grace. It
// returns the new full key to show once.
func (k *Key) Rotate(grace time.Duration, now time.Time) string {
	var sb [30]byte
	rand.Read(sb[:])
	secret := idEncoding.EncodeToString(sb[:])
	k.PrevHash, k.PrevExpires = "", time.Time{}
	if grace > 0 {
		k.PrevHash, k.PrevExpires = k.Hash, now.Add(grace).UTC()
	}
	k.Hash = HashSecret(secret)
	return KeyPrefix + k.ID + "-" + secret
}
