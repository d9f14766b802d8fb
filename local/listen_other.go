//go:build !linux

package main

// portHolder cannot tell which process holds a port here.
func portHolder(string) (int, string) { return 0, "" }
