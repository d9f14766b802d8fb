package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Check runs cdk-nag's AwsSolutions rules over scope when it is synthesized:
// an unsuppressed finding is an error annotation, and `cdk synth` fails.
func Check(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Suppression is an AwsSolutions finding the stack accepts, with its reason.
type Suppression struct {
	// Construct is the ID of the stack's child the suppression covers (with
	// its children).
	Construct string
	Rule      string
	// AppliesTo narrows IAM4/IAM5 to findings matching these regular
	// expressions (cdk-nag's "Resource::..." or "Policy::..." forms).
	AppliesTo []string
	Reason    string
}

// Reasons repeated across constructs.
const (
	reasonGatewayAuth = "The gateway authenticates clients itself with Sluice API keys (Authorization: Bearer, x-api-key or api-key) " +
		"before reading the body; OpenAI and Anthropic SDKs send those headers and can sign neither SigV4 nor Cognito tokens. " +
		"Plain HTTP routes need a key when a policy on the route asks for one, as in Gateway API."
	reasonAdminAuth = "The admin API uses IAM authorization (SigV4, execute-api:Invoke): the sluice CLI signs with the standard AWS credential chain."
	reasonNoWAF     = "WAF is opt-in (context webAclArn): a web ACL has a monthly cost. The gateway checks a key on every AI request, " +
		"and API Gateway and Lambda concurrency throttle."
)

// Suppressions lists the AwsSolutions findings the stack built from p
// accepts, each with its reason. README.md repeats them.
func Suppressions(p Props) []Suppression {
	s := []Suppression{
		{Construct: "GatewayRole", Rule: "AwsSolutions-IAM5", AppliesTo: []string{`^Resource::\*$`}, Reason: reasonVPCAccess},
		{Construct: "AdminRole", Rule: "AwsSolutions-IAM5", AppliesTo: []string{`^Resource::\*$`}, Reason: reasonVPCAccess + " " + reasonMetricsRead},
		{Construct: "GatewayApi", Rule: "AwsSolutions-APIG2", Reason: "A Lambda proxy to the gateway, which parses each OpenAI or Anthropic " +
			"request itself and must answer a bad one in the client's own error format; API Gateway models would duplicate that and answer differently."},
		{Construct: "GatewayApi", Rule: "AwsSolutions-APIG4", Reason: reasonGatewayAuth},
		{Construct: "GatewayApi", Rule: "AwsSolutions-COG4", Reason: reasonGatewayAuth},
		{Construct: "AdminApi", Rule: "AwsSolutions-APIG2", Reason: "A Lambda proxy to the admin API, which validates manifests itself " +
			"and reports every problem with its file, line and field."},
		{Construct: "AdminApi", Rule: "AwsSolutions-COG4", Reason: reasonAdminAuth},
	}
	if p.WebACLARN == "" {
		s = append(s,
			Suppression{Construct: "GatewayApi", Rule: "AwsSolutions-APIG3", Reason: reasonNoWAF},
			Suppression{Construct: "AdminApi", Rule: "AwsSolutions-APIG3", Reason: reasonNoWAF})
	}
	if p.ProviderSecretARN == "" {
		s = append(s, Suppression{Construct: "ProviderSecret", Rule: "AwsSolutions-SMG4", Reason: "The secret holds API keys that " +
			"OpenAI, Anthropic, Gemini and other providers issue; only their consoles can rotate them, not a rotation Lambda. " +
			"Rotate there, then put-secret-value; gateways read the new value on their next cold start."})
	}
	if !p.NoAPIGatewayAccountRole {
		s = append(s, Suppression{Construct: "ApiGatewayCloudWatchRole", Rule: "AwsSolutions-IAM4",
			AppliesTo: []string{`^Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs$`},
			Reason: "AWS's managed policy for API Gateway's region-wide logging role: API Gateway creates and names the " +
				"execution log groups of every API in the region itself, so no inline policy can list them."})
	}
	if hasInferenceProfile(p.BedrockModels) {
		s = append(s, Suppression{Construct: "GatewayRole", Rule: "AwsSolutions-IAM5",
			AppliesTo: []string{`^Resource::arn:<AWS::Partition>:bedrock:\*::foundation-model/[^*]+$`},
			Reason: "A cross-region inference profile sends each request to its model in any region of the profile's " +
				"geography, and the caller must be allowed to invoke the model there: the model is named, only the region is open."})
	}
	if p.VectorSearchNodeType != "" {
		s = append(s, Suppression{Construct: "VectorCache", Rule: "AwsSolutions-AEC6",
			Reason: "The vector search cluster is treated as the serverless cache is: in private subnets, reachable only from the " +
				"gateway's security group, TLS required and encrypted at rest. It holds question vectors and cache keys, no answers; " +
				"an AUTH token would have to be fetched by every gateway at cold start for no gain in who can connect."})
	}
	if p.ExistingVPC == nil && p.NoFlowLog {
		s = append(s, Suppression{Construct: "Vpc", Rule: "AwsSolutions-VPC7",
			Reason: "The operator turned the VPC flow log off (context vpcFlowLog=false)."})
	}
	return s
}

// reasonMetricsRead explains the admin role's second action on "*".
const reasonMetricsRead = "cloudwatch:GetMetricData, which sluice top reads the gateway's metrics with, " +
	"takes no resource ARN and no namespace condition."

const reasonVPCAccess = "Lambda attaches the function to the VPC through network interfaces it creates at run time: " +
	"their IDs are unknown at deploy time and ec2:Describe* take no resource. These are the actions of " +
	"AWSLambdaVPCAccessExecutionRole, inline."

// suppress records p's suppressions on s's constructs.
func suppress(s awscdk.Stack, p Props) {
	for _, sup := range Suppressions(p) {
		target := s.Node().TryFindChild(jsii.String(sup.Construct))
		if target == nil {
			panic("stack: suppression for missing construct " + sup.Construct)
		}
		ns := &cdknag.NagPackSuppression{Id: jsii.String(sup.Rule), Reason: jsii.String(sup.Reason)}
		if len(sup.AppliesTo) > 0 {
			applies := make([]any, 0, len(sup.AppliesTo))
			for _, re := range sup.AppliesTo {
				applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String("/" + re + "/")})
			}
			ns.AppliesTo = &applies
		}
		cdknag.NagSuppressions_AddResourceSuppressions(target, &[]*cdknag.NagPackSuppression{ns}, jsii.Bool(true))
	}
}

func hasInferenceProfile(models []string) bool {
	for _, m := range models {
		if len(bedrockResources([]string{m})) > 1 {
			return true
		}
	}
	return false
}
