package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain runs main itself when a test asks for it (as a child process,
// see startMain), so the tests see what a cold start does.
func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBadSettingFailsColdStart: a bad value stops the cold start with an
// error naming the variable and its value, before anything is reached.
func TestBadSettingFailsColdStart(t *testing.T) {
	tests := []struct{ env, value string }{
		{"SLUICE_MAX_BODY_BYTES", "abc"},
		{"SLUICE_KEY_CACHE_TTL", "5"},
		{"SLUICE_LOG_LEVEL", "loud"},
		{"SLUICE_LIMITS_FAIL", "maybe"},
		{"SLUICE_LAMBDA_STREAM", "yes"},
		{"SLUICE_TABLE_REFRESH", "10"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			code, line := startMain(t, tt.env+"="+tt.value)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if line.Msg != "gateway cold start failed" || !strings.HasPrefix(line.Error, tt.env+`="`+tt.value+`": want `) {
				t.Errorf("logged %+v, want the cold start's failure naming %s=%q", line, tt.env, tt.value)
			}
		})
	}
}

type logLine struct {
	Level, Msg, Error string
}

// startMain runs main in a child process with only env set (a DynamoDB
// endpoint nothing listens on, should it get that far) and returns its
// exit status and the last line it logged.
func startMain(t *testing.T, env ...string) (int, logLine) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in short mode: runs main in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{"SLUICE_TEST_RUN_MAIN=1", "SLUICE_DYNAMODB_ENDPOINT=http://127.0.0.1:1"}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var line logLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatalf("last line logged is not JSON: %q", stderr.String())
	}
	return cmd.ProcessState.ExitCode(), line
}
