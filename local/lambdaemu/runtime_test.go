package lambdaemu

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRuntimeAPI drives one sandbox's Runtime API by hand, as a runtime
// would, with no process behind it: the /next headers, answering once,
// unknown ids and a second waiting /next.
func TestRuntimeAPI(t *testing.T) {
	e := &Emulator{
		cfg:     Config{Timeout: time.Minute, Concurrency: 1},
		log:     slog.New(slog.DiscardHandler),
		arn:     "arn:aws:lambda:us-east-1:123456789012:function:fn",
		all:     map[*sandbox]struct{}{},
		changed: make(chan struct{}),
	}
	sb := &sandbox{id: 1, e: e, invoke: make(chan *invocation), ready: make(chan struct{}), exited: make(chan struct{})}
	e.all[sb], e.live = struct{}{}, 1
	srv := httptest.NewServer(sb.routes())
	defer srv.Close()
	api := srv.URL + apiPrefix

	type reply struct {
		code   int
		header http.Header
		body   string
	}
	do := func(method, path, body string, header map[string]string) reply {
		t.Helper()
		req, _ := http.NewRequest(method, api+path, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{resp.StatusCode, resp.Header, string(b)}
	}
	next := func() chan reply {
		ch := make(chan reply, 1)
		go func() { ch <- do(http.MethodGet, "/invocation/next", "", nil) }()
		return ch
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	invoke := func(id string) *invocation {
		t.Helper()
		got, err := e.acquire(ctx) // waits for the parked /next
		if err != nil || got != sb {
			t.Fatalf("acquire: %v %v", got, err)
		}
		inv := &invocation{id: id, event: []byte(`{"k":1}`), deadline: time.Now().Add(time.Minute), traceID: "Root=1-x",
			result: make(chan *result, 1), timedOut: make(chan struct{}), gone: make(chan struct{})}
		if err := sb.dispatch(ctx, inv); err != nil {
			t.Fatal(err)
		}
		return inv
	}

	first := next()
	inv := invoke("req-1")
	r := <-first
	deadline, _ := strconv.ParseInt(r.header.Get(headerDeadlineMS), 10, 64)
	if r.code != 200 || r.body != `{"k":1}` || r.header.Get(headerRequestID) != "req-1" ||
		r.header.Get(headerFunctionARN) != e.arn || r.header.Get(headerTraceID) != "Root=1-x" ||
		deadline != inv.deadline.UnixMilli() {
		t.Fatalf("/next: %+v", r)
	}

	var errBody struct{ ErrorType string }
	if r := do(http.MethodPost, "/invocation/bogus/response", "{}", nil); r.code != 400 ||
		json.Unmarshal([]byte(r.body), &errBody) != nil || errBody.ErrorType != "InvalidRequestID" {
		t.Errorf("unknown id: %+v", r)
	}
	r = do(http.MethodPost, "/invocation/req-1/error", `{"errorMessage":"x","errorType":"MyError"}`,
		map[string]string{headerErrorType: "MyError", "Content-Type": "application/json"})
	if r.code != http.StatusAccepted || r.body != `{"status":"OK"}` {
		t.Errorf("/error: %+v", r)
	}
	if res := <-inv.result; res.errType != "MyError" {
		t.Errorf("result error type %q", res.errType)
	}
	if r := do(http.MethodPost, "/invocation/req-1/response", "{}", nil); r.code != 400 {
		t.Errorf("second answer to one invocation: %+v", r)
	}

	second := next() // completes req-1 and parks again
	waitIdle(t, e, sb)
	if r := do(http.MethodGet, "/invocation/next", "", nil); r.code != http.StatusForbidden {
		t.Errorf("a second waiting /next: %+v", r)
	}
	invoke("req-2")
	if r := <-second; r.header.Get(headerRequestID) != "req-2" {
		t.Errorf("second /next got %+v", r)
	}

	// An init error is acknowledged and the sandbox discarded.
	r = do(http.MethodPost, "/init/error", `{"errorMessage":"no config","errorType":"Runtime.ConfigError"}`,
		map[string]string{headerErrorType: "Runtime.ConfigError"})
	if r.code != http.StatusAccepted || !sb.killed.Load() {
		t.Errorf("/init/error: %+v, killed %v", r, sb.killed.Load())
	}
}

func waitIdle(t *testing.T, e *Emulator, sb *sandbox) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		idle, ch := sb.state == stateIdle, e.changed
		e.mu.Unlock()
		if idle {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatal("sandbox never parked in /next")
		}
	}
}
