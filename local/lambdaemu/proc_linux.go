package lambdaemu

import "syscall"

// procAttr puts the bootstrap in its own process group, so kill ends
// anything it started too, and has the kernel end it if this process dies
// first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
