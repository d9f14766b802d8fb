package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// slowStart is an upstream whose first byte waits until released or the
// request is cancelled; cancelled counts the requests the gateway gave up.
type slowStart struct {
	release   chan struct{}
	hits      atomic.Int64
	cancelled atomic.Int64
}

func (s *slowStart) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	body, _ := io.ReadAll(r.Body) // read first, so the server notices a cancel
	r.Body = io.NopCloser(bytes.NewReader(body))
	select {
	case <-r.Context().Done():
		s.cancelled.Add(1)
		return
	case <-s.release:
	}
	(&mock.OpenAI{}).ServeHTTP(w, r)
}

// TestHedgeWinsWithTheFasterBackend: the first backend has sent no token
// after the hedge delay, so the request also goes to the second; its
// answer streams to the client (the official SDK), and the slow attempt is
// cancelled at once.
func TestHedgeWinsWithTheFasterBackend(t *testing.T) {
	for _, stream := range []bool{true, false} {
		name := "whole"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			slow := &slowStart{release: make(chan struct{})}
			t.Cleanup(func() { close(slow.release) })
			slowURL := gatewaytest.Upstream(t, slow) + "/v1"
			fast := &gatewaytest.Recorder{}
			fastURL := gatewaytest.Upstream(t, fast.Wrap(&mock.OpenAI{})) + "/v1"
			tab := gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(slowURL, fastURL)})
			tab.Rules[0].Balance = &route.BackendPolicy{Hedge: &route.HedgePolicy{Delay: 20 * time.Millisecond}}
			g := gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Now: time.Now, Rand: func(int) int { return 0 }}))
			client := g.OpenAI()
			params := openai.ChatCompletionNewParams{Model: "m", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("ping")}}
			var got string
			var resp *http.Response
			if stream {
				s := client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&resp))
				for s.Next() {
					if c := s.Current(); len(c.Choices) > 0 {
						got += c.Choices[0].Delta.Content
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
			} else {
				c, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
				if err != nil {
					t.Fatal(err)
				}
				got = c.Choices[0].Message.Content
			}
			if got == "" || resp.Header.Get("X-Sluice-Backend") != "default/m-1" {
				t.Errorf("answer %q from %s, want one from the hedge, default/m-1", got, resp.Header.Get("X-Sluice-Backend"))
			}
			if slow.hits.Load() != 1 || fast.Count() != 1 {
				t.Errorf("slow backend asked %d times, fast %d; want once each", slow.hits.Load(), fast.Count())
			}
			deadline := time.Now().Add(5 * time.Second)
			for slow.cancelled.Load() != 1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if slow.cancelled.Load() != 1 {
				t.Error("the losing attempt was not cancelled")
			}
		})
	}
}

// TestHedgeNotOnExcludedPaths: a path the policy marks as having side
// effects waits for its one backend.
func TestHedgeNotOnExcludedPaths(t *testing.T) {
	slow := &slowStart{release: make(chan struct{})}
	slowURL := gatewaytest.Upstream(t, slow) + "/v1"
	fast := &gatewaytest.Recorder{}
	fastURL := gatewaytest.Upstream(t, fast.Wrap(&mock.OpenAI{})) + "/v1"
	tab := gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(slowURL, fastURL)})
	tab.Rules[0].Balance = &route.BackendPolicy{Hedge: &route.HedgePolicy{Delay: time.Millisecond, ExcludePaths: []string{"/v1/chat/completions"}}}
	g := gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Rand: func(int) int { return 0 }}))
	go func() {
		for slow.hits.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // well past the hedge delay
		close(slow.release)
	}()
	resp, out := g.Post(t, "/v1/chat/completions", chat)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Backend") != "default/m-0" || fast.Count() != 0 {
		t.Errorf("status %d from %s, fast asked %d times: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Backend"), fast.Count(), out)
	}
}

// TestHedgeRecordsEachAttempt: a hedged request hands the telemetry one
// record per racer, the cancelled loser's without an error kind (it did
// not fail), and the request's record names the winner and the hedge.
func TestHedgeRecordsEachAttempt(t *testing.T) {
	slow := &slowStart{release: make(chan struct{})}
	t.Cleanup(func() { close(slow.release) })
	slowURL := gatewaytest.Upstream(t, slow) + "/v1"
	fastURL := gatewaytest.Upstream(t, &mock.OpenAI{}) + "/v1"
	tab := gatewaytest.Table(t, gatewaytest.Routes{"m": gatewaytest.OpenAIAt(slowURL, fastURL)})
	tab.Rules[0].Balance = &route.BackendPolicy{Hedge: &route.HedgePolicy{Delay: 20 * time.Millisecond}}
	recs := newRecords()
	g := gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Now: time.Now, Rand: func(int) int { return 0 }, Telemetry: recs}))
	resp, out := g.Post(t, "/v1/chat/completions", chat)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, out)
	}
	rec := recs.next(t)
	if rec.Backend != "default/m-1" || rec.Provider != "openai" || rec.Hedges != 1 || rec.Attempts != 2 {
		t.Errorf("request record: backend %q provider %q hedges %d attempts %d; want default/m-1, openai, 1, 2",
			rec.Backend, rec.Provider, rec.Hedges, rec.Attempts)
	}
	recs.mu.Lock()
	defer recs.mu.Unlock()
	byBackend := map[string]telemetry.Attempt{}
	for _, a := range recs.attempts {
		byBackend[a.Backend] = a
	}
	if len(recs.attempts) != 2 || len(byBackend) != 2 {
		t.Fatalf("attempt records %+v; want one per racer", recs.attempts)
	}
	if lost := byBackend["default/m-0"]; lost.ErrorKind != "" || lost.Status != 0 || lost.Provider != "openai" || lost.Route != "default/m" {
		t.Errorf("the cancelled racer's record %+v; want no status and no error kind", lost)
	}
	if won := byBackend["default/m-1"]; won.ErrorKind != "" || won.Status != 200 || won.Model != "m" || won.Route != "default/m" {
		t.Errorf("the winner's record %+v; want status 200 for model m", won)
	}
}
