package gateway

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/gatewayapi/conformance"
	"github.com/sluicegw/sluice/shared/ledger"
)

// TestConformance serves each retold upstream HTTPRoute conformance test
// (package conformance), compiled with upstream's base manifests,
// unchanged, through a Gateway on a real socket, in front of echo servers
// standing for the base's pods, and sends its requests: routing, filters,
// weights, mirrors, CORS, timeouts, WebSocket. Status is checked in
// shared/gatewayapi; the same tests run through the local process in tests/.
func TestConformance(t *testing.T) {
	b := conformance.StartBackends(t)
	for _, tt := range conformance.Tests() {
		if tt.NoCounterpart != "" {
			continue // tests/ says why
		}
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			tt.Run(t, serveConformance(t, b, tt))
		})
	}
}

// serveConformance compiles the base and the test's manifests and serves
// them from a Gateway.
func serveConformance(t *testing.T, b *conformance.Backends, tt *conformance.Test) *conformance.Gateway {
	t.Helper()
	files := b.Setup()
	for name, f := range tt.Files(b) {
		files[name] = f
	}
	objs, probs := gatewayapi.Validate(files)
	for _, p := range probs {
		if p.Level == gatewayapi.Refused {
			t.Errorf("refused: %s", p)
		}
	}
	tab, err := gatewayapi.Compile(objs, 1, time.Unix(0, 0), func(*gatewayapi.Object) time.Time { return time.Unix(0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	_, k := ledger.NewKey("k", "", time.Now())
	g, err := New(Config{Providers: testProviders, Rand: new(cycle).IntN}, staticTables{tab}, ledger.NewAuthenticator(keyMap{k.ID: k}, 0, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(g)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	cg := conformance.NewGateway(srv.URL, b)
	cg.Exact = true // the cycle draws every choice once per round
	return cg
}

// cycle is the gateways' Config.Rand here: for each n it draws 0, 1, ...,
// n-1 and over again, so n requests through a choice out of n see every
// draw once and the shares come out exact.
type cycle struct {
	mu   sync.Mutex
	next map[int]int
}

func (c *cycle) IntN(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[int]int{}
	}
	x := c.next[n]
	c.next[n] = (x + 1) % n
	return x
}
