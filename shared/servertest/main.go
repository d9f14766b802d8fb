package servertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RunMainEnv is set in the child process RunMain starts; the test binary's
// TestMain runs the command's main when it sees it.
const RunMainEnv = "SLUICE_TEST_RUN_MAIN"

// LogLine is what the entrypoints' JSON log lines carry that the tests read.
type LogLine struct {
	Level, Msg, Error string
}

// RunMain runs the test binary again as a child process whose TestMain
// calls main, with only env set (and a DynamoDB endpoint nothing listens
// on, should it get that far), and returns its exit status and the last
// line it logged. It skips in short mode, which starts no process.
func RunMain(t *testing.T, env ...string) (int, LogLine) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in short mode: runs main in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{RunMainEnv + "=1", "SLUICE_DYNAMODB_ENDPOINT=http://127.0.0.1:1"}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var line LogLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatalf("last line logged is not JSON: %q", stderr.String())
	}
	return cmd.ProcessState.ExitCode(), line
}
