package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/store"
)

// CreateKeyRequest is the body of POST /admin/v1/keys.
type CreateKeyRequest struct {
	Name     string        `json:"name"`
	Consumer string        `json:"consumer,omitempty"`
	Limits   ledger.Limits `json:"limits,omitzero"`
}

// CreateKeyResponse shows the secret key, once (create and rotate).
type CreateKeyResponse struct {
	ID       string        `json:"id"`
	Key      string        `json:"key"`
	Name     string        `json:"name"`
	Consumer string        `json:"consumer,omitempty"`
	Created  time.Time     `json:"created"`
	Limits   ledger.Limits `json:"limits,omitzero"`
	// PreviousValidUntil is when a rotated key's old secret stops working.
	PreviousValidUntil *time.Time `json:"previousValidUntil,omitempty"`
}

// KeyInfo is a key as listed: never its secret or hash.
type KeyInfo struct {
	ID                 string        `json:"id"`
	Name               string        `json:"name"`
	Consumer           string        `json:"consumer,omitempty"`
	State              string        `json:"state"`
	Created            time.Time     `json:"created"`
	Revoked            *time.Time    `json:"revoked,omitempty"`
	PreviousValidUntil *time.Time    `json:"previousValidUntil,omitempty"`
	Limits             ledger.Limits `json:"limits,omitzero"`
}

func infoOf(k ledger.Key, now time.Time) KeyInfo {
	ki := KeyInfo{ID: k.ID, Name: k.Name, Consumer: k.Consumer, State: k.State, Created: k.Created, Limits: k.Limits}
	if !k.Revoked.IsZero() {
		t := k.Revoked
		ki.Revoked = &t
	}
	if !k.PrevExpires.IsZero() && now.Before(k.PrevExpires) {
		t := k.PrevExpires
		ki.PreviousValidUntil = &t
	}
	return ki
}

func (a *Admin) createKey(w http.ResponseWriter, r *http.Request) {
	var req CreateKeyRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Name == "" {
		writeError(w, http.StatusBadRequest, "body must be JSON {\"name\": \"...\", \"consumer\": \"...\", \"limits\": {...}} with a name")
		return
	}
	if err := req.Limits.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, "limits."+err.Error())
		return
	}
	resp, err := a.CreateKey(r.Context(), req)
	if err != nil {
		a.fail(w, "create key", err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// CreateKey makes and stores a new key; the response holds its secret.
func (a *Admin) CreateKey(ctx context.Context, req CreateKeyRequest) (CreateKeyResponse, error) {
	secret, k := ledger.NewKey(req.Name, req.Consumer, a.now())
	k.Limits = req.Limits
	if err := a.store.PutKey(ctx, k); err != nil {
		return CreateKeyResponse{}, err
	}
	a.log.Info("key created", "key_id", k.ID, "name", k.Name, "consumer", k.Consumer)
	return CreateKeyResponse{ID: k.ID, Key: secret, Name: k.Name, Consumer: k.Consumer, Created: k.Created, Limits: k.Limits}, nil
}

func (a *Admin) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := a.store.ListKeys(r.Context())
	if err != nil {
		a.fail(w, "list keys", err)
		return
	}
	now := a.now()
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, infoOf(k, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// lookup reads a key for an endpoint, answering 404 or 500 itself.
func (a *Admin) lookup(w http.ResponseWriter, r *http.Request, op string) (ledger.Key, bool) {
	id := r.PathValue("id")
	k, err := a.store.GetKey(r.Context(), id)
	if errors.Is(err, ledger.ErrKeyNotFound) {
		writeError(w, http.StatusNotFound, "no key with id "+id)
		return k, false
	}
	if err != nil {
		a.fail(w, op, err)
		return k, false
	}
	return k, true
}

func (a *Admin) getKey(w http.ResponseWriter, r *http.Request) {
	if k, ok := a.lookup(w, r, "get key"); ok {
		writeJSON(w, http.StatusOK, infoOf(k, a.now()))
	}
}

// update applies change to the key named in the path, retrying when the
// record changed under it.
func (a *Admin) update(w http.ResponseWriter, r *http.Request, op string, change func(*ledger.Key) error) (ledger.Key, bool) {
	for attempt := 0; ; attempt++ {
		k, ok := a.lookup(w, r, op)
		if !ok {
			return k, false
		}
		prev := k.Hash
		if err := change(&k); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return k, false
		}
		err := a.store.UpdateKey(r.Context(), k, prev)
		if errors.Is(err, store.ErrKeyChanged) && attempt < 3 {
			continue
		}
		if err != nil {
			a.fail(w, op, err)
			return k, false
		}
		a.changed(r.Context(), Change{KeyID: k.ID})
		return k, true
	}
}

func (a *Admin) revokeKey(w http.ResponseWriter, r *http.Request) {
	now := a.now().UTC()
	k, ok := a.update(w, r, "revoke key", func(k *ledger.Key) error {
		if k.State != ledger.KeyRevoked {
			k.State, k.Revoked = ledger.KeyRevoked, now
		}
		k.PrevHash, k.PrevExpires = "", time.Time{}
		return nil
	})
	if ok {
		a.log.Info("key revoked", "key_id", k.ID)
		writeJSON(w, http.StatusOK, infoOf(k, now))
	}
}

// RotateKeyRequest is the body of POST /admin/v1/keys/{id}/rotate.
type RotateKeyRequest struct {
	// GracePeriod keeps the old secret valid this long ("1h"); default
	// DefaultGracePeriod, "0s" ends it at once.
	GracePeriod string `json:"gracePeriod,omitempty"`
}

// DefaultGracePeriod is how long a rotated key's old secret keeps working.
const DefaultGracePeriod = 24 * time.Hour

func (a *Admin) rotateKey(w http.ResponseWriter, r *http.Request) {
	var req RotateKeyRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "body must be JSON {\"gracePeriod\": \"1h\"}")
			return
		}
	}
	grace := DefaultGracePeriod
	if req.GracePeriod != "" {
		d, err := time.ParseDuration(req.GracePeriod)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("gracePeriod must be a duration like \"1h\", got %q", req.GracePeriod))
			return
		}
		grace = d
	}
	now := a.now().UTC()
	var secret string
	k, ok := a.update(w, r, "rotate key", func(k *ledger.Key) error {
		if k.State == ledger.KeyRevoked {
			return errors.New("key " + k.ID + " is revoked; create a new one")
		}
		secret = k.Rotate(grace, now)
		return nil
	})
	if !ok {
		return
	}
	a.log.Info("key rotated", "key_id", k.ID, "grace", grace.String())
	resp := CreateKeyResponse{ID: k.ID, Key: secret, Name: k.Name, Consumer: k.Consumer, Created: k.Created, Limits: k.Limits}
	if !k.PrevExpires.IsZero() {
		t := k.PrevExpires
		resp.PreviousValidUntil = &t
	}
	writeJSON(w, http.StatusOK, resp)
}

// setLimits replaces a key's limits: PATCH /admin/v1/keys/{id} {"limits": {...}}.
func (a *Admin) setLimits(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Limits *ledger.Limits `json:"limits"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Limits == nil {
		writeError(w, http.StatusBadRequest, "body must be JSON {\"limits\": {...}}")
		return
	}
	if err := req.Limits.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, "limits."+err.Error())
		return
	}
	k, ok := a.update(w, r, "set key limits", func(k *ledger.Key) error {
		k.Limits = *req.Limits
		return nil
	})
	if ok {
		a.log.Info("key limits set", "key_id", k.ID)
		writeJSON(w, http.StatusOK, infoOf(k, a.now()))
	}
}
