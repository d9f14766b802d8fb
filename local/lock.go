package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockName is the file in the data folder whose lock says a local process
// is using the folder; it holds that process's pid and address.
const lockName = "local.lock"

// dataLock is the lock on a data folder, held while the process runs.
type dataLock struct {
	f *os.File
}

// errBusy is a data folder or an address another process is using.
var errBusy = errors.New("in use")

// lockDataDir takes the data folder's lock, creating the folder, before
// the process does anything else there: a second local process on the
// same data would start a second DynamoDB Local on it and re-apply the
// manifests under the first one's feet. When another process holds it,
// the error names that process.
func lockDataDir(dir string) (*dataLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		f.Close()
		b, _ := os.ReadFile(path)
		pid, addr := parseLockFile(string(b))
		who := "another local process"
		switch {
		case pid != 0 && addr != "":
			who = fmt.Sprintf("another local process (pid %d, serving http://%s)", pid, addr)
		case pid != 0:
			who = fmt.Sprintf("another local process (pid %d)", pid)
		}
		return nil, fmt.Errorf("data folder %s is %w by %s: stop it first, or give this one another -data-dir", dir, errBusy, who)
	}
	l := &dataLock{f: f}
	return l, l.record(os.Getpid(), "")
}

// record writes the holder's pid and address into the lock file, for the
// message a second process prints.
func (l *dataLock) record(pid int, addr string) error {
	s := "pid " + strconv.Itoa(pid) + "\n"
	if addr != "" {
		s += "addr " + addr + "\n"
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt([]byte(s), 0)
	return err
}

// release gives the lock up. The file stays: removing it would let a
// third process lock a new file while a second still waits on the old.
func (l *dataLock) release() {
	if l != nil {
		l.f.Close()
	}
}

func parseLockFile(s string) (pid int, addr string) {
	for _, line := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "pid":
			pid, _ = strconv.Atoi(v)
		case "addr":
			addr = v
		}
	}
	return pid, addr
}
