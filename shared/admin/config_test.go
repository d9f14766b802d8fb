package admin

import (
	"log/slog"
	"testing"

	"github.com/sluicegw/sluice/shared/store"
)

// TestConfigFromEnv reads each variable set, unset and set wrong. Every
// variable ConfigFromEnv reads must have its cases here.
func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		env     string
		value   string // "" is unset: the default
		got     func(Config) any
		want    any
		wantErr string // the start error's text after `ENV="value": `
	}{
		{"SLUICE_ROUTES_TABLE", "r", func(c Config) any { return c.RoutesTable }, "r", ""},
		{"SLUICE_ROUTES_TABLE", "", func(c Config) any { return c.RoutesTable }, store.DefaultRoutesTable, ""},
		{"SLUICE_LEDGER_TABLE", "l", func(c Config) any { return c.LedgerTable }, "l", ""},
		{"SLUICE_LEDGER_TABLE", "", func(c Config) any { return c.LedgerTable }, store.DefaultLedgerTable, ""},
		{"SLUICE_DYNAMODB_ENDPOINT", "http://127.0.0.1:8000", func(c Config) any { return c.DynamoDBEndpoint }, "http://127.0.0.1:8000", ""},
		{"SLUICE_DYNAMODB_ENDPOINT", "", func(c Config) any { return c.DynamoDBEndpoint }, "", ""},
		{"SLUICE_ADMIN_TOKEN", "secret", func(c Config) any { return c.Token }, "secret", ""},
		{"SLUICE_ADMIN_TOKEN", "", func(c Config) any { return c.Token }, "", ""},
		{"SLUICE_LAMBDA_STREAM", "false", func(c Config) any { return c.LambdaStream }, false, ""},
		{"SLUICE_LAMBDA_STREAM", "", func(c Config) any { return c.LambdaStream }, true, ""},
		{"SLUICE_LAMBDA_STREAM", "buffered", nil, nil, "want true or false"},
		{"SLUICE_LOG_LEVEL", "error", func(c Config) any { return c.LogLevel }, slog.LevelError, ""},
		{"SLUICE_LOG_LEVEL", "", func(c Config) any { return c.LogLevel }, slog.LevelInfo, ""},
		{"SLUICE_LOG_LEVEL", "loud", nil, nil, "want debug, info, warn or error"},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.env] = true
		name := tt.env + "=" + tt.value
		if tt.value == "" {
			name = tt.env + " unset"
		}
		t.Run(name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string {
				if k == tt.env {
					return tt.value
				}
				return ""
			})
			if tt.wantErr != "" {
				want := tt.env + `="` + tt.value + `": ` + tt.wantErr
				if err == nil || err.Error() != want {
					t.Fatalf("error %v, want %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, v := range Settings() {
		if !tested[v.Env] {
			t.Errorf("%s is read but has no case here", v.Env)
		}
	}
}
