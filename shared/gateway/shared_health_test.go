package gateway_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/servertest"
	"github.com/sluicegw/sluice/shared/window"
)

// TestInstancesShareBreakers: two gateway instances on one redis-server.
// The first sees a backend fail and opens its breaker; the second, which
// has never sent it anything, leaves it alone from its next read of the
// shared marks. With Redis stopped, both still serve on local state.
func TestInstancesShareBreakers(t *testing.T) {
	srv := servertest.OwnRedis(t)
	var badHits atomic.Int64
	bad := gatewaytest.Upstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		badHits.Add(1)
		http.Error(w, `{"error":{"message":"down"}}`, http.StatusServiceUnavailable)
	})) + "/v1"
	good := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1"
	pol := &route.BackendPolicy{Breaker: route.BreakerPolicy{ConsecutiveFailures: 1, CoolDown: time.Minute}}
	c := newClock()
	instance := func() *gatewaytest.Gateway {
		rc, err := window.NewClient("redis://"+srv.Addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		tab := gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(bad, good)})
		tab.Rules[0].Balance = pol
		return gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{
			Now: c.Now, Rand: func(int) int { return 0 }, Health: balance.NewRedis(rc, c.Now)}))
	}
	a, b := instance(), instance()
	post := func(g *gatewaytest.Gateway) string {
		resp, out := g.Post(t, "/v1/chat/completions", chat)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, out)
		}
		return resp.Header.Get("X-Sluice-Backend")
	}
	post(a) // a tries the bad backend, opens its breaker and shares it
	if n := badHits.Load(); n != 1 {
		t.Fatalf("bad backend hit %d times, want 1", n)
	}
	c.Advance(2 * time.Second) // past b's refresh bound
	for range 3 {
		if got := post(b); got != "default/m-1" {
			t.Errorf("b served by %s, want default/m-1", got)
		}
	}
	if n := badHits.Load(); n != 1 {
		t.Errorf("bad backend hit %d times; b should have learnt it is down from a", n)
	}
	if h := b.Balancer().Health("default/m-0", pol); h.Available || h.Breaker != "closed" {
		t.Errorf("b's view of the bad backend: %+v, want unavailable through the shared mark, its own breaker closed", h)
	}

	srv.Stop()
	c.Advance(2 * time.Minute) // every mark and breaker expired: the probe goes out
	for _, g := range []*gatewaytest.Gateway{a, b} {
		if got := post(g); got != "default/m-1" {
			t.Errorf("with Redis down: served by %s, want default/m-1", got)
		}
	}
}

// TestRedisMarksMoveOnlyLater checks the shared marks themselves on a real
// redis-server.
func TestRedisMarksMoveOnlyLater(t *testing.T) {
	srv := servertest.OwnRedis(t)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rc.Close() })
	c := newClock()
	r := balance.NewRedis(rc, c.Now)
	ctx := t.Context()
	t0 := c.Now()
	for _, until := range []time.Time{t0.Add(10 * time.Second), t0.Add(5 * time.Second)} {
		if err := r.Mark(ctx, "ns/a", until); err != nil {
			t.Fatal(err)
		}
	}
	marks, err := r.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := marks["ns/a"]; !got.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("mark %v, want the later %v", got, t0.Add(10*time.Second))
	}
	c.Advance(11 * time.Second)
	if marks, _ := r.Load(ctx); len(marks) != 0 {
		t.Errorf("expired marks still read: %v", marks)
	}
}
