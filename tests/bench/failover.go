package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/route"
)

// The failover and hedging bench runs the gateway in this process, before
// upstreams on loopback that fail one way each, and times what a client
// sees. It needs no other process, so `-only failover` runs it alone.

const (
	failoverRequests = 200
	hedgeSlowFirst   = 200 * time.Millisecond // the slow backend's time to first byte
	hedgeDelay       = 20 * time.Millisecond
	hangFirstByte    = 100 * time.Millisecond // the first-byte timeout the hang case runs under
)

// failoverResult is one case's distribution.
type failoverResult struct {
	name     string
	p50, p99 time.Duration
	errors   int
}

// failoverBench measures failover time (from a backend's failure to the
// first byte served by another) for a refused connection, a 503 and a hang
// past the first-byte timeout, and time to first token with one slow
// backend of two, with and without hedging.
func failoverBench(ctx context.Context) ([]failoverResult, error) {
	good := httptest.NewServer(&mock.OpenAI{})
	defer good.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	var failedAt sync.Map // request body marker → when the bad backend failed it
	mark := func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		failedAt.Store(markerOf(string(b)), time.Now())
	}
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mark(r)
		http.Error(w, `{"error":{"message":"down","type":"server_error"}}`, http.StatusServiceUnavailable)
	}))
	defer unavailable.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer hang.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(hedgeSlowFirst):
		case <-r.Context().Done():
			return
		}
		(&mock.OpenAI{}).ServeHTTP(w, r)
	}))
	defer slow.Close()

	// Breakers stay shut and the budget open, so that every request meets
	// the failure: the bench times failover, not its avoidance.
	always := route.BackendPolicy{RetryBudget: 1, MinRetries: 1 << 30,
		Breaker: route.BreakerPolicy{ConsecutiveFailures: 1 << 30, MinRequests: 1 << 30}}
	hangPol := always
	hangPol.Timeouts.FirstByte = hangFirstByte
	hedged := always
	hedged.Hedge = &route.HedgePolicy{Delay: hedgeDelay}

	type bench struct {
		name  string
		first string
		pol   route.BackendPolicy
		since func(marker string, sent time.Time) time.Time // when the failure happened
		rand  func(int) int
	}
	var alternate atomic.Int64
	half := func(n int) int { // the slow backend first every other request
		if n == 1 {
			return 0 // a hedge's choice of the one backend left draws nothing
		}
		return int(alternate.Add(1)) % n
	}
	firstOnly := func(int) int { return 0 }
	atSend := func(_ string, sent time.Time) time.Time { return sent }
	benches := []bench{
		{"Failover time, refused connection", deadURL, always, atSend, firstOnly},
		{"Failover time, 503", unavailable.URL, always, func(m string, sent time.Time) time.Time {
			if t, ok := failedAt.Load(m); ok {
				return t.(time.Time)
			}
			return sent
		}, firstOnly},
		{"Failover time, hang past the first-byte timeout (" + dur(hangFirstByte) + ")", hang.URL, hangPol,
			func(_ string, sent time.Time) time.Time { return sent.Add(hangFirstByte) }, firstOnly},
		{"TTFT, one backend of two slow (" + dur(hedgeSlowFirst) + "), no hedging", slow.URL, always, atSend, half},
		{"TTFT, one backend of two slow, hedged after " + dur(hedgeDelay), slow.URL, hedged, atSend, half},
	}
	var out []failoverResult
	for _, b := range benches {
		progress("failover bench: %s", b.name)
		res, err := runFailover(ctx, b.first+"/v1", good.URL+"/v1", b.pol, b.rand, b.since)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
		res.name = b.name
		out = append(out, res)
	}
	return out, nil
}

func markerOf(body string) string {
	i := strings.Index(body, "req-")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(body[i:], '"')
	if j < 0 {
		return ""
	}
	return body[i : i+j]
}

func runFailover(ctx context.Context, first, second string, pol route.BackendPolicy, rand func(int) int,
	since func(string, time.Time) time.Time) (failoverResult, error) {
	tab := &route.Table{
		Backends: []route.Backend{{Name: "bench/first", Provider: "openai", Endpoint: first}, {Name: "bench/second", Provider: "openai", Endpoint: second}},
		Rules:    []route.Rule{{Route: "bench/r", Backends: []route.BackendRef{{Backend: 0, Weight: 1}, {Backend: 1, Weight: 1}}, Balance: &pol}},
		Entries:  []route.Entry{{Rule: 0, RouteName: "bench/r", Match: route.Match{Path: route.PathMatch{Type: route.PathPrefix, Value: "/v1"}}}},
	}
	if err := tab.Prepare(); err != nil {
		return failoverResult{}, err
	}
	g, err := gateway.New(gateway.Config{Providers: builtin.Registry(provider.Deps{}), Rand: rand}, oneTable{tab}, anyKey{}, nil)
	if err != nil {
		return failoverResult{}, err
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	c := &http.Client{}
	var res failoverResult
	var d []time.Duration
	for i := range failoverRequests {
		marker := fmt.Sprintf("req-%d", i)
		body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"` + marker + `"}]}`
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-bench")
		sent := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return res, err
		}
		// The first token: the first data line of the stream.
		rd := bufio.NewReader(resp.Body)
		var got time.Time
		for {
			line, err := rd.ReadString('\n')
			if strings.HasPrefix(line, "data: ") && got.IsZero() {
				got = time.Now()
			}
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || got.IsZero() {
			res.errors++
			continue
		}
		d = append(d, got.Sub(since(marker, sent)))
	}
	slices.Sort(d)
	res.p50, res.p99 = percentile(d, 0.5), percentile(d, 0.99)
	return res, nil
}

type oneTable struct{ t *route.Table }

func (o oneTable) Table() *route.Table { return o.t }

type anyKey struct{}

func (anyKey) Check(context.Context, string) (ledger.Key, error) { return ledger.Key{ID: "bench"}, nil }

// renderFailover is the report's failover and hedging section.
func renderFailover(rs []failoverResult) string {
	var b strings.Builder
	b.WriteString("\n## Failover and hedging\n\n")
	fmt.Fprintf(&b, "The gateway in process before loopback upstreams, %d streamed requests per case, one at a time: a route of two\n", failoverRequests)
	b.WriteString("backends, the first failing as the case says (breakers kept shut so every request meets it). Failover time runs\n")
	b.WriteString("from the failure (the refused connect, the 503 leaving the backend, the first-byte timeout firing) to the\n")
	b.WriteString("client's first token from the other backend. TTFT runs from the request to its first token.\n\n")
	b.WriteString("| Case | p50 | p99 | Errors |\n|---|---|---|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", r.name, dur(r.p50), dur(r.p99), r.errors)
	}
	return b.String()
}
