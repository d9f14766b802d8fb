package lambdaemu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Runtime API names, as aws-lambda-go's runtime_api_client.go sends and
// reads them.
const (
	apiPrefix           = "/2018-06-01/runtime"
	headerRequestID     = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID       = "Lambda-Runtime-Trace-Id"
	headerErrorType     = "Lambda-Runtime-Function-Error-Type"
	headerResponseMode  = "Lambda-Runtime-Function-Response-Mode"
	trailerErrorType    = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody    = "Lambda-Runtime-Function-Error-Body"
	contentTypeHTTPResp = "application/vnd.awslambda.http-integration-response"
)

type sandboxState uint8

const (
	stateStarting sandboxState = iota // process started, no /next yet
	stateIdle                         // parked in /next
	stateBusy                         // handed an invocation (or about to be)
	stateDead                         // process exited
)

var errSandboxExited = errors.New("sandbox exited")

// sandbox is one execution environment: a bootstrap process and the
// Runtime API server only it talks to.
type sandbox struct {
	id     int
	e      *Emulator
	cmd    *exec.Cmd
	srv    *http.Server
	invoke chan *invocation // to the parked /next

	ready     chan struct{} // closed on the first /next
	readyOnce sync.Once
	exited    chan struct{} // closed once the process has exited
	exitErr   error         // why; set before exited closes
	killed    atomic.Bool   // we ended it on purpose
	killOnce  sync.Once

	execAt time.Time // just before the fork and exec, for Config.OnColdStart

	// Guarded by e.mu.
	state   sandboxState
	current *invocation
	nextAt  time.Time // the first /next
	invoked bool      // an event has been handed to the runtime
}

// invocation is one event handed to one sandbox.
type invocation struct {
	id       string // Lambda's request id
	event    []byte
	deadline time.Time
	traceID  string
	result   chan *result  // the runtime's /response or /error; buffered
	timedOut chan struct{} // closed when the deadline killed the sandbox
	gone     chan struct{} // closed when the front door stops waiting
	timer    *time.Timer

	// Guarded by e.mu.
	cold      *ColdStart // the sandbox's first invocation, when Config.OnColdStart is set
	responded bool       // /response or /error arrived
	finished  bool       // response complete, failed or timed out
}

// result is the runtime's answer. For /response, the front door reads
// req.Body while the runtime is still sending it.
type result struct {
	req     *http.Request
	errType string // set for /error
	done    chan struct{}
	once    sync.Once
	reply   int // status for the runtime; the front door may set it before release
}

// release tells the runtime side the front door has stopped reading.
func (r *result) release() { r.once.Do(func() { close(r.done) }) }

func (e *Emulator) start(id int) (*sandbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: runtime API listener: %w", err)
	}
	sb := &sandbox{
		id:     id,
		e:      e,
		invoke: make(chan *invocation),
		ready:  make(chan struct{}),
		exited: make(chan struct{}),
	}
	// No read or write timeouts: /next long-polls and responses stream.
	sb.srv = &http.Server{
		Handler:           sb.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	cmd := exec.Command(e.cfg.Bootstrap)
	cmd.Dir = e.dir
	cmd.Env = e.environ(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = e.out, e.out
	cmd.SysProcAttr = procAttr()
	cmd.WaitDelay = time.Second // output copiers, if a grandchild keeps the pipe
	sb.execAt = time.Now()      // before the go statement, so the handlers see it
	go sb.srv.Serve(ln)
	if err := cmd.Start(); err != nil {
		sb.srv.Close()
		return nil, fmt.Errorf("lambdaemu: start %s: %w", e.cfg.Bootstrap, err)
	}
	sb.cmd = cmd
	e.mu.Lock()
	if e.closed { // Close ran while we were starting: it cannot see us
		e.mu.Unlock()
		sb.kill()
		cmd.Wait()
		sb.srv.Close()
		return nil, ErrClosed
	}
	e.all[sb] = struct{}{}
	e.exits.Add(1)
	e.mu.Unlock()
	e.log.Debug("lambdaemu: sandbox started", slog.Int("sandbox", id), slog.Int("pid", cmd.Process.Pid),
		slog.String("runtime_api", ln.Addr().String()))
	go sb.wait()
	return sb, nil
}

// routes is the Runtime API, 2018-06-01.
func (sb *sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", sb.handleNext)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", sb.handleResponse)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", sb.handleError)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", sb.handleInitError)
	return mux
}

