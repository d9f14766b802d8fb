package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// listen binds addr before the process starts anything, so a port in use
// stops it at once. When another process holds the port, the error names
// it where the system says which (Linux, for processes this user may
// inspect).
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	who := "another process"
	if pid, cmd := portHolder(addr); pid != 0 {
		who = fmt.Sprintf("pid %d (%s)", pid, cmd)
	}
	return nil, fmt.Errorf("%s is %w by %s: stop it, or give this one another -addr", addr, errBusy, who)
}
