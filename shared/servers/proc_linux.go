package servers

import "syscall"

// procAttr puts the server in its own process group, so Stop ends its
// children too, and has the kernel end it if this process dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
