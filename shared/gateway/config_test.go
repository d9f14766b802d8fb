package gateway

import (
	"log/slog"
	"strings"
	"testing"
	"time"
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
		{"SLUICE_ROUTES_TABLE", "", func(c Config) any { return c.RoutesTable }, "sluice-routes", ""},
		{"SLUICE_LEDGER_TABLE", "l", func(c Config) any { return c.LedgerTable }, "l", ""},
		{"SLUICE_LEDGER_TABLE", "", func(c Config) any { return c.LedgerTable }, "sluice-ledger", ""},
		{"SLUICE_DYNAMODB_ENDPOINT", "http://127.0.0.1:8000", func(c Config) any { return c.DynamoDBEndpoint }, "http://127.0.0.1:8000", ""},
		{"SLUICE_DYNAMODB_ENDPOINT", "", func(c Config) any { return c.DynamoDBEndpoint }, "", ""},
		{"SLUICE_REDIS_URL", "rediss://cache:6379", func(c Config) any { return c.RedisURL }, "rediss://cache:6379", ""},
		{"SLUICE_REDIS_URL", "", func(c Config) any { return c.RedisURL }, "", ""},
		{"SLUICE_VECTOR_REDIS_URL", "rediss://vectors:6390", func(c Config) any { return c.VectorRedisURL }, "rediss://vectors:6390", ""},
		{"SLUICE_VECTOR_REDIS_URL", "", func(c Config) any { return c.VectorRedisURL }, "", ""},
		{"SLUICE_VECTOR_SEARCH", "lsh", func(c Config) any { return c.VectorSearch }, "lsh", ""},
		{"SLUICE_VECTOR_SEARCH", "", func(c Config) any { return c.VectorSearch }, "auto", ""},
		{"SLUICE_VECTOR_SEARCH", "hnsw", nil, nil, "want auto or lsh"},
		{"SLUICE_PROVIDER_SECRET_ARN", "arn:aws:secretsmanager:x", func(c Config) any { return c.ProviderSecretARN }, "arn:aws:secretsmanager:x", ""},
		{"SLUICE_PROVIDER_SECRET_ARN", "", func(c Config) any { return c.ProviderSecretARN }, "", ""},
		{"AWS_REGION", "eu-west-1", func(c Config) any { return c.AWSRegion }, "eu-west-1", ""},
		{"AWS_REGION", "", func(c Config) any { return c.AWSRegion }, "", ""},
		{"SLUICE_LAMBDA_STREAM", "false", func(c Config) any { return c.LambdaStream }, false, ""},
		{"SLUICE_LAMBDA_STREAM", "", func(c Config) any { return c.LambdaStream }, true, ""},
		{"SLUICE_LAMBDA_STREAM", "flase", nil, nil, "want true or false"},
		{"SLUICE_LOG_LEVEL", "debug", func(c Config) any { return c.LogLevel }, slog.LevelDebug, ""},
		{"SLUICE_LOG_LEVEL", "", func(c Config) any { return c.LogLevel }, slog.LevelInfo, ""},
		{"SLUICE_LOG_LEVEL", "loud", nil, nil, "want debug, info, warn or error"},
		{"SLUICE_MAX_BODY_BYTES", "1048576", func(c Config) any { return c.MaxBodyBytes }, int64(1 << 20), ""},
		{"SLUICE_MAX_BODY_BYTES", "", func(c Config) any { return c.MaxBodyBytes }, int64(DefaultMaxBodyBytes), ""},
		{"SLUICE_MAX_BODY_BYTES", "abc", nil, nil, "want a whole number above zero"},
		{"SLUICE_MAX_BODY_BYTES", "0", nil, nil, "want a whole number above zero"},
		{"SLUICE_LIMITS_FAIL", "closed", func(c Config) any { return c.LimitsFailClosed }, true, ""},
		{"SLUICE_LIMITS_FAIL", "open", func(c Config) any { return c.LimitsFailClosed }, false, ""},
		{"SLUICE_LIMITS_FAIL", "", func(c Config) any { return c.LimitsFailClosed }, false, ""},
		{"SLUICE_LIMITS_FAIL", "maybe", nil, nil, "want open or closed"},
		{"SLUICE_KEY_CACHE_TTL", "5s", func(c Config) any { return c.KeyCacheTTL }, 5 * time.Second, ""},
		{"SLUICE_KEY_CACHE_TTL", "", func(c Config) any { return c.KeyCacheTTL }, 30 * time.Second, ""},
		{"SLUICE_KEY_CACHE_TTL", "5", nil, nil, "want a duration with its unit, such as 30s or 500ms"},
		{"SLUICE_KEY_CACHE_TTL", "0s", nil, nil, "want a duration above zero"},
		{"SLUICE_TABLE_REFRESH", "1m", func(c Config) any { return c.TableRefresh }, time.Minute, ""},
		{"SLUICE_TABLE_REFRESH", "", func(c Config) any { return c.TableRefresh }, DefaultRefresh, ""},
		{"SLUICE_TABLE_REFRESH", "10", nil, nil, "want a duration with its unit, such as 30s or 500ms"},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024", func(c Config) any { return c.MemoryLimit }, int64(768 << 20), ""},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "", func(c Config) any { return c.MemoryLimit }, int64(0), ""},
		{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots", nil, nil, "want a whole number above zero"},
		{"GOGC", "100", func(c Config) any { return c.GCPercent }, 0, ""},
		{"GOGC", "", func(c Config) any { return c.GCPercent }, DefaultGCPercent, ""},
		{"GOMEMLIMIT", "1GiB", func(c Config) any { return c.MemoryLimit }, int64(0), ""},
		{"SLUICE_EMF", "false", func(c Config) any { return c.EMF }, false, ""},
		{"SLUICE_EMF", "", func(c Config) any { return c.EMF }, true, ""},
		{"SLUICE_EMF", "yes please", nil, nil, "want true or false"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318", func(c Config) any { return c.OTLPEndpoint }, "http://localhost:4318", ""},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "", func(c Config) any { return c.OTLPEndpoint }, "", ""},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.env] = true
		name := tt.env + "=" + tt.value
		if tt.value == "" {
			name = tt.env + " unset"
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{tt.env: tt.value}
			if tt.env == "GOMEMLIMIT" {
				env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "1024" // GOMEMLIMIT wins over it
			}
			cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
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
		if v.Env != credentialVar.Env && !tested[v.Env] {
			t.Errorf("%s is read but has no case here", v.Env)
		}
	}
}

// TestConfigFromEnvEveryError: every bad value is in the one start error.
func TestConfigFromEnvEveryError(t *testing.T) {
	env := map[string]string{"SLUICE_MAX_BODY_BYTES": "abc", "SLUICE_KEY_CACHE_TTL": "5", "SLUICE_LOG_LEVEL": "loud", "SLUICE_LIMITS_FAIL": "maybe"}
	_, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	for k, v := range env {
		if !strings.Contains(err.Error(), k+`="`+v+`"`) {
			t.Errorf("error %q does not name %s", err, k)
		}
	}
}

// TestSettingsDefaults: each setting's default is a value it accepts, and
// each is listed once.
func TestSettingsDefaults(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Settings() {
		if seen[v.Env] {
			t.Errorf("%s listed twice", v.Env)
		}
		seen[v.Env] = true
		if err := v.Check(v.Default); err != nil {
			t.Errorf("%s: default %q: %v", v.Env, v.Default, err)
		}
	}
}
