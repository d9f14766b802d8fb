package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// The request every run sends: a small chat completion, plain or streamed.
var (
	chatBody = []byte(`{"model":"mock-gpt","messages":[{"role":"user","content":"Say hello in five words."}]}`)
	// cachedBody goes to the route with a CachePolicy; at temperature 0 its
	// answer is cached, so after the first request every one is a hit.
	cachedBody = []byte(`{"model":"mock-cached","temperature":0,"messages":[{"role":"user","content":"Say hello in five words."}]}`)
	// semanticBody goes to the route whose CachePolicy is semantic only:
	// every request after the first embeds its question (the mock's
	// embeddings), finds the stored one in the vector index and is a hit.
	semanticBody = []byte(`{"model":"mock-semantic","temperature":0,"messages":[{"role":"user","content":"Say hello in five words."}]}`)
	streamBody   = []byte(`{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"Say hello in five words."}]}`)
)

// The translating path's requests: the same streamed chat completion for
// model mock-claude, which the gateway routes to the Anthropic mock, and
// the Messages request it becomes there (same prompt, the max_tokens the
// translation sends when the client sets none), sent to the mock directly.
var (
	claudeStreamBody    = []byte(`{"model":"mock-claude","stream":true,"messages":[{"role":"user","content":"Say hello in five words."}]}`)
	anthropicStreamBody = []byte(`{"model":"mock-claude","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"Say hello in five words."}]}`)
	anthropicHeader     = http.Header{"Anthropic-Version": {"2023-06-01"}}
)

// endpoint is where a run sends its requests: the mock directly, or the
// gateway with its API key. body and header, when set, are the request
// body and extra headers of runs that send a different request to each
// endpoint.
type endpoint struct {
	name   string
	url    string
	key    string
	body   []byte
	header http.Header
}

// newClient is a keep-alive HTTP/1.1 client with room for conns
// connections, no proxy and no compression.
func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        2 * conns,
			MaxIdleConnsPerHost: 2 * conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		Timeout: 10 * time.Second,
	}
}

// post sends a chat completion and reads the whole answer.
func post(ctx context.Context, c *http.Client, url, key string, body []byte) (int, error) {
	req, err := newRequest(ctx, url, key, body)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func newRequest(ctx context.Context, url, key string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req, nil
}

// sample is one exchange, timed from when it was sent (or, in the open
// loop, from when it was due).
type sample struct {
	first time.Duration // first byte of the body
	total time.Duration // whole body read
}

// exchange sends one request and reads the answer, noting when the first
// body byte and the end arrived.
func exchange(ctx context.Context, c *http.Client, e endpoint, body, buf []byte) (first, done time.Time, err error) {
	req, err := newRequest(ctx, e.url, e.key, body)
	if err != nil {
		return first, done, err
	}
	for k, v := range e.header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return first, done, err
	}
	defer resp.Body.Close()
	n, rerr := 0, error(nil)
	for n == 0 && rerr == nil {
		n, rerr = resp.Body.Read(buf)
	}
	first = time.Now()
	if resp.StatusCode != http.StatusOK {
		return first, done, fmt.Errorf("%s answered %d: %.200s", e.name, resp.StatusCode, buf[:n])
	}
	for rerr == nil {
		_, rerr = resp.Body.Read(buf)
	}
	done = time.Now()
	if rerr != io.EOF {
		return first, done, fmt.Errorf("%s: read answer: %w", e.name, rerr)
	}
	return first, done, nil
}

// runResult is what a run measured.
type runResult struct {
	samples  []sample
	errors   int
	firstErr error
	elapsed  time.Duration
}

func (r *runResult) add(o runResult) {
	r.samples = append(r.samples, o.samples...)
	r.errors += o.errors
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
}

// note adds one exchange timed from t0: its sample, or its error.
func (r *runResult) note(t0, first, done time.Time, err error) {
	if err != nil {
		r.errors++
		if r.firstErr == nil {
			r.firstErr = err
		}
		return
	}
	r.samples = append(r.samples, sample{first: first.Sub(t0), total: done.Sub(t0)})
}

// check fails a run with more than 1% errors, or none answered.
func (r runResult) check(what string) error {
	if n := len(r.samples) + r.errors; n == 0 || r.errors*100 > n {
		return fmt.Errorf("%s: %d of %d requests failed; first: %v", what, r.errors, n, r.firstErr)
	}
	return nil
}

// closedLoop keeps conns requests in flight for d: each connection sends
// its next request when the previous answer has been read.
func closedLoop(ctx context.Context, c *http.Client, e endpoint, body []byte, conns int, d time.Duration) runResult {
	start := time.Now()
	end := start.Add(d)
	results := make([]runResult, conns)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			r := &results[i]
			buf := make([]byte, 32<<10)
			for ctx.Err() == nil && time.Now().Before(end) {
				t0 := time.Now()
				first, done, err := exchange(ctx, c, e, body, buf)
				r.note(t0, first, done, err)
			}
		})
	}
	wg.Wait()
	var all runResult
	for _, r := range results {
		all.add(r)
	}
	all.elapsed = time.Since(start)
	return all
}

// openLoop sends requests at a fixed rate for d whatever the answers do,
// and times each from when it was due, so a stall counts against every
// request it delays (no coordinated omission).
func openLoop(ctx context.Context, c *http.Client, e endpoint, body []byte, rate float64, d time.Duration) runResult {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	due := make(chan time.Time, n)
	const workers = 64
	start := time.Now()
	go pace(ctx, start, interval, n, due)
	results := make([]runResult, workers)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			r := &results[i]
			buf := make([]byte, 32<<10)
			for at := range due {
				first, done, err := exchange(ctx, c, e, body, buf)
				r.note(at, first, done, err)
			}
		})
	}
	wg.Wait()
	var all runResult
	for _, r := range results {
		all.add(r)
	}
	all.elapsed = time.Since(start)
	return all
}

// pace sends n due times, interval apart from start, each when it is due.
func pace(ctx context.Context, start time.Time, interval time.Duration, n int, due chan<- time.Time) {
	defer close(due)
	defer preciseClock()()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		sleepUntil(at)
		if ctx.Err() != nil {
			return
		}
		due <- at
	}
}
