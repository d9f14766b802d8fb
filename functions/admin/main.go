// Command admin is the control-plane Lambda. In AWS, API Gateway's IAM
// authorisation guards it; SLUICE_ADMIN_TOKEN adds a bearer token check
// (the local emulator uses it).
//
// Environment: SLUICE_ROUTES_TABLE, SLUICE_LEDGER_TABLE, SLUICE_ADMIN_TOKEN,
// SLUICE_LAMBDA_STREAM (false: the admin API answers buffered),
// SLUICE_LOG_LEVEL, and SLUICE_DYNAMODB_ENDPOINT for DynamoDB Local.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/lambdahttp"
	"github.com/sluicegw/sluice/shared/store"
)

func main() {
	var level slog.Level
	level.UnmarshalText([]byte(os.Getenv("SLUICE_LOG_LEVEL")))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	lcfg, err := lambdahttp.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("admin cold start failed", "error", err)
		os.Exit(1)
	}
	db, err := store.NewClient(ctx, os.Getenv("SLUICE_DYNAMODB_ENDPOINT"))
	if err != nil {
		log.Error("admin cold start failed", "error", err)
		os.Exit(1)
	}
	st := store.New(db, os.Getenv("SLUICE_ROUTES_TABLE"), os.Getenv("SLUICE_LEDGER_TABLE"))
	lambda.StartHandlerFunc(lambdahttp.NewHandler(admin.New(admin.Config{Token: os.Getenv("SLUICE_ADMIN_TOKEN"), Logger: log}, st), lcfg))
}
