// Command admin is the control-plane Lambda: it reads its settings with
// admin.ConfigFromEnv (the README's configuration table lists them) and
// hands the admin handler to the Lambda adapter, with CloudWatch as the
// source of the live figures `sluice top` shows. In AWS, API Gateway's IAM
// authorisation guards it; a token adds a bearer check (the local
// emulator uses it). A bad setting fails the cold start with an error
// naming it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/lambdahttp"
	"github.com/sluicegw/sluice/shared/live"
	"github.com/sluicegw/sluice/shared/store"
)

func main() {
	cfg, err := admin.ConfigFromEnv(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err == nil {
		err = run(context.Background(), cfg, log)
	}
	if err != nil {
		log.Error("admin cold start failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg admin.Config, log *slog.Logger) error {
	db, err := store.NewClient(ctx, cfg.DynamoDBEndpoint)
	if err != nil {
		return err
	}
	cfg.Logger = log
	// sluice top reads the gateways' figures through the admin API, which
	// asks CloudWatch for them with the function's role.
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("admin: load AWS config: %w", err)
	}
	cfg.Live = live.New(cloudwatch.NewFromConfig(awsCfg), nil)
	h := admin.New(cfg, store.New(db, cfg.RoutesTable, cfg.LedgerTable))
	lambda.StartHandlerFunc(lambdahttp.NewHandler(h, lambdahttp.Config{Stream: cfg.LambdaStream, Logger: log}))
	return nil
}
