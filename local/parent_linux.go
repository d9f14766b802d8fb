package main

import (
	"os"
	"runtime"
	"syscall"
)

// stopWithParent has the kernel send this process SIGTERM when its parent
// ends (make, go run, a shell, a test), so that however the parent was
// stopped, the local process stops too, and with it what it started. It
// reports false when the parent is gone already.
//
// The setting belongs to the calling thread, and is lost if that thread
// exits: the caller's goroutine stays on it for good.
func stopWithParent() bool {
	parent := os.Getppid()
	runtime.LockOSThread()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return true // then the other signals still stop it
	}
	return os.Getppid() == parent
}
