package lambdaemu

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeELF writes the header of a 64-bit little-endian Linux executable for
// machine: all debug/elf needs to read its machine.
func writeELF(t *testing.T, machine elf.Machine) string {
	t.Helper()
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Ehsize: 64, Phentsize: 56, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h)
	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckRunsHere: a bootstrap built for another CPU, or a Linux binary
// on another OS, is refused at start with the reason; what runs here, and
// files that are not ELF, pass.
func TestCheckRunsHere(t *testing.T) {
	script := filepath.Join(t.TempDir(), "bootstrap")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	tests := []struct {
		name         string
		path         string
		goos, goarch string
		want         string // in the error; empty: no error
	}{
		{"arm64 binary on amd64", writeELF(t, elf.EM_AARCH64), "linux", "amd64", "is built for arm64 (EM_AARCH64) and this machine is amd64: build one for it (GOOS=linux GOARCH=amd64 go build"},
		{"amd64 binary on arm64", writeELF(t, elf.EM_X86_64), "linux", "arm64", "is built for amd64 (EM_X86_64) and this machine is arm64"},
		{"amd64 binary on amd64", writeELF(t, elf.EM_X86_64), "linux", "amd64", ""},
		{"arm64 binary on arm64", writeELF(t, elf.EM_AARCH64), "linux", "arm64", ""},
		{"Linux binary on macOS", writeELF(t, elf.EM_AARCH64), "darwin", "arm64", "is a Linux (ELF) executable and this machine runs darwin"},
		{"script", script, "linux", "amd64", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRunsHere(tt.path, tt.goos, tt.goarch)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatal("accepted")
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestNewRefusesForeignBootstrap: New itself refuses a bootstrap for
// another CPU than this machine's, before any request.
func TestNewRefusesForeignBootstrap(t *testing.T) {
	other := elf.EM_AARCH64
	if runtime.GOARCH == "arm64" {
		other = elf.EM_X86_64
	}
	_, err := New(context.Background(), Config{Bootstrap: writeELF(t, other)})
	if runtime.GOOS == "linux" && (err == nil || !strings.Contains(err.Error(), "this machine is "+runtime.GOARCH)) {
		t.Fatalf("New: %v, want the architecture named", err)
	}
	if runtime.GOOS != "linux" && (err == nil || !strings.Contains(err.Error(), "Linux (ELF)")) {
		t.Fatalf("New: %v, want the OS named", err)
	}
}
