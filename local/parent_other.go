//go:build !linux

package main

// stopWithParent does nothing where the kernel cannot signal a parent's
// end: there, stopping make or the shell that runs this process stops it
// only when they pass the signal on.
func stopWithParent() bool { return true }
