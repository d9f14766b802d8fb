package main

import (
	"context"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/sluicegw/sluice/local/lambdaemu"
	"github.com/sluicegw/sluice/shared/api"
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
	emu, err := lambdaemu.New(ctx, lambdaemu.Config{Bootstrap: cfg.lambda, Env: env, Region: cfg.gateway.AWSRegion, Logger: p.log,
		RequestTooLarge: http.HandlerFunc(tooLarge)})
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() { emu.Close() })
	p.log.Info("serving the gateway through the Lambda emulator", "bootstrap", cfg.lambda)
	return emu, nil
}

// tooLarge answers a body over Lambda's payload limit as the gateway
// answers one over its own: 413 request_too_large in the client's protocol
// on the AI paths, plain text elsewhere.
func tooLarge(w http.ResponseWriter, r *http.Request) {
	err := api.Errorf(api.ErrTooLarge, "request body exceeds the 6 MB a Lambda function can be sent")
	switch ep := api.EndpointOf(r.URL.Path); {
	case ep.Anthropic():
		api.WriteAnthropicError(w, err)
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		api.WriteOpenAIError(w, err)
	default:
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
	}
}
