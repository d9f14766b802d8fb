package main

import (
	"context"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/sluicegw/sluice/local/lambdaemu"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/setting"
)

// lambdaGateway serves the gateway by running a real Lambda bootstrap under
// the emulator, with the gateway settings this process was given, as the
// CDK stack gives them in AWS, but DynamoDB and Redis this process uses,
// streaming responses and the local credentials.
func (p *process) lambdaGateway(ctx context.Context, cfg config, dynamoEndpoint, redisURL string) (http.Handler, error) {
	vars := map[string]string{}
	for _, v := range gateway.Settings() {
		if s, ok := cfg.given[v.Env]; ok && strings.HasPrefix(v.Env, "SLUICE_") {
			vars[v.Env] = s
		}
	}
	vars[setting.DynamoDBEndpoint.Env] = dynamoEndpoint
	vars["SLUICE_REDIS_URL"] = redisURL
	vars[setting.LambdaStream.Env] = "true"
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, gateway.CredentialEnvPrefix) {
			env = append(env, kv)
		}
	}
	emu, err := lambdaemu.New(ctx, lambdaemu.Config{Bootstrap: cfg.lambda, Env: env, Region: cfg.gateway.AWSRegion, Logger: p.log})
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() { emu.Close() })
	p.log.Info("serving the gateway through the Lambda emulator", "bootstrap", cfg.lambda)
	return emu, nil
}
