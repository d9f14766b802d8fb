package setting

// The settings both Lambda functions read, and the local process with them.
var (
	RoutesTable = Var{Env: "SLUICE_ROUTES_TABLE", Flag: "routes-table", Default: "sluice-routes",
		Doc: "the DynamoDB table of applied objects and compiled route tables"}
	LedgerTable = Var{Env: "SLUICE_LEDGER_TABLE", Flag: "ledger-table", Default: "sluice-ledger",
		Doc: "the DynamoDB table of API keys and usage"}
	DynamoDBEndpoint = Var{Env: "SLUICE_DYNAMODB_ENDPOINT", Flag: "dynamodb",
		Doc: "a DynamoDB endpoint (DynamoDB Local) instead of AWS's; locally, instead of starting DynamoDB Local"}
	LogLevel = Var{Env: "SLUICE_LOG_LEVEL", Flag: "log-level", Kind: Level, Default: "info",
		Doc: "debug, info, warn or error"}
	LambdaStream = Var{Env: "SLUICE_LAMBDA_STREAM", Kind: Bool, Default: "true",
		Doc: "a Lambda function streams its responses (true) or buffers them (false)"}
)
