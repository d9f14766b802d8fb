package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a process the bench started, in its own process group so that
// stop ends everything it started too.
type child struct {
	name    string
	cmd     *exec.Cmd
	started time.Time // just before exec
	errPath string
	done    chan struct{}
}

// startChild runs prog with args and env, its stdout and stderr going to
// NAME.out and NAME.err in logDir.
func startChild(name, logDir string, env []string, prog string, args ...string) (*child, error) {
	stdout, err := os.Create(filepath.Join(logDir, name+".out"))
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	errPath := filepath.Join(logDir, name+".err")
	stderr, err := os.Create(errPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = procAttr()
	c := &child{name: name, cmd: cmd, errPath: errPath, done: make(chan struct{})}
	c.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { cmd.Wait(); close(c.done) }()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after a grace period.
func (c *child) stop() {
	if c == nil || c.exited() {
		return
	}
	syscall.Kill(-c.pid(), syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-c.pid(), syscall.SIGKILL)
		<-c.done
	}
}

// failure describes why the process is not usable: its exit status if it
// ended, and the end of its stderr.
func (c *child) failure(err error) error {
	state := "still running"
	if c.exited() {
		state = c.cmd.ProcessState.String()
	}
	return fmt.Errorf("%s (%s): %w\n%s", c.name, state, err, tail(c.errPath, 15))
}

// tail returns the last n lines of a file, indented.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// childEnv is this process's environment without SLUICE_* settings, so
// that only the bench's choices reach the gateway, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cpuSeconds is the user plus system CPU time a process has used, all
// threads included, from /proc/PID/stat ("self" for this process).
func cpuSeconds(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return float64(utime+stime) / clockTicks(), nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc CPU times, read
// from the auxiliary vector (AT_CLKTCK); 100 when it can't be read.
func clockTicks() float64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	const w = strconv.IntSize / 8
	for i := 0; i+2*w <= len(b); i += 2 * w {
		var k, v uint64
		if w == 8 {
			k, v = binary.NativeEndian.Uint64(b[i:]), binary.NativeEndian.Uint64(b[i+w:])
		} else {
			k, v = uint64(binary.NativeEndian.Uint32(b[i:])), uint64(binary.NativeEndian.Uint32(b[i+w:]))
		}
		if k == atClkTck && v > 0 {
			return float64(v)
		}
	}
	return 100
}

// memKB reads a "Name:   N kB" line (VmHWM, VmRSS) from /proc/PID/status.
func memKB(pid int, name string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, name)
}

// machineCPUSeconds is the CPU time all cores have spent busy (not idle or
// waiting for I/O), from the first line of /proc/stat.
func machineCPUSeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("/proc/stat: unexpected format")
	}
	var busy int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += n
	}
	return float64(busy) / clockTicks(), nil
}
