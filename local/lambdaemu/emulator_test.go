package lambdaemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bootstrapPath is the test function, built once by TestMain; empty in
// short mode, where the tests that run it skip.
var bootstrapPath string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "lambdaemu-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bootstrapPath = filepath.Join(dir, "fn", "bootstrap")
	// go test puts its own toolchain first in PATH.
	cmd := exec.Command("go", "build", "-o", bootstrapPath, "./testdata/bootstrap")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build test bootstrap:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects logs and function output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// signals is a loopback endpoint the test function calls to wait: a call
// to /name is reported on arrived and answered once the test opens name.
type signals struct {
	srv     *httptest.Server
	arrived chan string
	mu      sync.Mutex
	gates   map[string]chan struct{}
}

func newSignals(t *testing.T) *signals {
	s := &signals{arrived: make(chan string, 64), gates: map[string]chan struct{}{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		s.arrived <- name
		select {
		case <-s.gate(name):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *signals) gate(name string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gates[name]
	if !ok {
		g = make(chan struct{})
		s.gates[name] = g
	}
	return g
}

func (s *signals) open(name string) { close(s.gate(name)) }

func (s *signals) url(name string) string { return s.srv.URL + "/" + name }

// await waits for n calls to name.
func (s *signals) await(t *testing.T, name string, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for n > 0 {
		select {
		case got := <-s.arrived:
			if got == name {
				n--
			}
		case <-timeout:
			t.Fatalf("function never called signal %q", name)
		}
	}
}

type harness struct {
	emu     *Emulator
	srv     *httptest.Server
	logs    *syncBuffer
	signals *signals
	client  *http.Client
}

// function returns the test function's bootstrap, skipping tb in short mode,
// where it is not built: the emulator runs it as a process.
func function(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("skipping in short mode: runs the function as a process")
	}
	return bootstrapPath
}

func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		Bootstrap:   function(t),
		Env:         []string{"SLUICE_TEST=yes"},
		Concurrency: 2,
		Timeout:     20 * time.Second,
		Output:      logs,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	emu, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		emu.Close() // first, so no request is left waiting on a function
		srv.Close()
		if t.Failed() || os.Getenv("SHOWLOGS") != "" {
			t.Logf("emulator log and function output:\n%s", logs)
		}
	})
	return &harness{emu: emu, srv: srv, logs: logs, signals: newSignals(t), client: &http.Client{Timeout: 20 * time.Second}}
}

func (h *harness) get(t *testing.T, path string) *http.Response {
	t.Helper()
	resp, err := h.client.Get(h.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

var modes = []struct {
	name string
	env  []string
}{
	{"stream", nil},
	{"buffered", []string{"SLUICE_LAMBDA_STREAM=false"}},
}

func withEnv(env ...string) func(*Config) {
	return func(c *Config) { c.Env = append(c.Env, env...) }
}

func TestPlainResponse(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t, withEnv(m.env...))
			resp := h.get(t, "/plain")
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusCreated || body != "hello" {
				t.Fatalf("got %d %q, want 201 hello", resp.StatusCode, body)
			}
			for k, want := range map[string][]string{
				"Content-Type": {"text/plain; charset=utf-8"},
				"X-Multi":      {"a", "b"},
				"Set-Cookie":   {"a=1", "b=2"},
			} {
				if got := resp.Header.Values(k); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId header")
			}
		})
	}
}

func TestBinaryResponse(t *testing.T) {
	want := "\x00\xff\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00\x03" // NULs in the body must not confuse the prelude
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t, withEnv(m.env...))
			resp := h.get(t, "/binary")
			if body := readAll(t, resp); resp.StatusCode != 200 || body != want {
				t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, want)
			}
		})
	}
}

