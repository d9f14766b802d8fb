//go:build linux

package tests

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dynamoDBLocalPids lists the DynamoDB Local processes keeping their data
// under dataDir.
func dynamoDBLocalPids(dataDir string) []int {
	out, _ := exec.Command("pgrep", "-f", "DynamoDBLocal.jar.*"+dataDir).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// gone reports whether pid has exited (a zombie waiting for a reaper has).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}

// TestSecondLocalStopsAtOnce: a second local process on the same data
// folder, or on the same port, stops before it starts anything (no second
// DynamoDB Local, no apply), naming the process that holds them, and the
// first keeps serving.
func TestSecondLocalStopsAtOnce(t *testing.T) {
	dir := t.TempDir()
	first := startLocal(t, dir, "-dynamodb", env.DynamoDB(t))
	serving := func(when string) {
		t.Helper()
		if resp, body := httpDo(t, http.MethodPost, first.url("/v1/chat/completions"), first.key, chatBody("gpt-4o-mini", "still", "")); resp.StatusCode != 200 {
			t.Fatalf("%s, the first process answers %d %s", when, resp.StatusCode, body)
		}
	}

	// As `make local` runs it: it would start a DynamoDB Local of its own.
	second, _ := localCmd(t, dir, "-manifests", "")
	out, err := second.CombinedOutput()
	want := fmt.Sprintf("data folder %s is in use by another local process (pid %d, serving http://%s): stop it first, or give this one another -data-dir",
		dir, first.cmd.Process.Pid, first.addr)
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("a second process on the same data folder: %v\n%s\nwant %q", err, out, want)
	}
	if pids := dynamoDBLocalPids(dir); len(pids) > 0 {
		t.Fatalf("the second process started DynamoDB Local (pids %v)", pids)
	}
	serving("after a second process on its data folder")

	other := t.TempDir()
	third, _ := localCmd(t, other, "-addr", first.addr)
	out, err = third.CombinedOutput()
	want = fmt.Sprintf("%s is in use by pid %d (", first.addr, first.cmd.Process.Pid)
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("a second process on the same port: %v\n%s\nwant %q", err, out, want)
	}
	if pids := dynamoDBLocalPids(other); len(pids) > 0 {
		t.Fatalf("the third process started DynamoDB Local (pids %v)", pids)
	}
	serving("after a second process on its port")
}

// TestLocalStopsWhateverStopsIt runs the local process as `make local`
// does, with a DynamoDB Local of its own, and stops it each way it gets
// stopped: SIGTERM to make (an IDE's stop button, `timeout make local`),
// the end of a parent that passes nothing on (`go run`, a shell), a closed
// terminal, SIGKILL. Neither the process nor its DynamoDB Local survives.
func TestLocalStopsWhateverStopsIt(t *testing.T) {
	env.DynamoDB(t) // fails (or skips) at once when Java or the jar is missing
	exe := build(t, "local")
	root, _ := filepath.Abs("..")
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("this test needs make: %v", err)
	}
	noop := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(noop, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// parent is the command that runs the local binary exe with args.
		parent func(exe string, args []string) *exec.Cmd
		stop   func(t *testing.T, parent *exec.Cmd, localPid int)
	}{
		{"SIGTERM to make local",
			func(exe string, _ []string) *exec.Cmd {
				// The real Makefile, with the binary already built; the
				// settings come from the environment.
				return exec.Command(makePath, "--no-print-directory", "-C", root, "local", "GO="+noop, "LOCAL_BIN="+exe)
			},
			func(t *testing.T, parent *exec.Cmd, _ int) { parent.Process.Signal(syscall.SIGTERM) }},
		{"the parent ends without passing the signal on",
			func(exe string, args []string) *exec.Cmd {
				return exec.Command("/bin/sh", append([]string{"-c", `"$0" "$@"; echo the shell outlived its child`, exe}, args...)...)
			},
			func(t *testing.T, parent *exec.Cmd, _ int) { parent.Process.Signal(syscall.SIGTERM) }},
		{"SIGHUP to the process",
			func(exe string, args []string) *exec.Cmd { return exec.Command(exe, args...) },
			func(t *testing.T, _ *exec.Cmd, pid int) { syscall.Kill(pid, syscall.SIGHUP) }},
		{"SIGKILL to the process",
			func(exe string, args []string) *exec.Cmd { return exec.Command(exe, args...) },
			func(t *testing.T, _ *exec.Cmd, pid int) { syscall.Kill(pid, syscall.SIGKILL) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tmpl, addr := localCmd(t, dir, "-manifests", "")
			cmd := tt.parent(exe, tmpl.Args[1:])
			cmd.Env = append(tmpl.Env, "SLUICE_ADDR="+addr, "SLUICE_DATA_DIR="+dir, "SLUICE_MANIFESTS=")
			cmd.Dir = root
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				for _, pid := range dynamoDBLocalPids(dir) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
				<-exited
				if t.Failed() {
					t.Logf("output:\n%s", stderr.String())
				}
			})
			ready := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "SLUICE_API_KEY=") {
						ready <- true
					}
				}
				close(ready)
				io.Copy(io.Discard, stdout)
			}()
			if !<-ready {
				t.Fatal("local exited before it was ready")
			}
			// The process's pid, from the data folder's lock.
			b, err := os.ReadFile(filepath.Join(dir, "local.lock"))
			if err != nil {
				t.Fatal(err)
			}
			var localPid int
			fmt.Sscanf(string(b), "pid %d", &localPid)
			javas := dynamoDBLocalPids(dir)
			if localPid == 0 || len(javas) != 1 {
				t.Fatalf("local pid %d (lock file %q), DynamoDB Local pids %v", localPid, b, javas)
			}

			tt.stop(t, cmd, localPid)
			deadline := time.Now().Add(30 * time.Second)
			for !gone(localPid) || !gone(javas[0]) {
				if time.Now().After(deadline) {
					t.Fatalf("still running 30s after the stop: local (pid %d) %v, DynamoDB Local (pid %d) %v",
						localPid, !gone(localPid), javas[0], !gone(javas[0]))
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
