package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// TableStore loads stored route tables.
type TableStore interface {
	// LatestVersion returns the newest table's version, 0 when none.
	LatestVersion(ctx context.Context) (int64, error)
	// LatestTable returns the newest table, prepared; nil when none.
	LatestTable(ctx context.Context) (*route.Table, error)
}

// DefaultRefresh is how often a TableWatcher checks for a new table version:
// a newly applied table is in force everywhere within about this long.
const DefaultRefresh = 10 * time.Second

// TableWatcher holds the route table in force and swaps in newer versions
// atomically. It checks at most once per interval, when a request asks for
// the table, and never on the request's own time: a Lambda sandbox only
// runs while it serves requests, so a timer would not fire anyway.
type TableWatcher struct {
	store    TableStore
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	table    atomic.Pointer[route.Table]
	checked  atomic.Int64 // unix nanoseconds of the last check
	checking atomic.Bool
}

// NewTableWatcher loads the newest table now (at cold start) and returns a
// watcher over store. A zero interval means DefaultRefresh.
func NewTableWatcher(ctx context.Context, store TableStore, interval time.Duration, log *slog.Logger) (*TableWatcher, error) {
	if interval <= 0 {
		interval = DefaultRefresh
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &TableWatcher{store: store, interval: interval, log: log, now: time.Now}
	t, err := store.LatestTable(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: load route table: %w", err)
	}
	w.table.Store(t)
	w.checked.Store(w.now().UnixNano())
	return w, nil
}

// Table returns the table in force, starting a background check for a newer
// one when the last check is older than the interval.
func (w *TableWatcher) Table() *route.Table {
	if w.now().UnixNano()-w.checked.Load() > int64(w.interval) && w.checking.CompareAndSwap(false, true) {
		go w.Refresh(context.Background())
	}
	return w.table.Load()
}

// Refresh checks for a newer table and swaps it in. A failed load keeps the
// last good table and is logged. Table calls it in the background; a
// process that stored a table itself may call it to use the table at once.
func (w *TableWatcher) Refresh(ctx context.Context) {
	defer w.checking.Store(false)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	w.checked.Store(w.now().UnixNano())
	v, err := w.store.LatestVersion(ctx)
	if err != nil {
		w.log.Warn("route table check failed; keeping the current table", "error", err)
		return
	}
	cur := w.table.Load()
	if cur != nil && cur.Version >= v || cur == nil && v == 0 {
		return
	}
	t, err := w.store.LatestTable(ctx)
	if err != nil || t == nil {
		w.log.Warn("route table load failed; keeping the current table", "version", v, "error", err)
		return
	}
	// Two refreshes may overlap (the background check and one a caller
	// asked for): the table in force only ever moves forward.
	for {
		cur := w.table.Load()
		if cur != nil && cur.Version >= t.Version {
			return
		}
		if w.table.CompareAndSwap(cur, t) {
			break
		}
	}
	w.log.Info("route table swapped", "version", t.Version)
}
