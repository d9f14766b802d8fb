package admin

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/store"
)

// memStore keeps in memory what store.Store keeps in DynamoDB, with the
// same answers: objects in kind/namespace/name order, listed keys without
// their hashes, and the store's errors for a taken version, a missing
// version, a key changed under an update and an unknown key. The lifecycle
// test runs over both, which holds the two alike.
type memStore struct {
	mu      sync.Mutex
	objects map[string]store.Object
	tables  map[int64]storedTable
	keys    map[string]ledger.Key
	usage   map[string]map[string]ledger.UsageRow // subject → day#model → row
}

type storedTable struct {
	table   *route.Table
	objects []store.Object
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		objects: map[string]store.Object{},
		tables:  map[int64]storedTable{},
		keys:    map[string]ledger.Key{},
		usage:   map[string]map[string]ledger.UsageRow{},
	}
}

func objectKey(o store.Object) string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

func (m *memStore) Objects(context.Context) ([]store.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.Object, 0, len(m.objects))
	for _, o := range m.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return objectKey(out[i]) < objectKey(out[j]) })
	return out, nil
}

func (m *memStore) ReplaceObjects(_ context.Context, objs []store.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects = map[string]store.Object{}
	for _, o := range objs {
		m.objects[objectKey(o)] = o
	}
	return nil
}

func (m *memStore) LatestVersion(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var v int64
	for tv := range m.tables {
		v = max(v, tv)
	}
	return v, nil
}

func (m *memStore) PutTable(_ context.Context, t *route.Table, objects []store.Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tables[t.Version]; ok {
		return store.ErrVersionExists
	}
	m.tables[t.Version] = storedTable{t, append([]store.Object(nil), objects...)}
	return nil
}

func (m *memStore) TableObjects(_ context.Context, v int64) ([]store.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tables[v]
	if !ok {
		return nil, store.ErrNoVersion
	}
	return append([]store.Object(nil), t.objects...), nil
}

func (m *memStore) PutKey(_ context.Context, k ledger.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k.ID] = k
	return nil
}

func (m *memStore) GetKey(_ context.Context, id string) (ledger.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return ledger.Key{}, ledger.ErrKeyNotFound
	}
	return k, nil
}

func (m *memStore) UpdateKey(_ context.Context, k ledger.Key, prevHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys[k.ID].Hash != prevHash {
		return store.ErrKeyChanged
	}
	m.keys[k.ID] = k
	return nil
}

func (m *memStore) ListKeys(context.Context) ([]ledger.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ledger.Key, 0, len(m.keys))
	for _, k := range m.keys {
		k.Hash, k.PrevHash = "", ""
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *memStore) Usage(_ context.Context, subject, from, to string) ([]ledger.UsageRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k, r := range m.usage[subject] {
		if r.Day >= from && r.Day <= to {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	rows := make([]ledger.UsageRow, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, m.usage[subject][k])
	}
	return rows, nil
}

// Settle records a request's usage for its key, its consumer and "all",
// and its route and error kind, as store.Store.Settle does (idempotency
// and holds aside).
func (m *memStore) Settle(_ context.Context, s ledger.Settlement) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	row := ledger.UsageRow{Day: ledger.Day(s.At), Model: s.Model, Requests: 1, InputTokens: s.Usage.InputTokens,
		OutputTokens: s.Usage.OutputTokens, CachedTokens: s.Usage.CachedTokens, ReasoningTokens: s.Usage.ReasoningTokens, CostMicros: s.Cost}
	subjects := []string{"key#" + s.KeyID, "all"}
	if s.Consumer != "" {
		subjects = append(subjects, "consumer#"+s.Consumer)
	}
	var rows []ledger.BatchRow
	if !s.NoUsage {
		for _, sub := range subjects {
			rows = append(rows, ledger.BatchRow{Subject: sub, Usage: row})
		}
	}
	for _, br := range append(rows, ledger.InsightRows(s)...) {
		sub, row := br.Subject, br.Usage
		if m.usage[sub] == nil {
			m.usage[sub] = map[string]ledger.UsageRow{}
		}
		r := m.usage[sub][row.Day+"#"+row.Model]
		r.Day, r.Model = row.Day, row.Model
		r.Add(row)
		m.usage[sub][row.Day+"#"+row.Model] = r
	}
	return false, nil
}

// faulty is a Store whose named methods fail: every call, or with times
// set, only the first times calls (a lost race that a retry gets past).
type faulty struct {
	Store
	faults map[string]*fault
}

type fault struct {
	err   error
	times int // 0: every call
	calls int
}

var errStoreDown = errors.New("store down")

func (f *faulty) check(method string) error {
	ft := f.faults[method]
	if ft == nil {
		return nil
	}
	ft.calls++
	if ft.times > 0 && ft.calls > ft.times {
		return nil
	}
	return ft.err
}

func (f *faulty) Objects(ctx context.Context) ([]store.Object, error) {
	if err := f.check("Objects"); err != nil {
		return nil, err
	}
	return f.Store.Objects(ctx)
}

func (f *faulty) ReplaceObjects(ctx context.Context, objs []store.Object) error {
	if err := f.check("ReplaceObjects"); err != nil {
		return err
	}
	return f.Store.ReplaceObjects(ctx, objs)
}

func (f *faulty) LatestVersion(ctx context.Context) (int64, error) {
	if err := f.check("LatestVersion"); err != nil {
		return 0, err
	}
	return f.Store.LatestVersion(ctx)
}

func (f *faulty) PutTable(ctx context.Context, t *route.Table, objects []store.Object) error {
	if err := f.check("PutTable"); err != nil {
		return err
	}
	return f.Store.PutTable(ctx, t, objects)
}

func (f *faulty) TableObjects(ctx context.Context, v int64) ([]store.Object, error) {
	if err := f.check("TableObjects"); err != nil {
		return nil, err
	}
	return f.Store.TableObjects(ctx, v)
}

func (f *faulty) PutKey(ctx context.Context, k ledger.Key) error {
	if err := f.check("PutKey"); err != nil {
		return err
	}
	return f.Store.PutKey(ctx, k)
}

func (f *faulty) GetKey(ctx context.Context, id string) (ledger.Key, error) {
	if err := f.check("GetKey"); err != nil {
		return ledger.Key{}, err
	}
	return f.Store.GetKey(ctx, id)
}

func (f *faulty) UpdateKey(ctx context.Context, k ledger.Key, prevHash string) error {
	if err := f.check("UpdateKey"); err != nil {
		return err
	}
	return f.Store.UpdateKey(ctx, k, prevHash)
}

func (f *faulty) ListKeys(ctx context.Context) ([]ledger.Key, error) {
	if err := f.check("ListKeys"); err != nil {
		return nil, err
	}
	return f.Store.ListKeys(ctx)
}

func (f *faulty) Usage(ctx context.Context, subject, from, to string) ([]ledger.UsageRow, error) {
	if err := f.check("Usage"); err != nil {
		return nil, err
	}
	return f.Store.Usage(ctx, subject, from, to)
}