// environ is the function's environment: Lambda's variables for a
// provided.al2023 function, then Config.Env, then the Runtime API address.
func (e *Emulator) environ(runtimeAPI string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
	}
	c := e.cfg
	env := []string{
		"PATH=" + path,
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"LAMBDA_TASK_ROOT=" + e.dir,
		"_HANDLER=bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME=" + c.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(c.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + c.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + c.Region,
		"AWS_DEFAULT_REGION=" + c.Region,
	}
	env = append(env, c.Env...)
	return append(env, "AWS_LAMBDA_RUNTIME_API="+runtimeAPI)
}

// wait reaps the process and takes the sandbox out of the pool.
func (sb *sandbox) wait() {
	e := sb.e
	err := sb.cmd.Wait()
	e.mu.Lock()
	sb.state = stateDead
	for i, s := range e.idle {
		if s == sb {
			e.idle = append(e.idle[:i], e.idle[i+1:]...)
			break
		}
	}
	delete(e.all, sb)
	e.live--
	if inv := sb.current; inv != nil {
		inv.finishLocked()
	}
	e.broadcastLocked()
	e.mu.Unlock()
	sb.srv.Close()
	if err == nil {
		err = errors.New("exit status 0")
	}
	sb.exitErr = err
	close(sb.exited)
	level := slog.LevelWarn
	if sb.killed.Load() {
		level = slog.LevelDebug
	}
	e.log.Log(context.Background(), level, "lambdaemu: sandbox exited",
		slog.Int("sandbox", sb.id), slog.Int("pid", sb.cmd.Process.Pid), slog.String("error", err.Error()))
	e.exits.Done()
}

