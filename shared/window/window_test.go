package window

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

func TestTakeAllOrNothing(t *testing.T) {
	mr := miniredis.RunT(t)
	r := New(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	ctx := context.Background()
	keys := []string{"{k}:req", "{k}:tok"}
	steps := []struct {
		name   string
		costs  []int64
		ok     bool
		counts []int64
	}{
		{"first", []int64{1, 40}, true, []int64{1, 40}},
		{"second", []int64{1, 40}, true, []int64{2, 80}},
		{"tokens do not fit: nothing taken", []int64{1, 40}, false, []int64{2, 80}},
		{"requests still fit", []int64{1, 20}, true, []int64{3, 100}},
		{"requests do not fit", []int64{1, 0}, false, []int64{3, 100}},
	}
	for _, s := range steps {
		ok, counts, err := r.Take(ctx, keys, []int64{3, 100}, s.costs, time.Minute)
		if err != nil || ok != s.ok || counts[0] != s.counts[0] || counts[1] != s.counts[1] {
			t.Fatalf("%s: %v %v %v, want %v %v", s.name, ok, counts, err, s.ok, s.counts)
		}
	}
	if ttl := mr.TTL("{k}:tok"); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	if err := r.Add(ctx, []string{"{k}:tok", "{k}:gone"}, []int64{-30, 5}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, _ := mr.Get("{k}:tok"); v != "70" {
		t.Fatalf("after Add: %s", v)
	}
	if mr.Exists("{k}:gone") {
		t.Fatal("Add created an expired counter")
	}
}

func TestDownFailsFast(t *testing.T) {
	mr := miniredis.RunT(t)
	c, err := NewClient("redis://"+mr.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	r := New(c)
	r.now = func() time.Time { return now }
	mr.Close()
	ctx := context.Background()
	if _, _, err := r.Take(ctx, []string{"a"}, []int64{1}, []int64{1}, time.Minute); err == nil || errors.Is(err, ErrDown) {
		t.Fatalf("first call: %v, want a connection error", err)
	}
	// ErrDown (not a connection error) says Redis was not asked at all.
	if _, _, err := r.Take(ctx, []string{"a"}, []int64{1}, []int64{1}, time.Minute); !errors.Is(err, ErrDown) {
		t.Fatalf("within a second of a failure: %v, want ErrDown", err)
	}
	now = now.Add(2 * time.Second)
	if _, _, err := r.Take(ctx, []string{"a"}, []int64{1}, []int64{1}, time.Minute); errors.Is(err, ErrDown) {
		t.Fatal("still marked down after downFor")
	}
}
