// Command gateway is the data-plane Lambda: it reads its settings with
// gateway.ConfigFromEnv (the README's configuration table lists them),
// wires the shared packages and hands the gateway handler to the Lambda
// adapter. A bad setting fails the cold start with an error naming it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/lambdahttp"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/store"
	"github.com/sluicegw/sluice/shared/telemetry"
	"github.com/sluicegw/sluice/shared/vectorindex"
	"github.com/sluicegw/sluice/shared/window"
)

func main() {
	cfg, err := gateway.ConfigFromEnv(os.Getenv)
	gateway.TuneGC(cfg.GCPercent, cfg.MemoryLimit)
	log := telemetry.NewLogger(os.Stderr, telemetry.JSON, cfg.LogLevel)
	if err == nil {
		err = run(context.Background(), cfg, log)
	}
	if err != nil {
		log.Error("gateway cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg gateway.Config, log *slog.Logger) error {
	var db *dynamodb.Client
	// The provider secret is read while the route table loads: a cold
	// start is mostly these round trips.
	type secret struct {
		creds gateway.Credentials
		err   error
	}
	secrets := make(chan secret, 1)
	// Bedrock requests are signed with the function's credentials, loaded
	// on the first signed request so that a cold start never waits on them.
	awsCreds := builtin.AWSCredentials()
	if cfg.DynamoDBEndpoint != "" {
		var err error
		if db, err = store.NewClient(ctx, cfg.DynamoDBEndpoint); err != nil {
			return err
		}
		secrets <- secret{creds: gateway.CredentialsFromEnv(os.Environ())}
	} else {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS config: %w", err)
		}
		db = dynamodb.NewFromConfig(awsCfg)
		awsCreds = awsCfg.Credentials
		if arn := cfg.ProviderSecretARN; arn != "" {
			go func() {
				creds, err := secretCredentials(ctx, secretsmanager.NewFromConfig(awsCfg), arn)
				secrets <- secret{creds, err}
			}()
		} else {
			secrets <- secret{creds: gateway.CredentialsFromEnv(os.Environ())}
		}
	}
	st := store.New(db, cfg.RoutesTable, cfg.LedgerTable)
	tables, err := gateway.NewTableWatcher(ctx, st, cfg.TableRefresh, log)
	sec := <-secrets
	if err != nil {
		return err
	}
	if sec.err != nil {
		return sec.err
	}
	lim, rc, err := newLimiter(cfg, st, log)
	if err != nil {
		return err
	}
	if rc != nil {
		cfg.Cache = cache.NewRedis(rc, cache.StoreConfig{Logger: log})
		// Backends' breakers and cooldowns are shared on the same client.
		cfg.Health = balance.NewRedis(rc, nil)
	}
	idx, err := vectorindex.Start(ctx, cfg.VectorRedisURL, rc, cfg.VectorSearch, log)
	if err != nil {
		return err
	}
	if idx != nil {
		cfg.Vectors = idx
	}

	cfg.Providers = builtin.Registry(provider.Deps{Region: cfg.AWSRegion, Credentials: awsCreds})
	cfg.Logger, cfg.Limiter, cfg.SettleID = log, lim, invocationID
	if err := wireTelemetry(ctx, &cfg, log); err != nil {
		return err
	}
	gw, err := gateway.New(cfg, tables, ledger.NewAuthenticator(st, cfg.KeyCacheTTL, nil), sec.creds)
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(lambdahttp.NewHandler(gw, lambdahttp.Config{Stream: cfg.LambdaStream, Logger: log}))
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

// newLimiter wires the ledger: Redis windows (when a Redis URL is set),
// DynamoDB budgets and usage. Usage is settled before each response ends,
// so a frozen sandbox never holds an unwritten debit. It returns the Redis
// client too (nil without a URL), for the response cache to share.
func newLimiter(cfg gateway.Config, st *store.Store, log *slog.Logger) (*ledger.Limiter, *redis.Client, error) {
	var windows ledger.WindowStore
	var rc *redis.Client
	if cfg.RedisURL != "" {
		var err error
		if rc, err = window.NewClient(cfg.RedisURL, log); err != nil {
			return nil, nil, err
		}
		windows = window.New(rc)
	} else {
		log.Warn("SLUICE_REDIS_URL is not set: per-minute limits are not enforced and answers are not cached")
	}
	return ledger.NewLimiter(ledger.LimiterConfig{FailClosed: cfg.LimitsFailClosed, Logger: log}, windows, st), rc, nil
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
