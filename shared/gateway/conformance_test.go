package gateway_test

import (
	"testing"

	"github.com/sluicegw/sluice/shared/gatewayapi/conformance"
	"github.com/sluicegw/sluice/shared/gatewaytest"
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
	cg := conformance.NewGateway(gatewaytest.New(t, gatewaytest.Manifests(t, files)).URL, b)
	cg.Exact = true // gatewaytest.Cycle draws every choice once per round
	return cg
}
