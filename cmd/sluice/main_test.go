package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/admin"
)

// sluice runs the CLI in-process and returns its exit status and output.
func sluice(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// noAdminEnv clears the variables that would point the CLI elsewhere.
func noAdminEnv(t *testing.T) {
	for _, v := range []string{"SLUICE_ENDPOINT", "SLUICE_ADMIN_TOKEN", "SLUICE_DATA_DIR"} {
		t.Setenv(v, "")
	}
}

// TestCommandLine: each command has its own flags and help; help exits 0
// on stdout; a flag of another command, an unknown command or kind, a
// missing or extra argument and rollback --to 0 are errors that exit 2
// and say what is wrong, before anything is sent.
func TestCommandLine(t *testing.T) {
	noAdminEnv(t)
	t.Setenv("SLUICE_ENDPOINT", "http://127.0.0.1:1") // nothing listens: nothing may be sent
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string // each in stdout
		stderr  []string // each in stderr
		without []string // none in either
	}{
		{name: "validate --help shows its own flags", args: []string{"validate", "--help"}, code: 0,
			stdout: []string{"usage: sluice validate -f PATH [--strict]", "  -f PATH ", "  --strict "}, without: []string{"--rpm", "--grace", "--dry-run", "--endpoint"}},
		{name: "-h is --help", args: []string{"validate", "-h"}, code: 0, stdout: []string{"usage: sluice validate"}},
		{name: "apply --help", args: []string{"apply", "--help"}, code: 0,
			stdout: []string{"usage: sluice apply -f PATH [--dry-run]", "  --dry-run ", "  --endpoint URL ", "  --admin-token TOKEN "}, without: []string{"--rpm", "--name"}},
		{name: "keys create --help", args: []string{"keys", "create", "--help"}, code: 0,
			stdout: []string{"  --rpm N ", "  --model-limit MODEL:"}, without: []string{"--grace", "-f PATH"}},
		{name: "keys rotate --help", args: []string{"keys", "rotate", "--help"}, code: 0,
			stdout: []string{"  --grace DURATION ", "(default 24h0m0s)"}, without: []string{"--rpm"}},
		{name: "help COMMAND", args: []string{"help", "rollback"}, code: 0, stdout: []string{"usage: sluice rollback [--to VERSION]"}},
		{name: "--help lists every command", args: []string{"--help"}, code: 0,
			stdout: []string{"sluice validate -f PATH", "sluice apply", "sluice get", "sluice delete", "sluice rollback", "sluice keys create", "sluice keys list", "sluice keys revoke", "sluice keys rotate", "sluice usage"}},
		{name: "help", args: []string{"help"}, code: 0, stdout: []string{"usage: sluice COMMAND"}},
		{name: "keys --help", args: []string{"keys", "--help"}, code: 0, stdout: []string{"create, list, revoke, rotate"}},
		{name: "no command", args: nil, code: 2, stderr: []string{"usage: sluice COMMAND"}},
		{name: "a flag of another command", args: []string{"validate", "--rpm", "5", "-f", "."}, code: 2,
			stderr: []string{"sluice validate: flag provided but not defined: -rpm", "run 'sluice validate --help'"}},
		{name: "keys rotate's flag on apply", args: []string{"apply", "-f", ".", "--grace", "1h"}, code: 2,
			stderr: []string{"flag provided but not defined: -grace"}},
		{name: "the admin flags belong to admin commands only", args: []string{"validate", "-f", ".", "--endpoint", "http://x"}, code: 2,
			stderr: []string{"flag provided but not defined: -endpoint"}},
		{name: "an unknown command", args: []string{"vaildate", "-f", "."}, code: 2,
			stderr: []string{`unknown command "vaildate" (known: validate, apply, get, delete, rollback, keys, top, usage, ui)`}},
		{name: "an unknown keys command", args: []string{"keys", "delete", "x"}, code: 2,
			stderr: []string{`unknown command "keys delete" (known: create, list, revoke, rotate)`}},
		{name: "keys alone", args: []string{"keys"}, code: 2, stderr: []string{"keys needs a command: create, list, revoke, rotate"}},
		{name: "get an unknown kind", args: []string{"get", "Foo"}, code: 2,
			stderr: []string{`unknown kind "Foo" (known: AIBackend, `, "HTTPRoute", "TokenLimitPolicy"}},
		{name: "delete an unknown kind", args: []string{"delete", "Routes", "x"}, code: 2, stderr: []string{`unknown kind "Routes"`}},
		{name: "rollback --to 0", args: []string{"rollback", "--to", "0"}, code: 2,
			stderr: []string{"--to 0 is not a table version: versions start at 1"}},
		{name: "rollback --to -2", args: []string{"rollback", "--to=-2"}, code: 2, stderr: []string{"--to -2 is not a table version"}},
		{name: "validate without -f", args: []string{"validate"}, code: 2, stderr: []string{"validate needs -f PATH"}},
		{name: "validate with a folder but no -f", args: []string{"validate", "examples"}, code: 2,
			stderr: []string{`takes no arguments, got "examples" (did you mean -f examples?)`}},
		{name: "apply without -f", args: []string{"apply"}, code: 2, stderr: []string{"apply needs -f PATH"}},
		{name: "delete without a name", args: []string{"delete", "HTTPRoute"}, code: 2, stderr: []string{"needs KIND NAME", "usage: sluice delete KIND NAME [-n NS]"}},
		{name: "get with three arguments", args: []string{"get", "HTTPRoute", "a", "b"}, code: 2, stderr: []string{`too many arguments: "b"`}},
		{name: "keys revoke without an id", args: []string{"keys", "revoke"}, code: 2, stderr: []string{"needs ID"}},
		{name: "keys create without a name", args: []string{"keys", "create", "--rpm", "5"}, code: 2, stderr: []string{"keys create needs --name"}},
		{name: "a bad model limit", args: []string{"keys", "create", "--name", "x", "--model-limit", "gpt-4o"}, code: 2,
			stderr: []string{"want MODEL:rpm=N"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := sluice(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q", s)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q", s)
				}
			}
			for _, s := range tt.without {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output has %q", s)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

// TestValidateFiles: empty files are reported and left out, a path with no
// manifests is an error, and YAML mistakes are reported on their line.
func TestValidateFiles(t *testing.T) {
	const service = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: ExternalName, externalName: example.com}\n"
	tests := []struct {
		name   string
		files  map[string]string // under the folder validated; "" a folder
		path   string            // validated, under the folder
		code   int
		stdout []string
		stderr string
	}{
		{name: "an empty file beside manifests", files: map[string]string{"a.yaml": service, "empty.yaml": ""},
			code: 0, stdout: []string{"empty.yaml:1: empty file: no manifests in it, left out", "1 files valid"}},
		{name: "a file of comments and separators", files: map[string]string{"a.yaml": service, "b.yml": "# to do\n---\n"},
			code: 0, stdout: []string{"b.yml:1: empty file"}},
		{name: "only empty files", files: map[string]string{"empty.yaml": "\n"}, code: 1, stderr: "no manifests to read: every file is empty"},
		{name: "one empty file", files: map[string]string{"empty.yaml": ""}, path: "empty.yaml", code: 1, stderr: "empty.yaml: empty file: no manifests in it"},
		{name: "a folder without YAML", files: map[string]string{"notes.txt": service}, code: 1, stderr: "no .yaml or .yml files in it"},
		{name: "a file that is not YAML", files: map[string]string{"a.json": "{}"}, path: "a.json", code: 1, stderr: "a.json: not a .yaml or .yml file"},
		{name: "a path that does not exist", path: "nowhere", code: 1, stderr: "no such file or directory"},
		{name: "a YAML mistake on its line", files: map[string]string{"a.yaml": service + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n namespace: c\n"},
			code: 1, stdout: []string{"a.yaml:10: invalid YAML: did not find expected key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := sluice(t, "validate", "-f", filepath.Join(dir, tt.path))
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, tt.code, tt.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
}

// fakeAdmin is an admin API that answers every request with the same
// status and body, and records what it was sent.
type fakeAdmin struct {
	status int
	body   string
	token  string // the token it takes ("" any)
	paths  []string
	sent   []admin.ApplyRequest
}

func (f *fakeAdmin) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.paths = append(f.paths, r.Method+" "+r.URL.RequestURI())
		if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"missing or wrong admin token"}}`)
			return
		}
		if r.URL.Path == "/admin/v1/apply" {
			var req admin.ApplyRequest
			json.NewDecoder(r.Body).Decode(&req)
			f.sent = append(f.sent, req)
		}
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestApplyOutput: what apply prints for each kind of answer: stored, a dry
// run (which says it would apply), unchanged, refused.
func TestApplyOutput(t *testing.T) {
	noAdminEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.yaml"), nil, 0o644)
	tests := []struct {
		name   string
		args   []string
		status int
		answer admin.ApplyResponse
		code   int
		want   string // stdout, whole
	}{
		{"stored", nil, 200, admin.ApplyResponse{Version: 4, Applied: []string{"Service/default/a"}}, 0,
			"Service/default/a applied\nroute table version 4 stored\n"},
		{"a dry run says what it would apply", []string{"--dry-run"}, 200, admin.ApplyResponse{Version: 4, DryRun: true, Applied: []string{"Service/default/a"}}, 0,
			"would apply Service/default/a\ndry run: would apply 1 objects as route table version 4; nothing was stored\n"},
		{"unchanged", nil, 200, admin.ApplyResponse{Version: 3, Unchanged: true, Applied: []string{"Service/default/a"}}, 0,
			"Service/default/a unchanged\nnothing changed; route table version 3 stays current\n"},
		{"a dry run of no change", []string{"--dry-run"}, 200, admin.ApplyResponse{Version: 3, DryRun: true, Unchanged: true, Applied: []string{"Service/default/a"}}, 0,
			"Service/default/a unchanged\ndry run: nothing would change; route table version 3 stays current\n"},
		{"each object's result and the version", nil, 200, admin.ApplyResponse{Version: 5, Applied: []string{"Service/default/a", "Service/default/b", "Service/default/c"},
			Results: []admin.ObjectResult{{Object: "Service/default/a", Result: "created"}, {Object: "Service/default/b", Result: "configured"}, {Object: "Service/default/c", Result: "unchanged"}}}, 0,
			"Service/default/a created\nService/default/b configured\nService/default/c unchanged\n1 created, 1 configured, 1 unchanged; route table version 5 stored\n"},
		{"each object's result in a dry run", []string{"--dry-run"}, 200, admin.ApplyResponse{Version: 5, DryRun: true, Applied: []string{"Service/default/a"},
			Results: []admin.ObjectResult{{Object: "Service/default/a", Result: "configured"}}}, 0,
			"Service/default/a configured (dry run)\ndry run: 1 configured; would store route table version 5; nothing was stored\n"},
		{"every object unchanged", nil, 200, admin.ApplyResponse{Version: 3, Unchanged: true, Applied: []string{"Service/default/a"},
			Results: []admin.ObjectResult{{Object: "Service/default/a", Result: "unchanged"}}}, 0,
			"Service/default/a unchanged\nnothing changed; route table version 3 stays current\n"},
		{"refused", nil, 400, admin.ApplyResponse{Problems: []string{"a.yaml:3: Service/default/a: spec: required"}}, 1,
			"a.yaml:3: Service/default/a: spec: required\nrefused: 1 problems; nothing was applied\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(tt.answer)
			f := &fakeAdmin{status: tt.status, body: string(body)}
			url := f.start(t)
			code, stdout, stderr := sluice(t, append([]string{"apply", "-f", dir, "--endpoint", url}, tt.args...)...)
			// The empty file is reported first and not sent.
			wantOut := filepath.Join(dir, "empty.yaml") + ":1: empty file: no manifests in it, left out\n" + tt.want
			if code != tt.code || stdout != wantOut {
				t.Fatalf("exit %d, stdout:\n%s\nstderr: %s\nwant %d:\n%s", code, stdout, stderr, tt.code, wantOut)
			}
			if len(f.sent) != 1 || len(f.sent[0].Files) != 1 || f.sent[0].DryRun != (len(tt.args) > 0) {
				t.Fatalf("sent %+v", f.sent)
			}
		})
	}
}

// TestGetAndDeleteKinds: kinds are taken in any case, singular or plural,
// and sent as the admin API spells them; a kind Sluice keeps without
// serving it is known once applied, and an unknown one is an error that
// names them all.
func TestGetAndDeleteKinds(t *testing.T) {
	noAdminEnv(t)
	f := &fakeAdmin{status: 200, body: `{"items":[{"kind":"HTTPRoute","metadata":{"name":"chat","namespace":"team"}},` +
		`{"kind":"TokenLimitPolicy","metadata":{"name":"p","namespace":"team"}},{"kind":"Deployment","metadata":{"name":"web","namespace":"team"}}],"deleted":"x","version":2}`}
	url := f.start(t)
	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"get", "httproutes"}, 0, "HTTPRoute  team       chat", ""},
		{[]string{"get", "TokenLimitPolicies"}, 0, "TokenLimitPolicy  team       p", ""},
		{[]string{"get", "deployments"}, 0, "Deployment  team       web", ""},
		{[]string{"get", "Foo"}, 2, "", `unknown kind "Foo" (known: AIBackend, `},
		{[]string{"get", "Foo"}, 2, "", "; applied besides: Deployment)"},
		{[]string{"delete", "httproute", "chat", "-n", "team"}, 0, "x deleted", ""},
	} {
		code, stdout, stderr := sluice(t, append(tt.args, "--endpoint", url)...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: exit %d\n%s%s", tt.args, code, stdout, stderr)
		}
	}
	if got := f.paths[len(f.paths)-1]; got != "DELETE /admin/v1/objects?kind=HTTPRoute&name=chat&namespace=team" {
		t.Errorf("delete sent %s", got)
	}
}

// TestLocalToken: against the local process, the CLI finds the admin token
// in .sluice/ of the folder it runs in or of any folder above it, up to
// the top of the checkout; a 401 says which token it sent, or where it
// looked.
func TestLocalToken(t *testing.T) {
	outside := t.TempDir()
	checkout := filepath.Join(outside, "checkout")
	sub := filepath.Join(checkout, "cmd", "sluice")
	for _, d := range []string{filepath.Join(checkout, ".git"), sub, filepath.Join(outside, ".sluice")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A token above the checkout is another checkout's: never sent.
	os.WriteFile(filepath.Join(outside, ".sluice", "admin-token"), []byte("outer\n"), 0o600)
	writeToken := func(dir, token string) {
		t.Helper()
		os.MkdirAll(filepath.Join(dir, ".sluice"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, ".sluice", "admin-token"), []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		setup  func()
		env    map[string]string
		wd     string
		code   int
		stderr []string
	}{
		{name: "from a subfolder", setup: func() { writeToken(checkout, "right") }, wd: sub, code: 0},
		{name: "from the top", wd: checkout, code: 0},
		{name: "a nearer .sluice wins", setup: func() { writeToken(sub, "stale") }, wd: sub, code: 1,
			stderr: []string{"401 Unauthorized: missing or wrong admin token; the CLI sent the token in " + filepath.Join(sub, ".sluice", "admin-token")}},
		{name: "$SLUICE_ADMIN_TOKEN wins over the file", env: map[string]string{"SLUICE_ADMIN_TOKEN": "right"}, wd: sub, code: 0},
		{name: "a wrong $SLUICE_ADMIN_TOKEN", env: map[string]string{"SLUICE_ADMIN_TOKEN": "wrong"}, wd: sub, code: 1,
			stderr: []string{"the CLI sent the token in $SLUICE_ADMIN_TOKEN, which the admin API at"}},
		{name: "$SLUICE_DATA_DIR names the folder", setup: func() { os.RemoveAll(filepath.Join(sub, ".sluice")) },
			env: map[string]string{"SLUICE_DATA_DIR": "data"}, wd: sub, code: 1,
			stderr: []string{"the CLI sent no token", "looked for " + filepath.Join(sub, "data", "admin-token") + ", " +
				filepath.Join(checkout, "cmd", "data", "admin-token") + ", " + filepath.Join(checkout, "data", "admin-token") + ")"}},
		{name: "no token in the checkout", setup: func() { os.RemoveAll(filepath.Join(checkout, ".sluice")) }, wd: sub, code: 1,
			stderr: []string{"the CLI sent no token: --admin-token and $SLUICE_ADMIN_TOKEN are unset, and it found no token file (looked for " +
				filepath.Join(sub, ".sluice", "admin-token") + ", " + filepath.Join(checkout, "cmd", ".sluice", "admin-token") + ", " +
				filepath.Join(checkout, ".sluice", "admin-token") + ")", "Run it inside the checkout that runs `make local`"}},
	}
	f := &fakeAdmin{status: 200, body: `{"items":[]}`, token: "right"}
	url := f.start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noAdminEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.setup != nil {
				tt.setup()
			}
			t.Chdir(tt.wd)
			code, stdout, stderr := sluice(t, "keys", "list", "--endpoint", url)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}
