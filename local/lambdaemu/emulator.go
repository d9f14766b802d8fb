// Package lambdaemu runs a real Lambda bootstrap executable locally, with no
// Docker and no AWS account: it serves the Lambda Runtime API (2018-06-01,
// including the streaming response mode) to the process and fronts it with
// an API Gateway REST-style endpoint using a {proxy+} resource.
//
// AWS's Runtime Interface Emulator cannot stream, and SAM needs Docker;
// this is the small subset Sluice's functions use, kept faithful where a
// handler could tell the difference: the event shape, one invocation per
// sandbox at a time, deadlines, streamed bodies and mid-stream errors, and
// API Gateway's 502 and 504 answers.
package lambdaemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// ErrClosed is returned for requests that arrive after Close.
var ErrClosed = errors.New("lambdaemu: emulator closed")

// Config describes the function; zero fields mean the defaults noted.
type Config struct {
	// Bootstrap is the function's executable, as packaged for the
	// provided.al2023 runtime (built for this machine's OS and CPU).
	Bootstrap string
	// Env is added to the function's environment, KEY=VALUE. As in Lambda,
	// the caller's own environment is not inherited (only PATH is), so pass
	// credentials and SLUICE_* settings here.
	Env []string
	// Concurrency bounds the sandboxes (default 4). Each runs one invocation
	// at a time, as in Lambda; sandboxes start when first needed and are
	// reused. Requests beyond it wait for a free one.
	Concurrency int
	// Timeout is the function timeout (default 5 minutes). An invocation
	// still running then is killed with its sandbox and the client gets 504,
	// or a cut connection once the response has begun. It also bounds the
	// wait for a free sandbox.
	Timeout time.Duration
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME (default: the name of the
	// directory holding Bootstrap, e.g. "gateway" for build/gateway/bootstrap).
	FunctionName string
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default 128); it limits
	// nothing here.
	MemoryMB int
	// Region is AWS_REGION (default us-east-1).
	Region string
	// Stage is the API Gateway stage in the events (default "local").
	Stage string
	// Output receives the bootstrap's stdout and stderr (default os.Stderr).
	Output io.Writer
	// Logger gets one line per request and the function's errors; nil
	// means slog.Default().
	Logger *slog.Logger
	// RequestTooLarge, when set, answers the requests whose body exceeds
	// Lambda's 6 MB payload limit, which never reach the function; it must
	// answer 413. Nil: 413 {"message": "Request Too Long"}, API Gateway's
	// own answer to a body too large.
	RequestTooLarge http.Handler
	// OnColdStart, when set, is called once for each sandbox whose first
	// invocation got a response, after the emulator has read that response
	// whole, with the times of the sandbox's start: it lets a benchmark
	// time a cold start without counting its own client. It runs on the
	// Runtime API's goroutine for that sandbox and must not block.
	OnColdStart func(ColdStart)
}

// ColdStart is when a sandbox's start passed each step, as the emulator saw
// it. Exec to FirstByte is the cold start a client waits for, less the front
// door's relay; Exec to Next is the function's init phase.
type ColdStart struct {
	Sandbox   int
	Pid       int       // the bootstrap's process, still running when OnColdStart is called
	Exec      time.Time // just before the bootstrap was forked and executed
	Next      time.Time // the runtime's first /next arrived: init was done
	Invoked   time.Time // the first event was handed to the runtime
	FirstByte time.Time // the first byte of that invocation's response body arrived
}

// Init is the function's init phase: exec to the runtime's first /next.
func (c ColdStart) Init() time.Duration { return c.Next.Sub(c.Exec) }

// HandOff is the emulator's own part: the first /next to the event handed
// over in its answer.
func (c ColdStart) HandOff() time.Duration { return c.Invoked.Sub(c.Next) }

// Invocation is the first invocation up to its first byte: the event handed
// over to the first byte of the response body.
func (c ColdStart) Invocation() time.Duration { return c.FirstByte.Sub(c.Invoked) }

// Total is exec to the first byte of the first response.
func (c ColdStart) Total() time.Duration { return c.FirstByte.Sub(c.Exec) }

const (
	defaultConcurrency = 4
	defaultTimeout     = 5 * time.Minute
	accountID          = "123456789012"
)

