package stack

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Environment variables the functions read.
const (
	EnvRoutesTable       = "SLUICE_ROUTES_TABLE"
	EnvLedgerTable       = "SLUICE_LEDGER_TABLE"
	EnvRedisURL          = "SLUICE_REDIS_URL"
	EnvProviderSecretARN = "SLUICE_PROVIDER_SECRET_ARN"
	EnvLambdaStream      = "SLUICE_LAMBDA_STREAM"
	EnvLogLevel          = "SLUICE_LOG_LEVEL"
	EnvOTLPEndpoint      = "OTEL_EXPORTER_OTLP_ENDPOINT"
)

// CollectorEndpoint is where the gateway sends OTLP/HTTP when the stack
// adds a collector layer: the layer's receiver on localhost.
const CollectorEndpoint = "http://localhost:4318"

// DynamoDB actions per role and table: the data plane reads routes and
// records usage; the control plane manages both tables' items.
func gatewayRoutesActions() []string {
	return []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
}

func gatewayLedgerActions() []string {
	return append(gatewayRoutesActions(), "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")
}

func adminTableActions() []string {
	return append(gatewayLedgerActions(), "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan", "dynamodb:DescribeTable")
}

// adminMetricsActions let the admin API read the gateway's metrics for
// `sluice top` (GET /admin/v1/live).
func adminMetricsActions() []string {
	return []string{"cloudwatch:GetMetricData"}
}

// bedrockActions are what Converse, ConverseStream, InvokeModel and
// InvokeModelWithResponseStream need.
func bedrockActions() []string {
	return []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
}

// vpcNetworkActions let Lambda attach a function to the VPC (the same
// actions as AWSLambdaVPCAccessExecutionRole, inline).
func vpcNetworkActions() []string {
	return []string{
		"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
		"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
	}
}

// functions are the two Lambdas and their log groups.
type functions struct {
	gateway, admin         awslambda.Function
	gatewayLogs, adminLogs awslogs.LogGroup
}

// deps are what the functions are wired to.
type deps struct {
	net            *network
	routes, ledger awsdynamodb.Table
	secretARN      *string
	redisURL       *string
	vectorRedisURL *string // nil unless the stack has a vector search cluster
}

func newFunctions(scope constructs.Construct, p Props, d deps) *functions {
	f := &functions{
		gatewayLogs: logGroup(scope, "GatewayLogs", p),
		adminLogs:   logGroup(scope, "AdminLogs", p),
	}

	gatewayRole := lambdaRole(scope, "GatewayRole", "Sluice gateway Lambda", f.gatewayLogs)
	d.routes.Grant(gatewayRole, *jsii.Strings(gatewayRoutesActions()...)...)
	d.ledger.Grant(gatewayRole, *jsii.Strings(gatewayLedgerActions()...)...)
	gatewayRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadProviderCredentials"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
		Resources: &[]*string{d.secretARN},
	}))
	if len(p.BedrockModels) > 0 {
		gatewayRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("InvokeConfiguredBedrockModels"),
			Actions:   jsii.Strings(bedrockActions()...),
			Resources: jsii.Strings(bedrockResources(p.BedrockModels)...),
		}))
	}

	adminRole := lambdaRole(scope, "AdminRole", "Sluice admin Lambda", f.adminLogs)
	d.routes.Grant(adminRole, *jsii.Strings(adminTableActions()...)...)
	d.ledger.Grant(adminRole, *jsii.Strings(adminTableActions()...)...)
	// GetMetricData names no resource: IAM accepts only "*" for it, and no
	// condition key narrows it to a namespace.
	adminRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadGatewayMetrics"),
		Actions:   jsii.Strings(adminMetricsActions()...),
		Resources: jsii.Strings("*"),
	}))

	gatewaySpec := functionSpec{
		description: "Sluice gateway: the AI and HTTP data plane",
		asset:       p.GatewayAsset,
		memoryMiB:   p.GatewayMemoryMiB,
		timeout:     awscdk.Duration_Seconds(jsii.Number(p.GatewayTimeout.Seconds())),
		role:        gatewayRole,
		logs:        f.gatewayLogs,
		sg:          d.net.gatewaySG,
		env: map[string]*string{
			EnvRoutesTable:       d.routes.TableName(),
			EnvLedgerTable:       d.ledger.TableName(),
			EnvRedisURL:          d.redisURL,
			EnvProviderSecretARN: d.secretARN,
			EnvLambdaStream:      jsii.String(strconv.FormatBool(!p.Buffered)),
			EnvLogLevel:          jsii.String(p.LogLevel),
		},
	}
	if p.OTelCollectorLayer != "" {
		gatewaySpec.env[EnvOTLPEndpoint] = jsii.String(CollectorEndpoint)
		gatewaySpec.layers = []awslambda.ILayerVersion{
			awslambda.LayerVersion_FromLayerVersionArn(scope, jsii.String("OTelCollectorLayer"), jsii.String(p.OTelCollectorLayer)),
		}
	}
	f.gateway = newFunction(scope, "Gateway", gatewaySpec, d.net)
	if d.vectorRedisURL != nil {
		f.gateway.AddEnvironment(jsii.String(EnvVectorRedisURL), d.vectorRedisURL, nil)
	}
	f.admin = newFunction(scope, "Admin", functionSpec{
		description: "Sluice admin: the control plane (manifests, keys, usage)",
		asset:       p.AdminAsset,
		memoryMiB:   p.AdminMemoryMiB,
		timeout:     awscdk.Duration_Seconds(jsii.Number(DefaultAdminTimeout.Seconds())),
		role:        adminRole,
		logs:        f.adminLogs,
		sg:          d.net.adminSG,
		env: map[string]*string{
			EnvRoutesTable:  d.routes.TableName(),
			EnvLedgerTable:  d.ledger.TableName(),
			EnvLambdaStream: jsii.String("false"),
		},
	}, d.net)
	return f
}

