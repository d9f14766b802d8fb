package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AdminPathPrefix is where the admin API's routes live, on the admin API as
// on the local process's single port.
const AdminPathPrefix = "admin/v1"

// gatewayAPI is the data plane's front door: every path, the root included,
// goes to the gateway through a Lambda proxy integration that streams the
// response (ResponseTransferMode STREAM) for up to GatewayTimeout.
func gatewayAPI(scope constructs.Construct, p Props, fn awslambda.IFunction) awsapigateway.RestApi {
	api := restAPI(scope, "GatewayApi", "Sluice gateway: OpenAI- and Anthropic-compatible AI API and HTTP routes", p)
	mode := awsapigateway.ResponseTransferMode_STREAM
	if p.Buffered {
		mode = awsapigateway.ResponseTransferMode_BUFFERED
	}
	integration := awsapigateway.NewLambdaIntegration(fn, &awsapigateway.LambdaIntegrationOptions{
		Proxy:                jsii.Bool(true),
		ResponseTransferMode: mode,
		Timeout:              awscdk.Duration_Seconds(jsii.Number(p.GatewayTimeout.Seconds())),
		// One invoke permission for the whole API, not one per method.
		ScopePermissionToMethod: jsii.Bool(false),
	})
	// Keys are checked by the gateway itself (Authorization: Bearer,
	// x-api-key, api-key), so API Gateway authorizes nothing here.
	api.Root().AddMethod(jsii.String("ANY"), integration, nil)
	api.Root().AddProxy(&awsapigateway.ProxyResourceOptions{
		DefaultIntegration: integration,
		AnyMethod:          jsii.Bool(true),
	})
	return api
}

// adminAPI is the control plane under IAM authorization: callers sign with
// SigV4 (service execute-api) and need execute-api:Invoke on it.
func adminAPI(scope constructs.Construct, p Props, fn awslambda.IFunction) awsapigateway.RestApi {
	api := restAPI(scope, "AdminApi", "Sluice admin API (IAM-authorized): manifests, keys, usage", p)
	integration := awsapigateway.NewLambdaIntegration(fn, &awsapigateway.LambdaIntegrationOptions{
		Proxy:                   jsii.Bool(true),
		ScopePermissionToMethod: jsii.Bool(false),
	})
	iam := &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM}
	prefix := api.Root().ResourceForPath(jsii.String(AdminPathPrefix))
	prefix.AddMethod(jsii.String("ANY"), integration, iam)
	prefix.AddProxy(&awsapigateway.ProxyResourceOptions{
		DefaultIntegration:   integration,
		DefaultMethodOptions: iam,
		AnyMethod:            jsii.Bool(true),
	})
	return api
}

// restAPI is a regional REST API (its streams may idle for up to 5 minutes;
// an edge-optimized API cuts them after 30 seconds) with one stage: access
// logs, error-level execution logs without request or response bodies (they
// hold prompts and keys), metrics, and no API Gateway cache (a streamed
// integration can't be cached; Sluice caches responses itself).
func restAPI(scope constructs.Construct, id, description string, p Props) awsapigateway.RestApi {
	access := logGroup(scope, id+"AccessLogs", p)
	return awsapigateway.NewRestApi(scope, jsii.String(id), &awsapigateway.RestApiProps{
		Description:    jsii.String(description),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole: jsii.Bool(false), // the stack sets the account role itself (apiGatewayAccount)
		// Uploads (audio, files) arrive base64-encoded in the proxy event.
		BinaryMediaTypes: jsii.Strings("multipart/form-data", "application/octet-stream"),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(p.StageName),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(access),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(true), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
				RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
				Status: jsii.Bool(true), User: jsii.Bool(true),
			}),
			LoggingLevel:        awsapigateway.MethodLoggingLevel_ERROR,
			DataTraceEnabled:    jsii.Bool(false),
			MetricsEnabled:      jsii.Bool(true),
			CachingEnabled:      jsii.Bool(false),
			CacheClusterEnabled: jsii.Bool(false),
		},
	})
}

// apiGatewayAccount sets the region's API Gateway CloudWatch Logs role,
// which execution logging needs, and makes both stages wait for it. The
// setting is region-wide and outlives the stack (retained), as CDK does
// with its own cloudWatchRole.
func apiGatewayAccount(scope constructs.Construct, apis ...awsapigateway.RestApi) awsapigateway.CfnAccount {
	role := awsiam.NewRole(scope, jsii.String("ApiGatewayCloudWatchRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		Description: jsii.String("API Gateway (region-wide account setting): push execution logs to CloudWatch Logs"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonAPIGatewayPushToCloudWatchLogs")),
		},
	})
	role.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	account := awsapigateway.NewCfnAccount(scope, jsii.String("ApiGatewayAccount"), &awsapigateway.CfnAccountProps{
		CloudWatchRoleArn: role.RoleArn(),
	})
	account.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	for _, api := range apis {
		api.DeploymentStage().Node().AddDependency(account)
	}
	return account
}

// associateWebACL puts both stages behind a regional WAFv2 web ACL.
func associateWebACL(scope constructs.Construct, webACLARN string, apis ...awsapigateway.RestApi) {
	for _, api := range apis {
		awswafv2.NewCfnWebACLAssociation(scope, jsii.String(*api.Node().Id()+"WebAcl"), &awswafv2.CfnWebACLAssociationProps{
			ResourceArn: api.DeploymentStage().StageArn(),
			WebAclArn:   jsii.String(webACLARN),
		})
	}
}

// functionURL gives the gateway a Function URL: no IAM auth (the gateway
// checks its own keys), streaming unless Buffered.
func functionURL(fn awslambda.Function, p Props) awslambda.FunctionUrl {
	mode := awslambda.InvokeMode_RESPONSE_STREAM
	if p.Buffered {
		mode = awslambda.InvokeMode_BUFFERED
	}
	return fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType:   awslambda.FunctionUrlAuthType_NONE,
		InvokeMode: mode,
	})
}