// TestEvent checks what the function sees: the request rebuilt from the
// REST event, its ids and deadline, and Lambda's environment.
func TestEvent(t *testing.T) {
	h := newHarness(t, nil)
	body := []byte{0, 0xff, 'x'}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/echo/a%20b?x=1&x=2&y=z%20w", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw := readAll(t, resp)
	var got struct {
		Method, Path, EscapedPath, RawQuery, Host, RemoteAddr, Body string
		Header                                                      http.Header
		LambdaRequestID                                             string `json:"lambdaRequestId"`
		GatewayRequestID                                            string `json:"gatewayRequestId"`
		HasDeadline                                                 bool
		Env                                                         map[string]string
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	want := map[string]any{
		"method":      [2]string{got.Method, "POST"},
		"path":        [2]string{got.Path, "/echo/a b"},
		"escapedPath": [2]string{got.EscapedPath, "/echo/a%20b"},
		"rawQuery":    [2]string{got.RawQuery, "x=1&x=2&y=z+w"},
		"host":        [2]string{got.Host, strings.TrimPrefix(h.srv.URL, "http://")},
		"remoteAddr":  [2]string{got.RemoteAddr, "127.0.0.1:0"},
		"body":        [2]string{got.Body, base64.StdEncoding.EncodeToString(body)},
		"gateway id":  [2]string{got.GatewayRequestID, resp.Header.Get("X-Amzn-Requestid")},
		"x-multi":     [2]string{strings.Join(got.Header["X-Multi"], ","), "a,b"},
		"xff":         [2]string{got.Header.Get("X-Forwarded-For"), "127.0.0.1"},
		"xfproto":     [2]string{got.Header.Get("X-Forwarded-Proto"), "http"},
		"fn name":     [2]string{got.Env["AWS_LAMBDA_FUNCTION_NAME"], "fn"},
		"memory":      [2]string{got.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128"},
		"version":     [2]string{got.Env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST"},
		"region":      [2]string{got.Env["AWS_REGION"], "us-east-1"},
		"handler":     [2]string{got.Env["_HANDLER"], "bootstrap"},
		"task root":   [2]string{got.Env["LAMBDA_TASK_ROOT"], filepath.Dir(bootstrapPath)},
		"extra env":   [2]string{got.Env["SLUICE_TEST"], "yes"},
		"no HOME":     [2]string{got.Env["HOME"], ""},
	}
	for name, v := range want {
		if p := v.([2]string); p[0] != p[1] {
			t.Errorf("%s = %q, want %q", name, p[0], p[1])
		}
	}
	if got.LambdaRequestID == "" || got.LambdaRequestID == got.GatewayRequestID || !got.HasDeadline {
		t.Errorf("lambda request id %q (gateway %q), deadline %v", got.LambdaRequestID, got.GatewayRequestID, got.HasDeadline)
	}
}

// TestStreamFirstEventEarly: the first SSE event reaches the client while
// the function is blocked before writing the second, which it does only
// after the test has received the first.
func TestStreamFirstEventEarly(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.get(t, "/sse?signal="+h.signals.url("sse"))
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	first := make([]byte, len("data: 1\n\n"))
	if _, err := io.ReadFull(br, first); err != nil || string(first) != "data: 1\n\n" {
		t.Fatalf("first event %q, %v", first, err)
	}
	h.signals.await(t, "sse", 1) // the function is still running, waiting on us
	h.signals.open("sse")
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "data: 2\n\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// TestBufferedStreamingHandler: with SLUICE_LAMBDA_STREAM=false a streaming
// handler still works, its events arriving together.
func TestBufferedStreamingHandler(t *testing.T) {
	h := newHarness(t, withEnv("SLUICE_LAMBDA_STREAM=false"))
	h.signals.open("sse")
	resp := h.get(t, "/sse?signal="+h.signals.url("sse"))
	if body := readAll(t, resp); body != "data: 1\n\ndata: 2\n\n" {
		t.Fatalf("body %q", body)
	}
	if resp.ContentLength != int64(len("data: 1\n\ndata: 2\n\n")) {
		t.Errorf("content length %d: buffered responses have one", resp.ContentLength)
	}
}

// TestPanicMidStream: the client gets the first event, then its connection
// is cut; the function's error is logged and the sandbox keeps serving.
func TestPanicMidStream(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Concurrency = 1 })
	resp := h.get(t, "/panic")
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if string(body) != "data: 1\n\n" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("body %q, err %v; want the first event then an unexpected EOF", body, err)
	}
	if resp := h.get(t, "/plain"); readAll(t, resp) != "hello" {
		t.Fatal("sandbox unusable after a handler panic")
	}
	if logs := h.logs.String(); !strings.Contains(logs, "error_type=HandlerPanic") || !strings.Contains(logs, "mid-stream") {
		t.Errorf("function error not logged:\n%s", logs)
	}
}

// TestClientGoneMidStream: as in Lambda, the function runs to the end when
// the client hangs up, the rest of its response is drained, and the
// sandbox serves the next request.
func TestClientGoneMidStream(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Concurrency = 1 })
	resp := h.get(t, "/sse?signal="+h.signals.url("gone"))
	first := make([]byte, len("data: 1\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	h.signals.await(t, "gone", 1)
	resp.Body.Close()
	h.client.CloseIdleConnections()
	h.signals.open("gone")
	resp = h.get(t, "/plain")
	if body := readAll(t, resp); resp.StatusCode != http.StatusCreated || body != "hello" {
		t.Fatalf("after a client left mid-stream: %d %q", resp.StatusCode, body)
	}
	if n := strings.Count(h.logs.String(), "sandbox started"); n != 1 {
		t.Errorf("%d sandboxes started, want the first one reused", n)
	}
}

// TestCrash: a bootstrap that exits mid-invocation gives 502, and the next
// request gets a fresh sandbox.
func TestCrash(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Concurrency = 1; c.Env = append(c.Env, m.env...) })
			resp := h.get(t, "/crash")
			if body := readAll(t, resp); resp.StatusCode != http.StatusBadGateway || body != `{"message":"Internal server error"}` {
				t.Fatalf("got %d %q, want 502 Internal server error", resp.StatusCode, body)
			}
			resp = h.get(t, "/plain")
			if body := readAll(t, resp); resp.StatusCode != http.StatusCreated || body != "hello" {
				t.Fatalf("after the crash: %d %q", resp.StatusCode, body)
			}
		})
	}
}

