package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestLockDataDir: a second lock on a data folder is refused, naming the
// holder's pid and address, until the first is released.
func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(dir)
	want := fmt.Sprintf("is in use by another local process (pid %d)", os.Getpid())
	if !errors.Is(err, errBusy) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second lock: %v, want %q", err, want)
	}
	if err := first.record(os.Getpid(), "127.0.0.1:8081"); err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(dir)
	want = fmt.Sprintf("data folder %s is in use by another local process (pid %d, serving http://127.0.0.1:8081): stop it first, or give this one another -data-dir", dir, os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("second lock: %v, want %q", err, want)
	}
	first.release()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.release()
}

// TestListenBusy: a port in use is refused naming its holder where the
// system tells (Linux).
func TestListenBusy(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	_, err = listen(addr)
	if !errors.Is(err, errBusy) || !strings.HasPrefix(err.Error(), addr+" is in use by ") {
		t.Fatalf("listen: %v", err)
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), fmt.Sprintf("by pid %d (", os.Getpid())) {
		t.Fatalf("listen: %v, want this process's pid named", err)
	}
}
