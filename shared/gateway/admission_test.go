package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/ledger"
)

// recordingLimiter records the ids it admits.
type recordingLimiter struct {
	ids   []string
	inner *ledger.Limiter
}

func (l *recordingLimiter) Admit(ctx context.Context, r ledger.Request) (*ledger.Ticket, error) {
	l.ids = append(l.ids, r.ID)
	return l.inner.Admit(ctx, r)
}

func TestSettleID(t *testing.T) {
	tests := []struct {
		name     string
		settleID func(*http.Request) string
		want     func(requestID string) string
	}{
		{"the request id by default", nil, func(id string) string { return id }},
		{"the runtime's id when it has one", func(*http.Request) string { return "lambda_abc" }, func(string) string { return "lambda_abc" }},
		{"the request id when the runtime has none", func(*http.Request) string { return "" }, func(id string) string { return id }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := &recordingLimiter{inner: ledger.NewLimiter(ledger.LimiterConfig{}, nil, nil)}
			g := gatewaytest.New(t, gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt("http://upstream/v1")}),
				gatewaytest.WithConfig(gateway.Config{Transport: cannedTransport{contentType: "application/json", body: benchChat}, Limiter: lim, SettleID: tt.settleID}))
			w := g.Serve("POST", "/v1/chat/completions", `{"model":"m","messages":[]}`)
			if w.Code != 200 || len(lim.ids) != 1 || lim.ids[0] != tt.want(w.Header().Get("X-Request-Id")) {
				t.Fatalf("status %d, admitted %v, request id %s", w.Code, lim.ids, w.Header().Get("X-Request-Id"))
			}
		})
	}
}