// TestTimeout: an invocation past the function timeout is killed with its
// sandbox and answered 504; the next request works.
func TestTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Concurrency = 1; c.Timeout = 500 * time.Millisecond })
	resp := h.get(t, "/hang")
	if body := readAll(t, resp); resp.StatusCode != http.StatusGatewayTimeout || body != `{"message":"Endpoint request timed out"}` {
		t.Fatalf("got %d %q, want 504", resp.StatusCode, body)
	}
	if resp := h.get(t, "/plain"); readAll(t, resp) != "hello" {
		t.Fatal("no recovery after a timeout")
	}
}

// TestConcurrency: requests at once run in separate sandboxes, never more
// than Concurrency, and idle sandboxes are reused.
func TestConcurrency(t *testing.T) {
	const n = 3
	h := newHarness(t, func(c *Config) { c.Concurrency = n })
	pids := make(chan string, n+1)
	errs := make(chan error, n+1)
	fetch := func(path string) {
		resp, err := h.client.Get(h.srv.URL + path)
		if err != nil {
			errs <- err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			errs <- fmt.Errorf("status %d, %v: %s", resp.StatusCode, err, b)
			return
		}
		pids <- string(b)
	}
	for range n {
		go fetch("/pid?signal=" + h.signals.url("together"))
	}
	h.signals.await(t, "together", n) // all n invocations are running at once
	h.signals.open("together")
	seen := map[string]bool{}
	for range n {
		select {
		case pid := <-pids:
			seen[pid] = true
		case err := <-errs:
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d concurrent requests ran in %d processes, want %d", n, len(seen), n)
	}
	fetch("/pid")
	select {
	case pid := <-pids:
		if !seen[pid] {
			t.Errorf("pid %s: an idle sandbox was not reused", pid)
		}
	case err := <-errs:
		t.Fatal(err)
	}
	h.emu.mu.Lock()
	live := h.emu.live
	h.emu.mu.Unlock()
	if live != n {
		t.Errorf("%d sandboxes live, want %d", live, n)
	}

	// Close leaves no process behind, and later requests are refused.
	h.emu.Close()
	for pid := range seen {
		p, _ := strconv.Atoi(pid)
		if err := syscall.Kill(p, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Close (kill 0: %v)", p, err)
		}
	}
	if resp := h.get(t, "/plain"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Close: status %d, want 503", resp.StatusCode)
	}
}

// TestInitFailure: a bootstrap that dies before asking for an event gives
// 502, without the emulator restarting it in a loop.
func TestInitFailure(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bad, []byte("#!/bin/sh\necho init failed >&2\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) { c.Bootstrap = bad })
	resp := h.get(t, "/plain")
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("got %d %q, want 502", resp.StatusCode, body)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "init failed") || !strings.Contains(logs, "exit status 7") {
		t.Errorf("init failure not visible in the logs:\n%s", logs)
	}
}

func TestNewChecksBootstrap(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "bootstrap")
	os.WriteFile(notExec, []byte("x"), 0o644)
	for name, path := range map[string]string{"empty": "", "missing": filepath.Join(dir, "nope"), "directory": dir, "not executable": notExec} {
		if _, err := New(context.Background(), Config{Bootstrap: path}); err == nil {
			t.Errorf("%s: New accepted %q", name, path)
		}
	}
}

