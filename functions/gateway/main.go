// Command gateway is the data-plane Lambda: it wires the shared packages and
// hands the gateway handler to the Lambda adapter, streaming by default.
//
// Environment: SLUICE_ROUTES_TABLE, SLUICE_LEDGER_TABLE, SLUICE_REDIS_URL,
// SLUICE_PROVIDER_SECRET_ARN (a Secrets Manager secret whose JSON maps
// credential names to values; without it, SLUICE_CREDENTIAL_<NAME>
// variables, as locally), SLUICE_LAMBDA_STREAM, SLUICE_LOG_LEVEL,
// SLUICE_MAX_BODY_BYTES, SLUICE_LIMITS_FAIL (open, the default, or closed:
// what limits do when Redis or the ledger fails), SLUICE_KEY_CACHE_TTL (how
// long key records are cached, 30s by default), and SLUICE_DYNAMODB_ENDPOINT
// for DynamoDB Local. Without SLUICE_REDIS_URL per-minute limits are not
// enforced (budgets and usage still are).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/lambdahttp"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/store"
	"github.com/sluicegw/sluice/shared/window"
)

func main() {
	gateway.TuneGC(memoryLimit(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")))
	log := newLogger()
	window.LogRedisTo(log)
	if err := run(context.Background(), log); err != nil {
		log.Error("gateway cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	lcfg, err := lambdahttp.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	var db *dynamodb.Client
	// The provider secret is read while the route table loads: a cold
	// start is mostly these round trips.
	type secret struct {
		creds gateway.Credentials
		err   error
	}
	secrets := make(chan secret, 1)
	if endpoint := os.Getenv("SLUICE_DYNAMODB_ENDPOINT"); endpoint != "" {
		if db, err = store.NewClient(ctx, endpoint); err != nil {
			return err
		}
		secrets <- secret{creds: gateway.CredentialsFromEnv(os.Environ())}
	} else {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS config: %w", err)
		}
		db = dynamodb.NewFromConfig(awsCfg)
		if arn := os.Getenv("SLUICE_PROVIDER_SECRET_ARN"); arn != "" {
			go func() {
				creds, err := secretCredentials(ctx, secretsmanager.NewFromConfig(awsCfg), arn)
				secrets <- secret{creds, err}
			}()
		} else {
			secrets <- secret{creds: gateway.CredentialsFromEnv(os.Environ())}
		}
	}
	maxBody, _ := strconv.ParseInt(os.Getenv("SLUICE_MAX_BODY_BYTES"), 10, 64)
	st := store.New(db, os.Getenv("SLUICE_ROUTES_TABLE"), os.Getenv("SLUICE_LEDGER_TABLE"))
	tables, err := gateway.NewTableWatcher(ctx, st, 0, log)
	sec := <-secrets
	if err != nil {
		return err
	}
	if sec.err != nil {
		return sec.err
	}
	lim, err := newLimiter(os.Getenv, st, log)
	if err != nil {
		return err
	}
	keyTTL, _ := time.ParseDuration(os.Getenv("SLUICE_KEY_CACHE_TTL"))
	region, awsCreds := builtin.AWSFromEnv(os.Getenv)
	providers := builtin.Registry(provider.Deps{Region: region, Credentials: awsCreds})
	gw, err := gateway.New(gateway.Config{Providers: providers, Logger: log, MaxBodyBytes: maxBody, Limiter: lim, SettleID: invocationID},
		tables, ledger.NewAuthenticator(st, keyTTL, nil), sec.creds)
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(lambdahttp.NewHandler(gw, lcfg))
	return nil
}

// invocationID makes debits idempotent per Lambda invocation: a retried
// invocation keeps its AwsRequestID, so its usage is recorded once.
func invocationID(r *http.Request) string {
	if ids, ok := lambdahttp.FromContext(r.Context()); ok && ids.Lambda != "" {
		return "lambda_" + ids.Lambda
	}
	return ""
}

// newLimiter wires the ledger: Redis windows (when SLUICE_REDIS_URL is
// set), DynamoDB budgets and usage. Usage is settled before each response
// ends, so a frozen sandbox never holds an unwritten debit.
func newLimiter(getenv func(string) string, st *store.Store, log *slog.Logger) (*ledger.Limiter, error) {
	fail := getenv("SLUICE_LIMITS_FAIL")
	if fail != "" && fail != "open" && fail != "closed" {
		return nil, fmt.Errorf("SLUICE_LIMITS_FAIL must be open or closed, got %q", fail)
	}
	var windows ledger.WindowStore
	if u := getenv("SLUICE_REDIS_URL"); u != "" {
		rc, err := window.NewClient(u)
		if err != nil {
			return nil, err
		}
		windows = window.New(rc)
	} else {
		log.Warn("SLUICE_REDIS_URL is not set: per-minute limits are not enforced")
	}
	return ledger.NewLimiter(ledger.LimiterConfig{FailClosed: fail == "closed", Logger: log}, windows, st), nil
}

// secretCredentials reads the provider secret once, at cold start. Its
// values are never logged.
func secretCredentials(ctx context.Context, sm *secretsmanager.Client, arn string) (gateway.CredentialMap, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return nil, fmt.Errorf("read provider secret: %w", err)
	}
	var m gateway.CredentialMap
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &m) != nil {
		return nil, fmt.Errorf("provider secret %s must be a JSON object of credential names to strings", arn)
	}
	return m, nil
}

// memoryLimit is the soft Go memory limit for a function of the given
// memory size (MiB): three quarters of it, leaving room for what is not
// Go heap; 0 (none) when the size is unknown.
func memoryLimit(mib string) int64 {
	n, _ := strconv.ParseInt(mib, 10, 64)
	return n << 20 / 4 * 3
}

func newLogger() *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(os.Getenv("SLUICE_LOG_LEVEL")))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
