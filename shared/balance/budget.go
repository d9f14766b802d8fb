package balance

import (
	"sync"
	"time"
)

// budget counts a route's recent requests and retries, so that retries stay
// a bounded fraction of traffic: when every backend fails, the load sent
// upstream grows by that fraction, not by the number of backends.
type budget struct {
	mu      sync.Mutex
	slots   [budgetSlots]budgetSlot
	current int64 // the slot index (time / slot width) last written
}

const budgetSlots = 10

type budgetSlot struct {
	requests, retries int
}

func (b *budget) roll(now time.Time) *budgetSlot {
	idx := now.UnixNano() / int64(DefaultBudgetWindow/budgetSlots)
	if gap := idx - b.current; gap > 0 {
		for i := int64(1); i <= min(gap, budgetSlots); i++ {
			b.slots[(b.current+i)%budgetSlots] = budgetSlot{}
		}
		b.current = idx
	}
	return &b.slots[b.current%budgetSlots]
}

func (b *budget) request(now time.Time) {
	b.mu.Lock()
	b.roll(now).requests++
	b.mu.Unlock()
}

// retry takes a retry from the budget if one is left.
func (b *budget) retry(now time.Time, fraction float64, floor int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.roll(now)
	var requests, retries int
	for _, s := range b.slots {
		requests += s.requests
		retries += s.retries
	}
	if retries >= floor && float64(retries) >= fraction*float64(requests) {
		return false
	}
	cur.retries++
	return true
}
