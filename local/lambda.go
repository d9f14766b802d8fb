package main

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/sluicegw/sluice/local/lambdaemu"
	"github.com/sluicegw/sluice/shared/gateway"
)

// lambdaGateway serves the gateway by running a real Lambda bootstrap under
// the emulator, with the environment the CDK stack gives it in AWS, but
// DynamoDB Local and the local credentials.
func (p *process) lambdaGateway(ctx context.Context, o options, dynamoEndpoint, routesTable, ledgerTable, redisURL string) (http.Handler, error) {
	env := []string{
		"SLUICE_ROUTES_TABLE=" + routesTable,
		"SLUICE_LEDGER_TABLE=" + ledgerTable,
		"SLUICE_DYNAMODB_ENDPOINT=" + dynamoEndpoint,
		"SLUICE_REDIS_URL=" + redisURL,
		"SLUICE_LAMBDA_STREAM=true",
		"SLUICE_MAX_BODY_BYTES=" + strconv.FormatInt(o.maxBody, 10),
		"SLUICE_LOG_LEVEL=" + o.logLevelStr,
		"SLUICE_LIMITS_FAIL=" + o.limitsFail,
		"SLUICE_KEY_CACHE_TTL=" + o.keyCache.String(),
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, gateway.CredentialEnvPrefix) {
			env = append(env, kv)
		}
	}
	emu, err := lambdaemu.New(ctx, lambdaemu.Config{Bootstrap: o.lambda, Env: env, Logger: p.log})
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() { emu.Close() })
	p.log.Info("serving the gateway through the Lambda emulator", "bootstrap", o.lambda)
	return emu, nil
}
