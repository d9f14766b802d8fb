package gateway

import (
	"strconv"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/setting"
)

// The settings only the gateway's entrypoints read; those the admin API
// reads as well are package setting's.
var (
	maxBodyBytesVar = setting.Var{Env: "SLUICE_MAX_BODY_BYTES", Flag: "max-body", Kind: setting.Int,
		Default: strconv.Itoa(DefaultMaxBodyBytes), Doc: "request body limit in bytes (413 above it)"}
	redisURLVar = setting.Var{Env: "SLUICE_REDIS_URL", Flag: "redis",
		Doc: "Redis URL of the rate-limit windows and the response cache; locally, empty runs an embedded Redis"}
	vectorRedisURLVar = setting.Var{Env: "SLUICE_VECTOR_REDIS_URL", Flag: "vector-redis",
		Doc: "Redis or Valkey URL of the semantic cache's vector index; empty: the rate-limit windows' Redis"}
	vectorSearchVar = setting.Var{Env: "SLUICE_VECTOR_SEARCH", Flag: "vector-search", Kind: setting.Choice, Choices: []string{"auto", "lsh"},
		Default: "auto", Doc: "auto: the vector index uses the server's vector search when it has one, else LSH buckets; lsh: always LSH"}
	providerSecretVar = setting.Var{Env: "SLUICE_PROVIDER_SECRET_ARN",
		Doc: "Secrets Manager secret holding the provider credentials, a JSON object of names to values"}
	limitsFailVar = setting.Var{Env: "SLUICE_LIMITS_FAIL", Flag: "limits-fail", Kind: setting.Choice, Choices: []string{"open", "closed"},
		Default: "open", Doc: "open: with Redis or the ledger down, admit requests without those limits (logged); closed: refuse them"}
	keyCacheVar = setting.Var{Env: "SLUICE_KEY_CACHE_TTL", Flag: "key-cache", Kind: setting.Duration,
		Default: ledger.DefaultKeyCacheTTL.String(), Doc: "how long key records are cached: a revoked key is refused within this bound"}
	tableRefreshVar = setting.Var{Env: "SLUICE_TABLE_REFRESH", Flag: "table-refresh", Kind: setting.Duration,
		Default: DefaultRefresh.String(), Doc: "how often the gateway checks for a new route table"}
	awsRegionVar = setting.Var{Env: "AWS_REGION", Flag: "aws-region",
		Doc: "the AWS region of Bedrock backends that name none (Lambda sets it)"}
	memorySizeVar = setting.Var{Env: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Kind: setting.Int,
		Doc: "the Lambda function's memory in MiB (Lambda sets it)"}
	gogcVar = setting.Var{Env: "GOGC",
		Doc: "Go's collector target; when unset a gateway Lambda runs at DefaultGCPercent"}
	gomemlimitVar = setting.Var{Env: "GOMEMLIMIT",
		Doc: "Go's soft memory limit; when unset a gateway Lambda's is three quarters of its memory"}
	emfVar = setting.Var{Env: "SLUICE_EMF", Kind: setting.Bool, Default: "true",
		Doc: "gateway Lambda: print the dashboard's metrics as CloudWatch embedded-metric-format lines (no API calls)"}
	otlpVar = setting.Var{Env: "OTEL_EXPORTER_OTLP_ENDPOINT", Flag: "otlp",
		Doc: "OTLP/HTTP base URL for OpenTelemetry traces and GenAI metrics (in Lambda, the ADOT collector on localhost:4318); empty: no export"}
	credentialVar = setting.Var{Env: CredentialEnvPrefix + "<NAME>",
		Doc: "the provider credential NAME, when no provider secret is set (see CredentialEnvName)"}
)

// ConfigFromEnv reads the settings of the gateway's entrypoints through
// getenv: os.Getenv in the Lambda main, a lookup that lets flags win in the
// local process. An unset or empty variable means its default; a value
// that does not parse is an error naming the variable (all such values
// are reported together), so that a typo stops the start instead of
// quietly becoming the default.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	return setting.Read(getenv, configFrom)
}

// Settings lists the variables the gateway's entrypoints read: those of
// ConfigFromEnv, in the order it reads them, then the credentials that
// CredentialsFromEnv reads.
func Settings() []setting.Var {
	return append(setting.VarsOf(configFrom), credentialVar)
}

func configFrom(r *setting.Reader) Config {
	cfg := Config{
		RoutesTable:       r.String(setting.RoutesTable),
		LedgerTable:       r.String(setting.LedgerTable),
		DynamoDBEndpoint:  r.String(setting.DynamoDBEndpoint),
		RedisURL:          r.String(redisURLVar),
		VectorRedisURL:    r.String(vectorRedisURLVar),
		VectorSearch:      r.Choice(vectorSearchVar),
		ProviderSecretARN: r.String(providerSecretVar),
		AWSRegion:         r.String(awsRegionVar),
		LambdaStream:      r.Bool(setting.LambdaStream),
		LogLevel:          r.Level(setting.LogLevel),
		MaxBodyBytes:      r.Int(maxBodyBytesVar),
		LimitsFailClosed:  r.Choice(limitsFailVar) == "closed",
		KeyCacheTTL:       r.Duration(keyCacheVar),
		TableRefresh:      r.Duration(tableRefreshVar),
		EMF:               r.Bool(emfVar),
		OTLPEndpoint:      r.String(otlpVar),
	}
	memory := r.Int(memorySizeVar)
	if r.String(gogcVar) == "" {
		cfg.GCPercent = DefaultGCPercent
	}
	if r.String(gomemlimitVar) == "" {
		cfg.MemoryLimit = memory << 20 / 4 * 3 // room for what is not Go heap
	}
	return cfg
}