// kill ends the sandbox's whole process group.
func (sb *sandbox) kill() {
	sb.killOnce.Do(func() {
		sb.killed.Store(true)
		if sb.cmd != nil && sb.cmd.Process != nil {
			syscall.Kill(-sb.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
}

// dispatch hands inv to the sandbox's parked /next. sb must have come from
// acquire. On errSandboxExited nothing ran, so the caller may retry.
func (sb *sandbox) dispatch(ctx context.Context, inv *invocation) error {
	e := sb.e
	e.mu.Lock()
	sb.current = inv
	inv.timer = time.AfterFunc(time.Until(inv.deadline), func() { sb.expire(inv) })
	e.mu.Unlock()
	select {
	case sb.invoke <- inv:
		return nil
	case <-sb.exited:
		return fmt.Errorf("%w before the invocation: %w", errSandboxExited, sb.exitErr)
	case <-ctx.Done():
		// Never handed over: the sandbox is still parked and free.
		e.mu.Lock()
		inv.finishLocked()
		if sb.current == inv && sb.state == stateBusy {
			sb.current, sb.state = nil, stateIdle
			e.idle = append(e.idle, sb)
			e.broadcastLocked()
		}
		e.mu.Unlock()
		return context.Cause(ctx)
	}
}

// expire is Lambda's timeout: the invocation fails and the sandbox dies.
func (sb *sandbox) expire(inv *invocation) {
	e := sb.e
	e.mu.Lock()
	if inv.finished {
		e.mu.Unlock()
		return
	}
	inv.finished = true
	e.mu.Unlock()
	close(inv.timedOut)
	e.log.Warn("lambdaemu: task timed out", slog.String("lambda_request_id", inv.id),
		slog.Int("sandbox", sb.id), slog.Duration("timeout", e.cfg.Timeout))
	sb.kill()
}

func (inv *invocation) finishLocked() {
	if !inv.finished {
		inv.finished = true
		if inv.timer != nil {
			inv.timer.Stop()
		}
	}
}

func (sb *sandbox) finish(inv *invocation) {
	sb.e.mu.Lock()
	inv.finishLocked()
	sb.e.mu.Unlock()
}

// claim checks id against the invocation in flight; an invocation is
// answered once.
func (sb *sandbox) claim(id string) (*invocation, bool) {
	sb.e.mu.Lock()
	defer sb.e.mu.Unlock()
	inv := sb.current
	if inv == nil || inv.id != id || inv.responded || inv.finished {
		return nil, false
	}
	inv.responded = true
	return inv, true
}

// handleNext parks the runtime until the front door has an event for it.
// Calling it also completes the previous invocation, as in Lambda.
func (sb *sandbox) handleNext(w http.ResponseWriter, r *http.Request) {
	e := sb.e
	e.mu.Lock()
	if sb.state == stateIdle || sb.state == stateDead {
		e.mu.Unlock()
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition", "another /next is already waiting")
		return
	}
	if inv := sb.current; inv != nil {
		if !inv.responded {
			inv.responded = true
			inv.result <- &result{errType: "Runtime.NoResponse", done: make(chan struct{})}
		}
		inv.finishLocked()
		sb.current = nil
	}
	if sb.nextAt.IsZero() {
		sb.nextAt = time.Now()
	}
	sb.state = stateIdle
	e.idle = append(e.idle, sb)
	e.broadcastLocked()
	e.mu.Unlock()
	sb.readyOnce.Do(func() { close(sb.ready) })

	select {
	case inv := <-sb.invoke:
		if e.cfg.OnColdStart != nil {
			sb.noteInvoked(inv)
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set(headerRequestID, inv.id)
		h.Set(headerDeadlineMS, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, e.arn)
		h.Set(headerTraceID, inv.traceID)
		w.Write(inv.event)
	case <-r.Context().Done():
		// The runtime hung up while waiting: it is broken or going away,
		// and must not be handed work.
		sb.kill()
	}
}

// noteInvoked starts the cold-start record of the sandbox's first invocation.
func (sb *sandbox) noteInvoked(inv *invocation) {
	now := time.Now()
	sb.e.mu.Lock()
	defer sb.e.mu.Unlock()
	if !sb.invoked {
		sb.invoked = true
		inv.cold = &ColdStart{Sandbox: sb.id, Pid: sb.cmd.Process.Pid, Exec: sb.execAt, Next: sb.nextAt, Invoked: now}
	}
}

// firstByteReader notes when the first byte of a body arrives.
type firstByteReader struct {
	io.ReadCloser
	at time.Time
}

func (f *firstByteReader) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && f.at.IsZero() {
		f.at = time.Now()
	}
	return n, err
}

// handleResponse passes the function's response to the front door as it
// arrives and answers the runtime once the body has ended.
func (sb *sandbox) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv, ok := sb.claim(r.PathValue("id"))
	if !ok {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with this id")
		return
	}
	var first *firstByteReader
	if inv.cold != nil { // set before claim, under the same lock
		first = &firstByteReader{ReadCloser: r.Body}
		r.Body = first
	}
	res := &result{req: r, done: make(chan struct{}), reply: http.StatusAccepted}
	inv.result <- res
	select {
	case <-res.done:
	case <-inv.gone:
	}
	_, err := io.Copy(io.Discard, r.Body) // whatever the front door left
	sb.finish(inv)
	if first != nil && !first.at.IsZero() { // the front door has stopped reading
		c := *inv.cold
		c.FirstByte = first.at
		sb.e.cfg.OnColdStart(c)
	}
	if err != nil {
		return // the runtime is gone, killed or timed out
	}
	if typ := r.Trailer.Get(trailerErrorType); typ != "" {
		sb.logFunctionError(inv, typ, decodeTrailerBody(r.Trailer.Get(trailerErrorBody)), "response stream")
	}
	runtimeReply(w, res.reply)
}

// handleError fails the invocation with the function's error.
func (sb *sandbox) handleError(w http.ResponseWriter, r *http.Request) {
	inv, ok := sb.claim(r.PathValue("id"))
	if !ok {
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with this id")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	typ := r.Header.Get(headerErrorType)
	if typ == "" {
		typ = "Unhandled"
	}
	sb.logFunctionError(inv, typ, body, "invocation error")
	inv.result <- &result{errType: typ, done: make(chan struct{})}
	sb.finish(inv)
	runtimeReply(w, http.StatusAccepted)
}

// handleInitError records a failed init; like Lambda, the sandbox is then
// discarded.
func (sb *sandbox) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	sb.e.log.Error("lambdaemu: init error", slog.Int("sandbox", sb.id),
		slog.String("error_type", r.Header.Get(headerErrorType)), slog.String("error", string(body)))
	runtimeReply(w, http.StatusAccepted)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	sb.kill()
}

func (sb *sandbox) logFunctionError(inv *invocation, typ string, body []byte, where string) {
	var fe struct {
		Message string `json:"errorMessage"`
	}
	msg := string(body)
	if json.Unmarshal(body, &fe) == nil && fe.Message != "" {
		msg = fe.Message
	}
	sb.e.log.Error("lambdaemu: function error", slog.String("lambda_request_id", inv.id),
		slog.Int("sandbox", sb.id), slog.String("where", where),
		slog.String("error_type", typ), slog.String("error", msg))
}

func runtimeReply(w http.ResponseWriter, code int) {
	if code != http.StatusAccepted {
		runtimeError(w, code, "Function.ResponseSizeTooLarge", "response payload size exceeded maximum allowed payload size")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, `{"status":"OK"}`)
}

func runtimeError(w http.ResponseWriter, code int, typ, msg string) {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// decodeTrailerBody undoes aws-lambda-go's base64 of the error JSON.
func decodeTrailerBody(s string) []byte {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}
