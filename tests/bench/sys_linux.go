package main

import (
	"runtime"
	"syscall"
	"time"
)

// procAttr puts a child in its own process group and has the kernel end it
// if the bench dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// preciseClock makes sleepUntil on the calling goroutine accurate to tens
// of microseconds: the goroutine keeps its thread, whose timer slack drops
// to 1 ns. Go's own timers may wake up to a millisecond late, which would be
// counted as latency. The returned func undoes it.
func preciseClock() (undo func()) {
	runtime.LockOSThread()
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_TIMERSLACK, 1, 0)
	return func() {
		syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_TIMERSLACK, 0, 0) // back to the default
		runtime.UnlockOSThread()
	}
}

// sleepUntil sleeps in the kernel (nanosleep) until t.
func sleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil)
	}
}
