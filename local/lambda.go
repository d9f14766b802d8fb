package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sluicegw/sluice/local/lambdaemu"
	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/setting"
	"github.com/sluicegw/sluice/shared/store"
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
	if p.lambda != nil {
		vars[setting.RoutesTable.Env] = p.lambda.name // the tables the mock swap keeps for it
	}
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
	// Signing for Bedrock: the credentials in this environment, or
	// placeholder keys when the mocked backends are all there is to sign
	// for.
	switch {
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		// As Lambda hands a function its role's credentials.
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if v := os.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	case p.mocks != nil && !p.mocks.aws:
		env = append(env, "AWS_ACCESS_KEY_ID="+placeholderKeyID, "AWS_SECRET_ACCESS_KEY="+placeholderSecret)
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

// lambdaTablesSuffix names, after the routes table's name, the table the
// emulated Lambda reads its route tables from when mocks are on.
const lambdaTablesSuffix = "-lambda"

// lambdaTables keeps the route tables the emulated Lambda reads: each
// newest stored table, through the mock swap, in a DynamoDB table of its
// own (the admin API's stays as applied). The Lambda's gateway cannot be
// reached into, so the swap happens here, when the local process starts
// and whenever its admin API stores a table; the function finds the new
// table as a deployed one does, at its next check.
type lambdaTables struct {
	name string
	src  gateway.TableStore // through the mock swap
	dst  *store.Store

	mu sync.Mutex
}

// newLambdaTables creates the Lambda's table when it is missing and brings
// it up to date.
func newLambdaTables(ctx context.Context, db *dynamodb.Client, src gateway.TableStore, name, ledgerTable string) (*lambdaTables, error) {
	if err := store.CreateTables(ctx, db, name, ledgerTable); err != nil {
		return nil, err
	}
	l := &lambdaTables{name: name, src: src, dst: store.New(db, name, ledgerTable)}
	return l, l.sync(ctx)
}

// sync copies the newest stored table, mocked, unless the Lambda's table
// has it already.
func (l *lambdaTables) sync(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	have, err := l.dst.LatestVersion(ctx)
	if err != nil {
		return err
	}
	t, err := l.src.LatestTable(ctx)
	if err != nil || t == nil || t.Version <= have {
		return err
	}
	if err := l.dst.PutTable(ctx, t, nil); err != nil && !errors.Is(err, store.ErrVersionExists) {
		return err
	}
	return nil
}
