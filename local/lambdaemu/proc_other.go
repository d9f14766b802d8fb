//go:build !linux

package lambdaemu

import "syscall"

// procAttr puts the bootstrap in its own process group, so kill ends
// anything it started too.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
