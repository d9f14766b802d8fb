package main

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/servertest"
)

// TestMain runs main itself when a test asks for it (as a child process,
// see servertest.RunMain), so the tests see what a cold start does.
func TestMain(m *testing.M) {
	if os.Getenv(servertest.RunMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBadSettingFailsColdStart: a bad value stops the cold start with an
// error naming the variable and its value, before anything is reached.
func TestBadSettingFailsColdStart(t *testing.T) {
	tests := []struct{ env, value string }{
		{"SLUICE_LOG_LEVEL", "loud"},
		{"SLUICE_LAMBDA_STREAM", "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			code, line := servertest.RunMain(t, tt.env+"="+tt.value)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if line.Msg != "admin cold start failed" || !strings.HasPrefix(line.Error, tt.env+`="`+tt.value+`": want `) {
				t.Errorf("logged %+v, want the cold start's failure naming %s=%q", line, tt.env, tt.value)
			}
		})
	}
}
