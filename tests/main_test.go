// Package tests holds Sluice's end-to-end tests: real processes, real
// sockets, DynamoDB Local and redis-server, and the providers' official SDK
// clients against the gateway.
package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/servers"
	"github.com/sluicegw/sluice/shared/servertest"
)

var env servertest.Env

// bin holds binaries built once for the whole test run.
var bin struct {
	once      sync.Once
	dir       string
	err       error
	bootstrap sync.Mutex // held while the gateway bootstrap builds
}

func TestMain(m *testing.M) {
	code := servertest.Main(m, &env)
	if bin.dir != "" {
		os.RemoveAll(bin.dir)
	}
	os.Exit(code)
}

// skipShort skips t in short mode: it builds or runs a program.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in short mode: builds and runs programs")
	}
}

// build compiles a main package of the module for this machine, once.
func build(t *testing.T, pkg string) string {
	t.Helper()
	skipShort(t)
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "sluice-bin-")
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	out := filepath.Join(bin.dir, filepath.Base(pkg))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	cmd := exec.Command("go", "build", "-tags", goTags, "-o", out, "github.com/sluicegw/sluice/"+pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

var tables struct {
	sync.Mutex
	byDir map[string]int
}

// localProc is a running local process.
type localProc struct {
	addr    string
	dataDir string
	key     string
	cmd     *exec.Cmd
	out     *strings.Builder
	stdout  *lines // what it printed, up to and including its ready message
}

// lines collects the lines a process prints.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) add(s string) {
	l.mu.Lock()
	l.b.WriteString(s + "\n")
	l.mu.Unlock()
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *localProc) url(path string) string { return "http://" + p.addr + path }

// localCmd is the local binary's command line for a process on a free
// port keeping its data in dataDir, applying the examples unless extra
// says otherwise; its environment is this one's without the settings that
// would reach real providers or fix the API key.
func localCmd(t *testing.T, dataDir string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	exe := build(t, "local")
	addr, err := servers.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("..")
	args := append([]string{"-addr", addr, "-manifests", filepath.Join(root, "examples"), "-data-dir", dataDir}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Dir = root
	// Tests share one DynamoDB Local: each data dir gets tables of its own,
	// kept across restarts as the data dir is.
	tables.Lock()
	if tables.byDir == nil {
		tables.byDir = map[string]int{}
	}
	n, ok := tables.byDir[dataDir]
	if !ok {
		n = len(tables.byDir) + 1
		tables.byDir[dataDir] = n
	}
	tables.Unlock()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_CREDENTIAL_") && !strings.HasPrefix(kv, "SLUICE_API_KEY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "SLUICE_LOG_LEVEL=warn",
		fmt.Sprintf("SLUICE_ROUTES_TABLE=routes-%d", n), fmt.Sprintf("SLUICE_LEDGER_TABLE=ledger-%d", n))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, addr
}

// startLocal runs the local binary with args and waits for its ready line.
func startLocal(t *testing.T, dataDir string, extra ...string) *localProc {
	t.Helper()
	cmd, addr := localCmd(t, dataDir, extra...)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &localProc{addr: addr, dataDir: dataDir, cmd: cmd, out: &stderr, stdout: &lines{}}
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("local's log:\n%s", stderr.String())
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.stdout.add(sc.Text())
			if k, ok := strings.CutPrefix(sc.Text(), "SLUICE_API_KEY="); ok {
				ready <- k
			}
		}
		close(ready)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case k, ok := <-ready:
		if !ok {
			t.Fatalf("local exited before it was ready:\n%s", stderr.String())
		}
		p.key = k
	case <-time.After(60 * time.Second):
		t.Fatalf("local not ready in 60s:\n%s", stderr.String())
	}
	return p
}

// stop sends Ctrl-C (SIGINT) and waits for the process to exit.
func (p *localProc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Errorf("local did not stop on SIGINT within 15s")
	}
}

func httpDo(t *testing.T, method, url, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}
