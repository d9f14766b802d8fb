//go:build !linux

package main

import (
	"syscall"
	"time"
)

func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func preciseClock() (undo func()) { return func() {} }

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }
