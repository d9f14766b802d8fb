package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBin is a folder to use as the whole PATH: the real programs named in
// real (looked up on this machine's PATH), and a shell script for each of
// fake.
func fakeBin(t *testing.T, real []string, fake map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range real {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("this test needs %s: %v", name, err)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, script := range fake {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPrereqs runs .ci/prereqs, which `make test`, `make local` and CI call
// first, on machines made of a PATH: it installs what is missing when it
// may (root with apt-get), and otherwise fails naming the exact command.
func TestPrereqs(t *testing.T) {
	root, _ := filepath.Abs("..")
	const (
		java    = `echo 'openjdk version "17.0.15" 2025-04-15' >&2`
		oldJava = `echo 'openjdk version "11.0.2" 2019-01-15' >&2`
	)
	tests := []struct {
		name    string
		target  string
		fake    map[string]string
		fail    bool
		want    []string // in the output
		wantNot []string
		apt     string // the apt-get calls, one a line
	}{
		{"all there", "test", map[string]string{"id": "echo 1000", "java": java, "npm": "", "redis-server": "", "zip": "", "chromium": ""},
			false, nil, nil, ""},
		{"no redis-server, not root", "test", map[string]string{"id": "echo 1000", "java": java, "npm": "", "zip": "", "chromium": ""},
			true, []string{"redis-server (", "sudo apt-get install -y redis-server\n"}, []string{"zip ("}, ""},
		{"no redis-server, not root, apt-get there", "test", map[string]string{"id": "echo 1000", "java": java, "npm": "", "zip": "", "chromium": "",
			"apt-get": "echo \"$@\" >>\"$APT_LOG\""},
			true, []string{"sudo apt-get install -y redis-server\n"}, nil, ""},
		{"no chromium, not root", "test", map[string]string{"id": "echo 1000", "java": java, "npm": "", "zip": "", "redis-server": ""},
			true, []string{"chromium (draws the usage page", "sudo apt-get install -y chromium\n"}, nil, ""},
		{"nothing, root without apt-get", "test", map[string]string{"id": "echo 0"},
			true, []string{"  apt-get install -y npm openjdk-17-jre-headless redis-server zip chromium\n"}, []string{"sudo"}, ""},
		{"old Java", "local", map[string]string{"id": "echo 1000", "java": oldJava, "npm": ""},
			true, []string{"Java 17+", "sudo apt-get install -y openjdk-17-jre-headless\n"}, nil, ""},
		{"local needs no redis-server", "local", map[string]string{"id": "echo 1000", "java": java, "npm": ""},
			false, nil, nil, ""},
		{"root with apt-get installs", "test", map[string]string{"id": "echo 0", "java": java, "npm": "", "chromium": "",
			"apt-get":   "echo \"$@\" >>\"$APT_LOG\"",
			"apt-cache": "exit 1"},
			false, []string{"installing redis-server zip"}, nil, "update -qq\ninstall -y -qq redis-server zip\n"},
		{"root with apt-get installs the default Java where 17 is gone", "local", map[string]string{"id": "echo 0", "npm": "",
			"apt-get":   "echo \"$@\" >>\"$APT_LOG\"",
			"apt-cache": "exit 100"},
			false, nil, nil, "update -qq\ninstall -y -qq default-jre-headless\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fakeBin(t, []string{"bash", "sed", "head", "uname"}, tt.fake)
			aptLog := filepath.Join(t.TempDir(), "apt")
			cmd := exec.Command(filepath.Join(root, ".ci", "prereqs"), tt.target)
			cmd.Env = []string{"PATH=" + path, "APT_LOG=" + aptLog}
			out, err := cmd.CombinedOutput()
			if (err != nil) != tt.fail {
				t.Fatalf("error %v, want failure %v; output:\n%s", err, tt.fail, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(string(out), w) {
					t.Errorf("output says %q:\n%s", w, out)
				}
			}
			apt, _ := os.ReadFile(aptLog)
			if string(apt) != tt.apt {
				t.Errorf("apt-get calls %q, want %q", apt, tt.apt)
			}
		})
	}
}

// TestMakeTestChecksPrereqsFirst: `make test` on a machine without
// redis-server fails with the command that installs it, before it runs the
// Go tool or npm at all.
func TestMakeTestChecksPrereqsFirst(t *testing.T) {
	root, _ := filepath.Abs("..")
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("this test needs make: %v", err)
	}
	calls := filepath.Join(t.TempDir(), "calls")
	record := `echo "$0 $*" >>"$CALLS"`
	path := fakeBin(t, []string{"bash", "sed", "head", "uname"}, map[string]string{
		"id": "echo 1000", "java": `echo 'openjdk version "17.0.15" 2025-04-15' >&2`, "zip": "", "chromium": "",
		"npm": record, "go": record,
	})
	cmd := exec.Command(makePath, "--no-print-directory", "-C", root, "test", "GO="+filepath.Join(path, "go"))
	cmd.Env = []string{"PATH=" + path, "CALLS=" + calls}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make test passed without redis-server:\n%s", out)
	}
	if !strings.Contains(string(out), "sudo apt-get install -y redis-server\n") {
		t.Errorf("make test does not say how to install redis-server:\n%s", out)
	}
	if b, _ := os.ReadFile(calls); len(b) > 0 {
		t.Errorf("make test ran before checking its servers:\n%s", b)
	}
}
