// Package admin is the control plane: one net/http Handler under /admin/v1/
// that validates and applies manifests, compiles and stores route tables,
// and issues API keys.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/store"
)

// Store is what the admin API keeps its state in.
type Store interface {
	Objects(ctx context.Context) ([]store.Object, error)
	PutObjects(ctx context.Context, objs []store.Object) error
	LatestVersion(ctx context.Context) (int64, error)
	PutTable(ctx context.Context, t *route.Table) error
	PutKey(ctx context.Context, k ledger.Key) error
}

// Config holds the admin API's settings.
type Config struct {
	// Token, when set, must be presented as "Authorization: Bearer <token>".
	// Leave it empty only where something in front authenticates callers
	// (API Gateway's IAM authorisation in AWS).
	Token  string
	Logger *slog.Logger
	Now    func() time.Time
}

// Admin is the control-plane handler.
type Admin struct {
	cfg   Config
	store Store
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
}

// New returns the admin handler over st.
func New(cfg Config, st Store) *Admin {
	a := &Admin{cfg: cfg, store: st, log: cfg.Logger, now: cfg.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("POST /admin/v1/apply", a.apply)
	a.mux.HandleFunc("GET /admin/v1/objects", a.objects)
	a.mux.HandleFunc("POST /admin/v1/keys", a.createKey)
	a.mux.HandleFunc("/admin/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such admin endpoint: "+r.Method+" "+r.URL.Path)
	})
	return a
}

func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Token != "" {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.Token)) != 1 {
			writeError(w, http.StatusUnauthorized, "missing or wrong admin token")
			return
		}
	}
	a.mux.ServeHTTP(w, r)
}

// ApplyRequest is the body of POST /admin/v1/apply: manifest files by name,
// so problems name the file they are in.
type ApplyRequest struct {
	Files  map[string]string `json:"files"`
	DryRun bool              `json:"dryRun,omitempty"`
}

// ApplyResponse says what an apply did, or why it did nothing.
type ApplyResponse struct {
	Version  int64    `json:"version,omitempty"`
	DryRun   bool     `json:"dryRun,omitempty"`
	Applied  []string `json:"applied,omitempty"`  // Kind/namespace/name
	Problems []string `json:"problems,omitempty"` // file:line: Kind/ns/name: field: message
}

const maxApplyBytes = 8 << 20

func (a *Admin) apply(w http.ResponseWriter, r *http.Request) {
	var req ApplyRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxApplyBytes)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body must be JSON {\"files\": {\"name.yaml\": \"...\"}}: "+err.Error())
		return
	}
	resp, status, err := a.Apply(r.Context(), req)
	if err != nil {
		a.log.Error("apply failed", "error", err)
		writeError(w, http.StatusInternalServerError, "apply failed; see the admin log")
		return
	}
	writeJSON(w, status, resp)
}

// Apply validates the files together with what is already applied, and
// unless DryRun or invalid, stores the objects and a new route table. The
// status is 200, or 400 with problems.
func (a *Admin) Apply(ctx context.Context, req ApplyRequest) (ApplyResponse, int, error) {
	files := make(map[string][]byte, len(req.Files))
	for name, text := range req.Files {
		files[name] = []byte(text)
	}
	incoming, probs := gatewayapi.Parse(files)
	stored, err := a.storedObjects(ctx)
	if err != nil {
		return ApplyResponse{}, 0, err
	}
	// The new set: everything stored, with incoming objects replacing theirs.
	merged := map[string]*gatewayapi.Object{}
	created := map[string]time.Time{}
	for _, o := range stored {
		merged[o.Key()] = o
		created[o.Key()] = creationOf(o)
	}
	now := a.now().UTC().Truncate(time.Second)
	for _, o := range incoming {
		merged[o.Key()] = o
		if _, ok := created[o.Key()]; !ok {
			created[o.Key()] = now
		}
	}
	all := make([]*gatewayapi.Object, 0, len(merged))
	for _, o := range merged {
		all = append(all, o)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key() < all[j].Key() })
	probs = append(probs, gatewayapi.Check(all)...)
	resp := ApplyResponse{DryRun: req.DryRun}
	for _, o := range incoming {
		resp.Applied = append(resp.Applied, o.Key())
	}
	sort.Strings(resp.Applied)
	if len(probs) > 0 {
		for _, p := range sortProblems(probs) {
			resp.Problems = append(resp.Problems, p.String())
		}
		return resp, http.StatusBadRequest, nil
	}
	createdOf := func(o *gatewayapi.Object) time.Time { return created[o.Key()] }
	for attempt := 0; ; attempt++ {
		v, err := a.store.LatestVersion(ctx)
		if err != nil {
			return ApplyResponse{}, 0, err
		}
		table, err := gatewayapi.Compile(all, v+1, now, createdOf)
		if err != nil {
			return ApplyResponse{}, 0, err
		}
		if req.DryRun {
			resp.Version = table.Version
			return resp, http.StatusOK, nil
		}
		if attempt == 0 {
			objs, err := storeObjects(incoming, createdOf)
			if err != nil {
				return ApplyResponse{}, 0, err
			}
			if err := a.store.PutObjects(ctx, objs); err != nil {
				return ApplyResponse{}, 0, err
			}
		}
		err = a.store.PutTable(ctx, table)
		if errors.Is(err, store.ErrVersionExists) && attempt < 5 {
			continue // another apply won the version; compile again on top of it
		}
		if err != nil {
			return ApplyResponse{}, 0, err
		}
		resp.Version = table.Version
		a.log.Info("applied", "version", table.Version, "objects", len(incoming))
		return resp, http.StatusOK, nil
	}
}

