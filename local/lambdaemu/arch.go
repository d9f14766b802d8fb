package lambdaemu

import (
	"debug/elf"
	"errors"
	"fmt"
)

// elfMachines maps GOARCH values to the ELF machine their binaries name.
var elfMachines = map[string]elf.Machine{
	"386":      elf.EM_386,
	"amd64":    elf.EM_X86_64,
	"arm":      elf.EM_ARM,
	"arm64":    elf.EM_AARCH64,
	"loong64":  elf.EM_LOONGARCH,
	"mips":     elf.EM_MIPS,
	"mipsle":   elf.EM_MIPS,
	"mips64":   elf.EM_MIPS,
	"mips64le": elf.EM_MIPS,
	"ppc64":    elf.EM_PPC64,
	"ppc64le":  elf.EM_PPC64,
	"riscv64":  elf.EM_RISCV,
	"s390x":    elf.EM_S390,
}

// checkRunsHere refuses a bootstrap this machine cannot execute, so the
// emulator fails at start saying why instead of answering every request
// with 502: a Linux binary on another OS, or one built for another CPU
// (`make build` writes arm64 binaries, for Lambda). Files that are not ELF
// (a script, a macOS binary) are left to the exec to judge.
func checkRunsHere(path, goos, goarch string) error {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil
		}
		return fmt.Errorf("lambdaemu: bootstrap %s: %w", path, err)
	}
	defer f.Close()
	build := fmt.Sprintf("GOOS=linux GOARCH=%s go build -o build/host/bootstrap ./functions/gateway", goarch)
	if goos != "linux" {
		return fmt.Errorf("lambdaemu: bootstrap %s is a Linux (ELF) executable and this machine runs %s: build the bootstrap for %s, or run the emulator on Linux", path, goos, goos)
	}
	if want, ok := elfMachines[goarch]; ok && f.Machine != want {
		return fmt.Errorf("lambdaemu: bootstrap %s is built for %s (%s) and this machine is %s: build one for it (%s) and pass that path", path, archOf(f.Machine), f.Machine, goarch, build)
	}
	return nil
}

// archOf names an ELF machine as GOARCH would.
func archOf(m elf.Machine) string {
	for _, a := range []string{"amd64", "arm64", "386", "arm", "riscv64", "ppc64le", "s390x", "loong64", "mips64le"} {
		if elfMachines[a] == m {
			return a
		}
	}
	return m.String()
}
