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
	ReplaceObjects(ctx context.Context, objs []store.Object) error
	LatestVersion(ctx context.Context) (int64, error)
	PutTable(ctx context.Context, t *route.Table, objects []store.Object) error
	TableObjects(ctx context.Context, version int64) ([]store.Object, error)
	PutKey(ctx context.Context, k ledger.Key) error
	GetKey(ctx context.Context, id string) (ledger.Key, error)
	UpdateKey(ctx context.Context, k ledger.Key, prevHash string) error
	ListKeys(ctx context.Context) ([]ledger.Key, error)
	ledger.UsageStore
}

// Config holds the admin API's settings.
type Config struct {
	// Token, when set, must be presented as "Authorization: Bearer <token>".
	// Leave it empty only where something in front authenticates callers
	// (API Gateway's IAM authorisation in AWS).
	Token  string
	Logger *slog.Logger
	Now    func() time.Time
	// OnChange, when set, is called after each change the admin API
	// stores and before it answers: where the gateway shares the admin's
	// process (the local one), the change then takes effect at once;
	// deployed gateways find it on their own schedule. It must not block.
	OnChange func(ctx context.Context, c Change)
	// Live, when set, answers GET /admin/v1/live (sluice top against a
	// deployed admin API).
	Live LiveReader

	// The entrypoints' settings, read by ConfigFromEnv and described in the
	// README's configuration table: New uses none of them, the mains wire
	// the store and the Lambda adapter with them.
	RoutesTable, LedgerTable string
	DynamoDBEndpoint         string
	LogLevel                 slog.Level
	LambdaStream             bool
}

// Change is what a call to the admin API changed.
type Change struct {
	// TableVersion is the route table version stored (apply, delete,
	// rollback); 0 when none was.
	TableVersion int64
	// KeyID is the key whose record changed (revoke, rotate, new limits);
	// empty when none did.
	KeyID string
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
	a.mux.HandleFunc("DELETE /admin/v1/objects", a.deleteObject)
	a.mux.HandleFunc("POST /admin/v1/rollback", a.rollback)
	a.mux.HandleFunc("POST /admin/v1/keys", a.createKey)
	a.mux.HandleFunc("GET /admin/v1/keys", a.listKeys)
	a.mux.HandleFunc("GET /admin/v1/keys/{id}", a.getKey)
	a.mux.HandleFunc("POST /admin/v1/keys/{id}/revoke", a.revokeKey)
	a.mux.HandleFunc("POST /admin/v1/keys/{id}/rotate", a.rotateKey)
	a.mux.HandleFunc("PATCH /admin/v1/keys/{id}", a.setLimits)
	a.mux.HandleFunc("GET /admin/v1/usage", a.usage)
	a.mux.HandleFunc("GET /admin/v1/usage/report", a.usageReport)
	a.mux.HandleFunc("GET /admin/v1/live", a.live)
	a.mux.HandleFunc("/admin/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such admin endpoint: "+r.Method+" "+r.URL.Path)
	})
	return a
}

func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Token != "" {
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.Token)) != 1 {
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
	Problems []string `json:"problems,omitempty"` // file:line: Kind/ns/name: field: message; nothing was stored
	// Conditions are problems a controller reports in status (a ref that
	// does not resolve, a route no listener accepts): the objects are
	// stored, with these in their status conditions.
	Conditions []string `json:"conditions,omitempty"`
	// Notices are facts worth knowing that change nothing: objects kept as
	// written and not served (a Deployment, another controller's Gateway).
	Notices []string `json:"notices,omitempty"`
	// Unchanged says every object was stored already as applied: no new
	// table version was made, and Version is the current one.
	Unchanged bool `json:"unchanged,omitempty"`
	// Results says, object by object, what the apply did (or would do):
	// sorted as Applied; none when it was refused.
	Results []ObjectResult `json:"results,omitempty"`
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
	// The new set: everything stored, with incoming objects replacing theirs.
	stored, created, err := a.current(ctx)
	if err != nil {
		return ApplyResponse{}, 0, err
	}
	now := a.now().UTC().Truncate(time.Second)
	for _, o := range incoming {
		if _, ok := created[o.Key()]; !ok {
			created[o.Key()] = now
		}
	}
	gatewayapi.SetGenerations(stored, incoming)
	results, err := objectResults(stored, incoming)
	if err != nil {
		return ApplyResponse{}, 0, err
	}
	all, dups := gatewayapi.Merge(stored, incoming)
	probs = append(probs, dups...)
	probs = append(probs, gatewayapi.Check(all)...)
	resp := ApplyResponse{DryRun: req.DryRun}
	for _, o := range incoming {
		resp.Applied = append(resp.Applied, o.Key())
	}
	sort.Strings(resp.Applied)
	gatewayapi.SortProblems(probs)
	for _, p := range probs {
		switch p.Level {
		case gatewayapi.Refused:
			resp.Problems = append(resp.Problems, p.String())
		case gatewayapi.Condition:
			resp.Conditions = append(resp.Conditions, p.String())
		default:
			resp.Notices = append(resp.Notices, p.String())
		}
	}
	if len(resp.Problems) > 0 {
		return resp, http.StatusBadRequest, nil
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Object < results[j].Object })
	resp.Results = results
	if v, same, err := a.unchanged(ctx, incoming); err != nil {
		return ApplyResponse{}, 0, err
	} else if same {
		resp.Unchanged, resp.Version = true, v
		return resp, http.StatusOK, nil
	}
	v, err := a.commit(ctx, all, created, now, req.DryRun)
	if err != nil {
		return ApplyResponse{}, 0, err
	}
	resp.Version = v
	if !req.DryRun {
		a.log.Info("applied", "version", v, "objects", len(incoming), "conditions", len(resp.Conditions))
		a.changed(ctx, Change{TableVersion: v})
	}
	return resp, http.StatusOK, nil
}

