package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// TestBackendTransportRetry: retries send the same body again, stop at the
// first answer not listed, and give the last answer when attempts run out;
// an attempt that outlives backendRequest counts as a 504.
func TestBackendTransportRetry(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	fail := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		if r.URL.Path == "/slow" && n <= fail {
			select { // until the attempt's timeout cancels it
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		if n <= fail {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		path     string
		retry    *route.Retry
		timeout  time.Duration
		fail     int
		want     int
		attempts int
	}{
		{"no policy: one attempt", "/", nil, 0, 1, 503, 1},
		{"recovers within the attempts", "/", &route.Retry{Codes: []int{503}, Attempts: 2}, 0, 2, 200, 3},
		{"attempts run out", "/", &route.Retry{Codes: []int{503}, Attempts: 2}, 0, 5, 503, 3},
		{"a code not listed", "/", &route.Retry{Codes: []int{500}, Attempts: 2}, 0, 5, 503, 1},
		{"a timed-out attempt is a 504", "/slow", &route.Retry{Codes: []int{504}, Attempts: 1}, 500 * time.Millisecond, 1, 200, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			bodies, fail = nil, tt.fail
			mu.Unlock()
			bt := newBackendTransport(http.DefaultTransport)
			bt.sleep = func(context.Context, time.Duration) error { return nil }
			be := &route.Backend{Endpoints: []string{srv.URL}}
			p := &plan{rule: &route.Rule{}, backend: be, retry: tt.retry, backendTimeout: tt.timeout, body: []byte("payload")}
			req := httptest.NewRequest("POST", srv.URL+tt.path, strings.NewReader("payload"))
			req.RequestURI = ""
			req = req.WithContext(context.WithValue(context.Background(), planKey{}, p))
			resp, err := bt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode != tt.want || len(bodies) != tt.attempts {
				t.Fatalf("status %d after %d attempts, want %d after %d", resp.StatusCode, len(bodies), tt.want, tt.attempts)
			}
			for i, b := range bodies {
				if b != "payload" {
					t.Errorf("attempt %d sent %q", i+1, b)
				}
			}
		})
	}
}