// bigBody is what /big?n= sends.
func bigBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % (64 << 10) % 251)
	}
	return b
}

func TestLargeResponse(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		n    int
	}{
		{"stream beyond the buffered limit", nil, 8 << 20},
		{"buffered", []string{"SLUICE_LAMBDA_STREAM=false"}, 2 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withEnv(tt.env...))
			resp := h.get(t, "/big?n="+strconv.Itoa(tt.n))
			if body := readAll(t, resp); resp.StatusCode != 200 || body != string(bigBody(tt.n)) {
				t.Fatalf("status %d, %d bytes; want 200 and the %d bytes sent", resp.StatusCode, len(body), tt.n)
			}
		})
	}
}

// TestBufferedTooLarge: like Lambda, a buffered response over 6 MB fails
// the invocation (the runtime is told 413) and the client gets 502.
func TestBufferedTooLarge(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Concurrency = 1; c.Env = append(c.Env, "SLUICE_LAMBDA_STREAM=false") })
	resp := h.get(t, "/big?n="+strconv.Itoa(5<<20)) // 6.7 MB once in base64
	if body := readAll(t, resp); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("got %d %.100q, want 502", resp.StatusCode, body)
	}
	if resp := h.get(t, "/plain"); readAll(t, resp) != "hello" {
		t.Fatal("no recovery after an oversized response")
	}
	if logs := h.logs.String(); !strings.Contains(logs, "ResponseSizeTooLarge") {
		t.Errorf("size error not logged:\n%s", logs)
	}
}

