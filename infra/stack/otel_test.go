package stack

import (
	"strings"
	"testing"
)

// TestOTelCollectorLayer: OpenTelemetry is opt-in. With a collector layer
// the gateway function carries it and exports to it on localhost; the
// admin function never does; without one, neither has a layer or an OTLP
// endpoint.
func TestOTelCollectorLayer(t *testing.T) {
	const layer = "arn:aws:lambda:us-east-1:123456789012:layer:aws-otel-collector-arm64:1"
	for _, tt := range []struct {
		name  string
		layer string
	}{
		{"off by default", ""},
		{"with the collector layer", layer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := testProps(t)
			p.OTelCollectorLayer = tt.layer
			s := synth(t, p)
			for id, fn := range s.resources("AWS::Lambda::Function") {
				gateway := strings.HasPrefix(id, "Gateway")
				vars := props(fn)["Environment"].(obj)["Variables"].(obj)
				layers, hasLayers := props(fn)["Layers"].([]any)
				endpoint, hasEndpoint := vars[EnvOTLPEndpoint]
				switch {
				case gateway && tt.layer != "":
					if !hasLayers || len(layers) != 1 || layers[0] != layer {
						t.Errorf("%s: layers %v, want [%s]", id, layers, layer)
					}
					if endpoint != CollectorEndpoint {
						t.Errorf("%s: %s=%v, want %s", id, EnvOTLPEndpoint, endpoint, CollectorEndpoint)
					}
				default:
					if hasLayers || hasEndpoint {
						t.Errorf("%s: layers %v, %s=%v; want none", id, layers, EnvOTLPEndpoint, endpoint)
					}
				}
			}
		})
	}
}
