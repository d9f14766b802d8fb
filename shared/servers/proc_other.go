//go:build !linux

package servers

import "syscall"

// procAttr puts the server in its own process group, so Stop ends its
// children too.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
