package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Output names: what `cdk deploy` prints and README.md documents.
const (
	OutGatewayURL        = "GatewayUrl"
	OutAdminURL          = "AdminUrl"
	OutFunctionURL       = "FunctionUrl"
	OutRoutesTable       = "RoutesTable"
	OutLedgerTable       = "LedgerTable"
	OutProviderSecretARN = "ProviderSecretArn"
	OutAdminInvokeARN    = "AdminInvokeArn"
	OutDashboardName     = "DashboardName"
)

// New defines Sluice's stack in scope. It checks p first and returns every
// problem it finds rather than a half-built stack.
func New(scope constructs.Construct, id string, p Props) (awscdk.Stack, error) {
	name := id
	if p.StackName != nil {
		name = *p.StackName
	}
	p = p.withDefaults(name)
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}

	if p.Description == nil {
		p.Description = jsii.String("Sluice: serverless AI gateway (gateway and admin Lambdas, DynamoDB, ElastiCache Serverless)")
	}
	s := awscdk.NewStack(scope, jsii.String(id), &p.StackProps)

	net := newNetwork(s, p)
	routes := newTable(s, "Routes", p)
	ledger := newTable(s, "Ledger", p)
	secret := providerSecret(s, p)
	cache := newCache(s, net, p)

	d := deps{
		net: net, routes: routes, ledger: ledger,
		secretARN: secret.SecretArn(), redisURL: redisURL(cache),
	}
	if p.VectorSearchNodeType != "" {
		d.vectorRedisURL = vectorRedisURL(newVectorCache(s, net, p))
	}
	fns := newFunctions(s, p, d)
	gw := gatewayAPI(s, p, fns.gateway)
	admin := adminAPI(s, p, fns.admin)
	if !p.NoAPIGatewayAccountRole {
		apiGatewayAccount(s, gw, admin)
	}
	if p.WebACLARN != "" {
		associateWebACL(s, p.WebACLARN, gw, admin)
	}

	m := monitored{fns: fns, gatewayAPI: gw, adminAPI: admin, routes: routes, ledger: ledger, cacheName: p.CacheName}
	dashboard := newDashboard(s, m)
	newAlarms(s, m, p.AlarmTopicARN)

	output(s, OutGatewayURL, gw.Url(), "Gateway base URL; the OpenAI base URL is this plus v1")
	output(s, OutAdminURL, admin.Url(), "Admin API base URL (IAM auth): sluice apply --endpoint")
	if p.FunctionURL {
		output(s, OutFunctionURL, functionURL(fns.gateway, p).Url(), "Gateway Function URL")
	}
	output(s, OutRoutesTable, routes.TableName(), "DynamoDB routes table")
	output(s, OutLedgerTable, ledger.TableName(), "DynamoDB ledger table")
	output(s, OutProviderSecretARN, secret.SecretArn(), "Secrets Manager secret for provider credentials (JSON object)")
	output(s, OutAdminInvokeARN, admin.ArnForExecuteApi(jsii.String("*"), jsii.String("/"+AdminPathPrefix+"/*"), jsii.String(p.StageName)),
		"Resource for execute-api:Invoke in the admin callers' IAM policies")
	output(s, OutDashboardName, dashboard.DashboardName(), "CloudWatch dashboard")

	suppress(s, p)
	return s, nil
}

func output(s awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(s, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
