package gateway

import (
	"context"
	"sync"
	"testing"

	"github.com/sluicegw/sluice/shared/route"
)

// loads is a TableStore whose LatestVersion answers newest, and whose n-th
// LatestTable call answers the table sent on answers[n].
type loads struct {
	mu      sync.Mutex
	newest  int64
	calls   int
	answers []chan *route.Table
	asked   chan int // the number of each LatestTable call, as it starts
}

func (l *loads) LatestVersion(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.newest, nil
}

func (l *loads) LatestTable(context.Context) (*route.Table, error) {
	l.mu.Lock()
	n := l.calls
	l.calls++
	l.mu.Unlock()
	l.asked <- n
	return <-l.answers[n], nil
}

func (l *loads) store(v int64) {
	l.mu.Lock()
	l.newest = v
	l.mu.Unlock()
}

// TestRefreshOnlyMovesForward: of two overlapping refreshes, the one that
// loaded an older table and finishes last does not put it back in force.
func TestRefreshOnlyMovesForward(t *testing.T) {
	l := &loads{newest: 1, asked: make(chan int, 3)}
	for range 3 {
		l.answers = append(l.answers, make(chan *route.Table, 1))
	}
	l.answers[0] <- &route.Table{Version: 1}
	w, err := NewTableWatcher(context.Background(), l, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-l.asked

	l.store(2)
	slow := make(chan struct{})
	go func() { w.Refresh(context.Background()); close(slow) }()
	<-l.asked // the slow refresh is loading version 2; 3 is stored meanwhile
	l.store(3)
	fast := make(chan struct{})
	go func() { w.Refresh(context.Background()); close(fast) }()
	<-l.asked
	l.answers[2] <- &route.Table{Version: 3}
	<-fast
	l.answers[1] <- &route.Table{Version: 2}
	<-slow
	if v := w.Table().Version; v != 3 {
		t.Fatalf("table in force is version %d, want 3", v)
	}
}
