package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// BatchStore records many requests' usage at once: the counters of each
// row are ADDed, all or nothing, once per batch id.
type BatchStore interface {
	SettleBatch(ctx context.Context, batchID string, rows []BatchRow) error
}

// MaxBatchRows is how many rows one SettleBatch call may carry (a
// DynamoDB transaction holds 100 items: the batch's record and 99 rows).
const MaxBatchRows = 99

// BatchRow is the usage of one subject ("key#<id>", "consumer#<name>",
// "all") for one model on one UTC day, summed over requests.
type BatchRow struct {
	Subject string
	Usage   UsageRow // Day and Model set
}

// batcher sums settled usage in memory and writes it every interval. It
// serves tickets that reserved nothing (no durable limits): their settle
// has no holds to adjust, so nothing is lost in summing them. Tickets with
// holds settle one by one, idempotently per request id.
type batcher struct {
	l        *Limiter
	store    BatchStore
	interval time.Duration

	mu   sync.Mutex
	rows map[[3]string]*UsageRow // subject, day, model
	stop chan struct{}
	done chan struct{}
}

func newBatcher(l *Limiter, store BatchStore, interval time.Duration) *batcher {
	b := &batcher{l: l, store: store, interval: interval, rows: map[[3]string]*UsageRow{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *batcher) add(s Settlement) {
	day := Day(s.At)
	row := s.Counts()
	var subjects []string
	if !s.NoUsage {
		subjects = []string{"key#" + s.KeyID, "all"}
		if s.Consumer != "" {
			subjects = append(subjects, "consumer#"+s.Consumer)
		}
	}
	var buf [2]BatchRow
	insight := appendInsightRows(buf[:0], s, day)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range insight {
		k := [3]string{r.Subject, r.Usage.Day, r.Usage.Model}
		if cur := b.rows[k]; cur != nil {
			cur.Add(r.Usage)
		} else {
			u := r.Usage
			b.rows[k] = &u
		}
	}
	for _, sub := range subjects {
		k := [3]string{sub, day, s.Model}
		r := b.rows[k]
		if r == nil {
			r = &UsageRow{Day: day, Model: s.Model}
			b.rows[k] = r
		}
		r.Add(row)
	}
}

func (b *batcher) loop() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.flush(context.Background())
		case <-b.stop:
			b.flush(context.Background())
			return
		}
	}
}

// flush writes what was summed; rows a store refuses for good are put
// back for the next flush, so a debit is delayed, not lost.
func (b *batcher) flush(ctx context.Context) {
	b.mu.Lock()
	rows := b.rows
	b.rows = map[[3]string]*UsageRow{}
	b.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	var batch []BatchRow
	write := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, b.l.cfg.SettleTimeout)
		err := b.store.SettleBatch(ctx, newBatchID(), batch)
		cancel()
		if err != nil {
			b.l.log.Error("ledger: usage batch not written; kept for the next flush", "rows", len(batch), "error", err)
			b.mu.Lock()
			for _, r := range batch {
				k := [3]string{r.Subject, r.Usage.Day, r.Usage.Model}
				if cur := b.rows[k]; cur != nil {
					cur.Add(r.Usage)
				} else {
					u := r.Usage
					b.rows[k] = &u
				}
			}
			b.mu.Unlock()
		}
		batch = batch[:0]
	}
	for k, r := range rows {
		batch = append(batch, BatchRow{Subject: k[0], Usage: *r})
		if len(batch) == MaxBatchRows {
			write()
		}
	}
	write()
}

func (b *batcher) close() {
	close(b.stop)
	<-b.done
}

func newBatchID() string {
	var x [12]byte
	rand.Read(x[:])
	return "batch_" + hex.EncodeToString(x[:])
}