// commit stores objs (with fresh status) as the whole applied set and a
// route table compiled from them as the next version. Two admins racing
// for a version both succeed, one after the other.
func (a *Admin) commit(ctx context.Context, objs []*gatewayapi.Object, created map[string]time.Time, now time.Time, dryRun bool) (int64, error) {
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key() < objs[j].Key() })
	createdOf := func(o *gatewayapi.Object) time.Time { return created[o.Key()] }
	gatewayapi.SetStatus(objs, now)
	stored, err := storeObjects(objs, createdOf)
	if err != nil {
		return 0, err
	}
	if !dryRun {
		if err := a.store.ReplaceObjects(ctx, stored); err != nil {
			return 0, err
		}
	}
	for attempt := 0; ; attempt++ {
		v, err := a.store.LatestVersion(ctx)
		if err != nil {
			return 0, err
		}
		table, err := gatewayapi.Compile(objs, v+1, now, createdOf)
		if err != nil {
			return 0, err
		}
		if dryRun {
			return table.Version, nil
		}
		err = a.store.PutTable(ctx, table, stored)
		if errors.Is(err, store.ErrVersionExists) && attempt < 5 {
			continue // another apply won the version; compile again on top of it
		}
		if err != nil {
			return 0, err
		}
		return table.Version, nil
	}
}

// current returns the stored objects and their creation times.
func (a *Admin) current(ctx context.Context) ([]*gatewayapi.Object, map[string]time.Time, error) {
	stored, err := a.storedObjects(ctx)
	if err != nil {
		return nil, nil, err
	}
	created := map[string]time.Time{}
	for _, o := range stored {
		created[o.Key()] = creationOf(o)
	}
	return stored, created, nil
}

func (a *Admin) deleteObject(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind, ns, name := q.Get("kind"), q.Get("namespace"), q.Get("name")
	if kind == "" || name == "" {
		writeError(w, http.StatusBadRequest, "kind and name are required query parameters")
		return
	}
	stored, created, err := a.current(r.Context())
	if err != nil {
		a.fail(w, "delete", err)
		return
	}
	key := kind + "/" + name
	if ns != "" {
		key = kind + "/" + ns + "/" + name
	}
	all := make([]*gatewayapi.Object, 0, len(stored))
	for _, o := range stored {
		if o.Key() != key {
			all = append(all, o)
		}
	}
	if len(all) == len(stored) {
		writeError(w, http.StatusNotFound, key+" is not applied")
		return
	}
	v, err := a.commit(r.Context(), all, created, a.now().UTC().Truncate(time.Second), false)
	if err != nil {
		a.fail(w, "delete", err)
		return
	}
	a.log.Info("deleted", "object", key, "version", v)
	a.changed(r.Context(), Change{TableVersion: v})
	writeJSON(w, http.StatusOK, map[string]any{"deleted": key, "version": v})
}

// RollbackRequest names the table version to go back to; zero means the
// one before the newest.
type RollbackRequest struct {
	Version int64 `json:"version,omitempty"`
}

// rollback restores the objects of an earlier table version and stores
// their table as a new version, so every gateway moves forward to it.
func (a *Admin) rollback(w http.ResponseWriter, r *http.Request) {
	var req RollbackRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "body must be JSON {\"version\": N}")
			return
		}
	}
	ctx := r.Context()
	latest, err := a.store.LatestVersion(ctx)
	if err != nil {
		a.fail(w, "rollback", err)
		return
	}
	target := req.Version
	if target == 0 {
		target = latest - 1
	}
	if target < 1 || target >= latest {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("no earlier version to roll back to (newest is %d, asked for %d)", latest, target))
		return
	}
	snapshot, err := a.store.TableObjects(ctx, target)
	if errors.Is(err, store.ErrNoVersion) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("route table version %d is not stored", target))
		return
	}
	if err != nil {
		a.fail(w, "rollback", err)
		return
	}
	objs, err := parseStored(snapshot)
	if err != nil {
		a.fail(w, "rollback", err)
		return
	}
	created := map[string]time.Time{}
	for _, o := range objs {
		created[o.Key()] = creationOf(o)
	}
	v, err := a.commit(ctx, objs, created, a.now().UTC().Truncate(time.Second), false)
	if err != nil {
		a.fail(w, "rollback", err)
		return
	}
	a.log.Info("rolled back", "to", target, "version", v)
	a.changed(ctx, Change{TableVersion: v})
	writeJSON(w, http.StatusOK, map[string]any{"restored": target, "version": v})
}

// changed tells Config.OnChange, if set, what was stored.
func (a *Admin) changed(ctx context.Context, c Change) {
	if a.cfg.OnChange != nil {
		a.cfg.OnChange(ctx, c)
	}
}

func (a *Admin) fail(w http.ResponseWriter, op string, err error) {
	a.log.Error(op+" failed", "error", err)
	writeError(w, http.StatusInternalServerError, op+" failed; see the admin log")
}

// storedObjects decodes what earlier applies stored.
func (a *Admin) storedObjects(ctx context.Context) ([]*gatewayapi.Object, error) {
	objs, err := a.store.Objects(ctx)
	if err != nil {
		return nil, err
	}
	return parseStored(objs)
}

func parseStored(objs []store.Object) ([]*gatewayapi.Object, error) {
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