func sortProblems(p []gatewayapi.Problem) []gatewayapi.Problem {
	sort.SliceStable(p, func(i, j int) bool {
		if p[i].File != p[j].File {
			return p[i].File < p[j].File
		}
		return p[i].Line < p[j].Line
	})
	return p
}

// storedObjects decodes what earlier applies stored.
func (a *Admin) storedObjects(ctx context.Context) ([]*gatewayapi.Object, error) {
	objs, err := a.store.Objects(ctx)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(objs))
	for _, o := range objs {
		files["stored:"+o.Kind+"/"+o.Namespace+"/"+o.Name] = o.JSON
	}
	parsed, probs := gatewayapi.Parse(files)
	if len(probs) > 0 {
		return nil, fmt.Errorf("admin: stored objects no longer parse: %s", probs[0])
	}
	return parsed, nil
}

type metaObject interface{ GetCreationTimestamp() metav1.Time }

func creationOf(o *gatewayapi.Object) time.Time {
	if m, ok := o.Value.(metaObject); ok {
		return m.GetCreationTimestamp().Time
	}
	return time.Time{}
}

type metaSetter interface {
	SetCreationTimestamp(metav1.Time)
}

func storeObjects(objs []*gatewayapi.Object, created func(*gatewayapi.Object) time.Time) ([]store.Object, error) {
	out := make([]store.Object, 0, len(objs))
	for _, o := range objs {
		if m, ok := o.Value.(metaSetter); ok {
			m.SetCreationTimestamp(metav1.NewTime(created(o)))
		}
		b, err := json.Marshal(o.Value)
		if err != nil {
			return nil, fmt.Errorf("admin: encode %s: %w", o.Key(), err)
		}
		out = append(out, store.Object{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, JSON: b})
	}
	return out, nil
}

func (a *Admin) objects(w http.ResponseWriter, r *http.Request) {
	objs, err := a.store.Objects(r.Context())
	if err != nil {
		a.log.Error("list objects failed", "error", err)
		writeError(w, http.StatusInternalServerError, "listing objects failed; see the admin log")
		return
	}
	out := make([]json.RawMessage, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.JSON)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// CreateKeyRequest is the body of POST /admin/v1/keys.
type CreateKeyRequest struct {
	Name     string `json:"name"`
	Consumer string `json:"consumer,omitempty"`
}

// CreateKeyResponse shows the secret key, once.
type CreateKeyResponse struct {
	ID       string    `json:"id"`
	Key      string    `json:"key"`
	Name     string    `json:"name"`
	Consumer string    `json:"consumer,omitempty"`
	Created  time.Time `json:"created"`
}

func (a *Admin) createKey(w http.ResponseWriter, r *http.Request) {
	var req CreateKeyRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Name == "" {
		writeError(w, http.StatusBadRequest, "body must be JSON {\"name\": \"...\", \"consumer\": \"...\"} with a name")
		return
	}
	resp, err := a.CreateKey(r.Context(), req)
	if err != nil {
		a.log.Error("create key failed", "error", err)
		writeError(w, http.StatusInternalServerError, "creating the key failed; see the admin log")
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// CreateKey makes and stores a new key; the response holds its secret.
func (a *Admin) CreateKey(ctx context.Context, req CreateKeyRequest) (CreateKeyResponse, error) {
	secret, k := ledger.NewKey(req.Name, req.Consumer, a.now())
	if err := a.store.PutKey(ctx, k); err != nil {
		return CreateKeyResponse{}, err
	}
	a.log.Info("key created", "key_id", k.ID, "name", k.Name, "consumer", k.Consumer)
	return CreateKeyResponse{ID: k.ID, Key: secret, Name: k.Name, Consumer: k.Consumer, Created: k.Created}, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"message": msg}})
}
