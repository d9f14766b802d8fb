package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/servertest"
	"github.com/sluicegw/sluice/shared/window"
)

var env servertest.Env

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &env)) }

// realStore is a store on the test binary's redis-server, through the
// client the mains build for the rate windows.
func realStore(t *testing.T, cfg StoreConfig) (*Redis, *redis.Client) {
	t.Helper()
	c, err := window.NewClient("redis://"+env.Redis(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return NewRedis(c, cfg), c
}

func TestRedisStoresAndExpires(t *testing.T) {
	s, c := realStore(t, StoreConfig{})
	ctx := context.Background()
	key := Scope{Route: t.Name()}.ExactKey(mustCanonical(t, ChatCompletions, baseChat, Selection{}))
	if _, ok, err := s.Get(ctx, key); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	e := sampleEntry()
	if err := s.Set(ctx, key, &e, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Get(ctx, key)
	if !ok || err != nil || !bytes.Equal(got.Body, e.Body) || got.Usage != e.Usage {
		t.Fatalf("get: %+v %v %v", got, ok, err)
	}
	if ttl := c.TTL(ctx, key).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v, want at most a minute", ttl)
	}
	// Another scope's key for the same request finds nothing.
	other := Scope{Route: t.Name(), Tenant: "consumer:b"}.ExactKey(mustCanonical(t, ChatCompletions, baseChat, Selection{}))
	if _, ok, _ := s.Get(ctx, other); ok {
		t.Fatal("another tenant read the entry")
	}
}

func TestRedisCorruptEntryIsAMiss(t *testing.T) {
	s, c := realStore(t, StoreConfig{})
	ctx := context.Background()
	e := sampleEntry()
	enc := e.Encode(nil)
	for i, v := range [][]byte{[]byte("garbage"), enc[:len(enc)/2], {}} {
		key := fmt.Sprintf("sluice:cache:e:%s-%d", t.Name(), i)
		c.Set(ctx, key, v, time.Minute)
		if _, ok, err := s.Get(ctx, key); ok || err != nil {
			t.Fatalf("corrupt entry %d: ok=%v err=%v", i, ok, err)
		}
	}
	if st := s.Stats(); st.Corrupt != 3 || st.Failures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRedisConcurrentWritersLeaveWholeEntries has many writers store
// different answers under one key while readers read it: every read is
// one whole entry.
func TestRedisConcurrentWritersLeaveWholeEntries(t *testing.T) {
	s, _ := realStore(t, StoreConfig{Wait: time.Second})
	ctx := context.Background()
	key := "sluice:cache:e:" + t.Name()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			body := bytes.Repeat([]byte{byte('a' + w)}, 64<<10)
			for range 20 {
				e := Entry{Model: "m", Body: body}
				if err := s.Set(ctx, key, &e, time.Minute); err != nil {
					errs <- err
					return
				}
				got, ok, err := s.Get(ctx, key)
				if err != nil || !ok {
					errs <- fmt.Errorf("get: ok=%v err=%v", ok, err)
					return
				}
				if bytes.Count(got.Body, got.Body[:1]) != len(got.Body) || len(got.Body) != 64<<10 {
					errs <- errors.New("a torn entry")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestRedisKilledMidRun stops a real redis-server: calls fail within the
// bounded wait, are counted, and logged once per interval.
func TestRedisKilledMidRun(t *testing.T) {
	srv := servertest.OwnRedis(t)
	c, err := window.NewClient("redis://"+srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var logs bytes.Buffer
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s := NewRedis(c, StoreConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: clock, LogEvery: time.Minute})
	ctx := context.Background()
	e := sampleEntry()
	if err := s.Set(ctx, "k", &e, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, "k"); ok || err == nil {
		t.Fatalf("with redis stopped: ok=%v err=%v", ok, err)
	}
	// Marked down: further calls skip Redis, counted, and log nothing more.
	for range 100 {
		if _, ok, err := s.Get(ctx, "k"); ok || !errors.Is(err, ErrDown) {
			t.Fatalf("while down: ok=%v err=%v", ok, err)
		}
		if err := s.Set(ctx, "k", &e, time.Minute); !errors.Is(err, ErrDown) {
			t.Fatalf("set while down: %v", err)
		}
	}
	if got := s.Stats().Failures; got != 201 {
		t.Fatalf("failures %d, want 201", got)
	}
	if n := strings.Count(logs.String(), "response cache unavailable"); n != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", n, logs.String())
	}
	now = now.Add(2 * time.Minute)
	s.Get(ctx, "k")
	if n := strings.Count(logs.String(), "response cache unavailable"); n != 2 || !strings.Contains(logs.String(), "failures=201") {
		t.Fatalf("after the interval, want a second line counting the calls since the first:\n%s", logs.String())
	}
}

// TestRedisSlowIsBoundedByWait uses miniredis's delay-free error to stand
// for a server that does not answer: the call returns within the wait.
func TestRedisSlowIsBoundedByWait(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	defer c.Close()
	s := NewRedis(c, StoreConfig{Wait: 20 * time.Millisecond})
	mr.SetError("LOADING")
	if _, ok, err := s.Get(context.Background(), "k"); ok || err == nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if s.Stats().Failures != 1 {
		t.Fatalf("stats %+v", s.Stats())
	}
}