// TestRequestTooLarge: a body over Lambda's 6 MB payload limit never
// reaches the function: the front door answers 413 itself, API Gateway's
// way or through Config.RequestTooLarge, whether the length is declared
// or only found by reading.
func TestRequestTooLarge(t *testing.T) {
	custom := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, "custom "+r.URL.Path)
	})
	tests := []struct {
		name    string
		handler http.Handler
		chunked bool
		want    string
	}{
		{"default", nil, false, `{"message":"Request Too Long"}`},
		{"default, chunked", nil, true, `{"message":"Request Too Long"}`},
		{"custom", custom, false, "custom /echo"},
		{"custom, chunked", custom, true, "custom /echo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.RequestTooLarge = tt.handler })
			var body io.Reader = bytes.NewReader(make([]byte, maxRequestBody+1))
			if tt.chunked {
				body = io.MultiReader(body) // no length: the front door finds out by reading
			}
			resp, err := h.client.Post(h.srv.URL+"/echo", "application/octet-stream", body)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || got != tt.want {
				t.Fatalf("got %d %q, want 413 %q", resp.StatusCode, got, tt.want)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId on the 413")
			}
			h.emu.mu.Lock()
			started := h.emu.nextID
			h.emu.mu.Unlock()
			if started != 0 {
				t.Errorf("%d sandboxes started for a request that cannot reach the function", started)
			}
		})
	}
}

// TestFunctionError: an error the handler returns goes to /error and the
// client gets API Gateway's 502.
func TestFunctionError(t *testing.T) {
	h := newHarness(t, withEnv("TEST_FUNCTION_ERROR=1"))
	for range 2 { // the sandbox survives a function error
		resp := h.get(t, "/anything")
		if body := readAll(t, resp); resp.StatusCode != http.StatusBadGateway || body != `{"message":"Internal server error"}` {
			t.Fatalf("got %d %q, want 502", resp.StatusCode, body)
		}
	}
	if logs := h.logs.String(); !strings.Contains(logs, `error="raw failure"`) || strings.Count(logs, "sandbox started") != 1 {
		t.Errorf("want the error logged and one sandbox reused:\n%s", logs)
	}
}

// TestColdStart: OnColdStart reports each sandbox's first invocation once,
// its steps in order, and the first byte as it arrives: in the stream mode,
// while the function still waits on the test.
func TestColdStart(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			colds := make(chan ColdStart, 4)
			h := newHarness(t, func(c *Config) {
				c.Env = append(c.Env, m.env...)
				c.Concurrency = 1
				c.OnColdStart = func(cs ColdStart) { colds <- cs }
			})
			streamed := m.env == nil
			if !streamed { // the buffered answer comes only once the function ends
				h.signals.open("sse")
			}
			resp := h.get(t, "/sse?signal="+h.signals.url("sse"))
			h.signals.await(t, "sse", 1)
			let := time.Now() // the function goes on from here
			if streamed {
				h.signals.open("sse")
			}
			if body := readAll(t, resp); body != "data: 1\n\ndata: 2\n\n" {
				t.Fatalf("body %q", body)
			}
			var cs ColdStart
			select {
			case cs = <-colds:
			case <-time.After(10 * time.Second):
				t.Fatal("OnColdStart not called")
			}
			if cs.Sandbox != 1 || cs.Pid == 0 || cs.Exec.IsZero() || !cs.Exec.Before(cs.Next) || cs.Invoked.Before(cs.Next) || cs.FirstByte.Before(cs.Invoked) {
				t.Errorf("steps out of order: %+v", cs)
			}
			if cs.Init()+cs.HandOff()+cs.Invocation() != cs.Total() {
				t.Errorf("parts %v + %v + %v do not add up to %v", cs.Init(), cs.HandOff(), cs.Invocation(), cs.Total())
			}
			if streamed && !cs.FirstByte.Before(let) {
				t.Errorf("first byte at %v, after the function was let go on at %v", cs.FirstByte, let)
			}
			// Warm invocations of the same sandbox report nothing: the
			// third starts only after the second's response was handled.
			for range 2 {
				readAll(t, h.get(t, "/plain"))
			}
			if len(colds) != 0 {
				t.Errorf("warm invocations reported as cold starts: %+v", <-colds)
			}
		})
	}
}

func BenchmarkFrontDoor(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			emu, err := New(context.Background(), Config{
				Bootstrap: function(b), Env: m.env, Concurrency: 1,
				Output: io.Discard, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer emu.Close()
			srv := httptest.NewServer(emu)
			defer srv.Close()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := http.Get(srv.URL + "/plain")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