// Emulator is the front door (ServeHTTP) and the pool of sandboxes behind it.
type Emulator struct {
	cfg  Config
	log  *slog.Logger
	out  io.Writer
	arn  string
	dir  string // LAMBDA_TASK_ROOT
	stop func() bool

	mu      sync.Mutex
	closed  bool
	live    int        // sandboxes started and not yet exited
	idle    []*sandbox // waiting in /next for an invocation
	all     map[*sandbox]struct{}
	changed chan struct{} // closed and replaced when idle or live change
	nextID  int
	exits   sync.WaitGroup
}

// New checks cfg and returns an emulator; no process starts until the
// first request. When ctx ends the emulator closes, as with Close.
func New(ctx context.Context, cfg Config) (*Emulator, error) {
	path, err := checkBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	cfg.Bootstrap = path
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	dir := filepath.Dir(path)
	if cfg.FunctionName == "" {
		cfg.FunctionName = filepath.Base(dir)
		if cfg.FunctionName == "/" || cfg.FunctionName == "." {
			cfg.FunctionName = "function"
		}
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Stage == "" {
		cfg.Stage = "local"
	}
	e := &Emulator{
		cfg:     cfg,
		log:     cfg.Logger,
		out:     cfg.Output,
		arn:     fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, accountID, cfg.FunctionName),
		dir:     dir,
		all:     make(map[*sandbox]struct{}),
		changed: make(chan struct{}),
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	switch out := e.out.(type) {
	case nil:
		e.out = os.Stderr
	case *os.File: // handed to the processes as is
	default:
		e.out = &lockedWriter{w: out} // several sandboxes write at once
	}
	e.stop = context.AfterFunc(ctx, func() { e.Close() })
	return e, nil
}

// CheckBootstrap says why path cannot serve as a function's bootstrap on
// this machine (missing, not executable, built for another OS or CPU), as
// New would, so a caller can refuse it before starting anything else.
func CheckBootstrap(path string) error {
	_, err := checkBootstrap(path)
	return err
}

// checkBootstrap checks path and returns it absolute.
func checkBootstrap(bootstrap string) (string, error) {
	if bootstrap == "" {
		return "", errors.New("lambdaemu: Config.Bootstrap is required")
	}
	path, err := filepath.Abs(bootstrap)
	if err != nil {
		return "", fmt.Errorf("lambdaemu: bootstrap %s: %w", bootstrap, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("lambdaemu: bootstrap: %w", err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("lambdaemu: bootstrap %s is not an executable file", path)
	}
	return path, checkRunsHere(path, runtime.GOOS, runtime.GOARCH)
}

// Close kills every sandbox's process group and waits for them to exit.
// Requests still running fail; later ones get ErrClosed's 503.
func (e *Emulator) Close() error {
	e.stop()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.exits.Wait()
		return nil
	}
	e.closed = true
	sbs := make([]*sandbox, 0, len(e.all))
	for sb := range e.all {
		sbs = append(sbs, sb)
	}
	e.broadcastLocked()
	e.mu.Unlock()
	for _, sb := range sbs {
		sb.kill()
	}
	e.exits.Wait()
	return nil
}

// broadcastLocked wakes everyone waiting for a sandbox.
func (e *Emulator) broadcastLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// acquire returns an idle sandbox, marked busy, starting one if the pool
// has room and waiting otherwise.
func (e *Emulator) acquire(ctx context.Context) (*sandbox, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, ErrClosed
		}
		if n := len(e.idle); n > 0 {
			sb := e.idle[n-1]
			e.idle = e.idle[:n-1]
			sb.state = stateBusy
			e.mu.Unlock()
			return sb, nil
		}
		// A sandbox that has just answered will be back in /next in a
		// moment: wait for it rather than pay for a cold start.
		if e.live < e.cfg.Concurrency && !e.finishingLocked() {
			e.live++
			e.nextID++
			id := e.nextID
			e.mu.Unlock()
			sb, err := e.start(id)
			if err != nil {
				e.mu.Lock()
				e.live--
				e.broadcastLocked()
				e.mu.Unlock()
				return nil, err
			}
			// The new sandbox joins the idle list on its first /next; take
			// it (or any other) from there. If it dies first, its init
			// failed: report that rather than start another in a loop.
			select {
			case <-sb.ready:
				continue
			case <-sb.exited:
				return nil, fmt.Errorf("lambdaemu: sandbox %d exited during init: %w", id, sb.exitErr)
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// finishingLocked reports whether a sandbox has completed its invocation
// but not yet asked for the next one.
func (e *Emulator) finishingLocked() bool {
	for sb := range e.all {
		if sb.state == stateBusy && sb.current != nil && sb.current.finished {
			return true
		}
	}
	return false
}

// lockedWriter serialises writes from several processes' output copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