// lambdaRole is a function's role with only inline, scoped policies: write
// to its own log group and attach to the VPC.
func lambdaRole(scope constructs.Construct, id, description string, logs awslogs.LogGroup) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	logs.GrantWrite(role)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AttachToVpc"),
		Actions:   jsii.Strings(vpcNetworkActions()...),
		Resources: jsii.Strings("*"),
	}))
	return role
}

type functionSpec struct {
	description string
	asset       string
	memoryMiB   int
	timeout     awscdk.Duration
	role        awsiam.IRole
	logs        awslogs.LogGroup
	sg          awsec2.ISecurityGroup
	env         map[string]*string
	layers      []awslambda.ILayerVersion
}

// newFunction is a Go Lambda as `make build` produces it: arm64, the
// provided.al2023 runtime, an executable named bootstrap.
func newFunction(scope constructs.Construct, id string, s functionSpec, net *network) awslambda.Function {
	return awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Description:    jsii.String(s.description),
		Runtime:        awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:   awslambda.Architecture_ARM_64(),
		Handler:        jsii.String("bootstrap"),
		Code:           awslambda.Code_FromAsset(jsii.String(s.asset), nil),
		MemorySize:     jsii.Number(float64(s.memoryMiB)),
		Timeout:        s.timeout,
		Role:           s.role,
		LogGroup:       s.logs,
		Vpc:            net.vpc,
		VpcSubnets:     net.subnets,
		SecurityGroups: &[]awsec2.ISecurityGroup{s.sg},
		Environment:    &s.env,
		Layers:         layersOf(s.layers),
	})
}

func layersOf(l []awslambda.ILayerVersion) *[]awslambda.ILayerVersion {
	if len(l) == 0 {
		return nil
	}
	return &l
}

// bedrockGeographies are the prefixes of cross-region inference profile IDs
// ("us.anthropic.claude-..."); a foundation model ID starts with its
// provider ("anthropic.claude-...").
func bedrockGeographies() []string {
	return []string{"us", "us-gov", "eu", "apac", "ca", "jp", "au", "global"}
}

// bedrockResources turns configured models into the ARNs to allow. A
// foundation model is allowed in the stack's region. An inference profile is
// allowed in the stack's region and account, along with its model in every
// region, since the profile routes each request to one of its geography's
// regions. An ARN is taken as it is.
func bedrockResources(models []string) []string {
	partition, region, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID()
	var arns []string
	for _, m := range models {
		if strings.HasPrefix(m, "arn:") {
			arns = append(arns, m)
			continue
		}
		geo, model, ok := strings.Cut(m, ".")
		if ok && slices.Contains(bedrockGeographies(), geo) && strings.Contains(model, ".") {
			arns = append(arns,
				fmt.Sprintf("arn:%s:bedrock:%s:%s:inference-profile/%s", partition, region, account, m),
				fmt.Sprintf("arn:%s:bedrock:*::foundation-model/%s", partition, model))
			continue
		}
		arns = append(arns, fmt.Sprintf("arn:%s:bedrock:%s::foundation-model/%s", partition, region, m))
	}
	return arns
}
