// Package stack defines Sluice's AWS deployment as one CDK stack: the gateway
// and admin Lambdas behind API Gateway REST APIs (the gateway's integration
// streams), the DynamoDB routes and ledger tables, ElastiCache Serverless
// (Valkey) in a VPC with the Lambdas, the provider credentials secret, logs,
// a dashboard and alarms.
//
// The stack is environment-agnostic (no account or region is fixed at
// synthesis), so `cdk synth` and the tests run with no AWS credentials.
package stack

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Defaults of Props' zero fields.
const (
	DefaultStageName          = "prod"
	DefaultGatewayMemoryMiB   = 1024
	DefaultAdminMemoryMiB     = 512
	DefaultGatewayTimeout     = 15 * time.Minute
	DefaultAdminTimeout       = 30 * time.Second
	DefaultNATGateways        = 1
	DefaultLogLevel           = "info"
	DefaultLogRetention       = awslogs.RetentionDays_ONE_MONTH
	DefaultValkeyMajorVersion = "8"

	// maxStreamDuration is API Gateway's limit on one streamed response,
	// and so on the streaming integration's timeout.
	maxStreamDuration = 15 * time.Minute
	// maxBufferedIntegration is API Gateway's default integration timeout
	// for buffered responses (raising it takes a quota increase).
	maxBufferedIntegration = 29 * time.Second
	// agnosticAZs is the number of availability zones an
	// environment-agnostic stack can use.
	agnosticAZs = 2
	// maxCacheName is ElastiCache's limit on a cache's name.
	maxCacheName = 40
)

// Props configures the stack. Every zero field means the documented default,
// so Props{GatewayAsset: a, AdminAsset: b} is a complete configuration.
type Props struct {
	awscdk.StackProps

	// GatewayAsset and AdminAsset are the Lambda code: a zip holding a
	// linux/arm64 executable named bootstrap (what `make build` writes to
	// build/gateway.zip and build/admin.zip) or a directory holding it.
	// Required.
	GatewayAsset string
	AdminAsset   string

	// StageName is the API Gateway stage of both APIs; it is the first path
	// segment of GatewayUrl and AdminUrl. Default "prod".
	StageName string
	// GatewayMemoryMiB and AdminMemoryMiB size the functions (Lambda gives
	// CPU in proportion). Defaults 1024 and 512.
	GatewayMemoryMiB int
	AdminMemoryMiB   int
	// GatewayTimeout bounds one gateway invocation, and so the longest
	// streamed completion. Default and maximum 15 minutes, API Gateway's
	// limit for a streamed response (29 seconds when Buffered is set).
	GatewayTimeout time.Duration

	// Buffered turns response streaming off: the REST integration and the
	// Function URL buffer whole responses and SLUICE_LAMBDA_STREAM is
	// "false". Default false: the gateway streams.
	Buffered bool
	// FunctionURL adds a Lambda Function URL to the gateway (auth NONE, the
	// gateway checks its own keys; RESPONSE_STREAM invoke mode unless
	// Buffered). Default false.
	FunctionURL bool

	// NATGateways is how many NAT gateways the created VPC gets (one per AZ
	// at most, two AZs). Zero means no internet egress at all: the Lambdas'
	// subnets are isolated and only AWS services behind VPC endpoints
	// (DynamoDB, Secrets Manager, Bedrock) are reachable. Nil means 1.
	// Ignored with ExistingVPC.
	NATGateways *int
	// ExistingVPC, when set, places the Lambdas and the cache in that VPC's
	// private subnets instead of creating a VPC. They must reach the
	// internet (NAT) for providers outside AWS.
	ExistingVPC *ExistingVPC
	// NoVPCEndpoints skips the DynamoDB gateway endpoint and the Secrets
	// Manager and Bedrock Runtime interface endpoints (their traffic then
	// goes through NAT). Default false: endpoints are created.
	NoVPCEndpoints bool
	// NoFlowLog skips the created VPC's flow log. Default false.
	NoFlowLog bool

	// RemovalPolicy applies to the tables, the secret, the cache and the
	// log groups: awscdk.RemovalPolicy_RETAIN (default) or
	// awscdk.RemovalPolicy_DESTROY.
	RemovalPolicy awscdk.RemovalPolicy
	// DeletionProtection turns on the tables' deletion protection. Nil
	// means true, unless RemovalPolicy is DESTROY.
	DeletionProtection *bool

	// LogRetention is kept for every log group. Default one month.
	LogRetention awslogs.RetentionDays
	// LogLevel is the gateway's SLUICE_LOG_LEVEL: debug, info, warn or
	// error. Default "info".
	LogLevel string

	// BedrockModels are the Bedrock models the gateway may invoke: model
	// IDs ("anthropic.claude-3-5-haiku-20241022-v1:0"), cross-region
	// inference profile IDs ("us.anthropic..."), or full ARNs. Empty means
	// no Bedrock permission at all.
	BedrockModels []string
	// ProviderSecretARN is the complete ARN of an existing Secrets Manager
	// secret holding the provider credentials. Empty means the stack
	// creates one (holding "{}" until you put the credentials in it).
	ProviderSecretARN string
	// AlarmTopicARN is an SNS topic the alarms notify. Empty means the
	// alarms only change state (visible on the dashboard).
	AlarmTopicARN string
	// WebACLARN is a regional AWS WAFv2 web ACL to associate with both API
	// stages. Empty means none.
	WebACLARN string
	// NoAPIGatewayAccountRole skips setting the region-wide API Gateway
	// account setting (the CloudWatch Logs role that execution logging
	// needs). Set it when the account already has one. Default false.
	NoAPIGatewayAccountRole bool
	// CacheName names the ElastiCache Serverless cache (lowercase letters,
	// digits, single hyphens; at most 40). Default: the stack name,
	// lowercased, plus "-cache".
	CacheName string
	// OTelCollectorLayer is the ARN of an OpenTelemetry collector Lambda
	// layer (the ADOT collector) for the gateway: when set, the stack adds
	// the layer and points the gateway's OTLP export at it on localhost,
	// so traces and GenAI metrics leave without delaying the client.
	// Default: none, no OpenTelemetry.
	OTelCollectorLayer string
	// VectorSearchNodeType, when set, adds a node-based ElastiCache for
	// Valkey 8.2 cluster of that node type ("cache.r7g.large"), whose
	// vector search holds the semantic cache's index; the gateway gets its
	// address as SLUICE_VECTOR_REDIS_URL. Empty (the default): the index
	// lives in the serverless cache as LSH buckets.
	VectorSearchNodeType string
}

// ExistingVPC names a VPC the stack does not own. ElastiCache Serverless needs
// subnets in at least two availability zones.
type ExistingVPC struct {
	ID string
	// AvailabilityZones of the subnets, in the same order (one per subnet,
	// or one per group of subnets, as awsec2.Vpc_FromVpcAttributes takes).
	AvailabilityZones []string
	// PrivateSubnetIDs are subnets with a route to a NAT gateway.
	PrivateSubnetIDs []string
	// PrivateRouteTableIDs are the subnets' route tables, one per subnet;
	// required for the DynamoDB gateway endpoint unless NoVPCEndpoints.
	PrivateRouteTableIDs []string
}

var (
	// cacheNameRE: ElastiCache names start with a letter and have no
	// double or trailing hyphen.
	cacheNameRE = regexp.MustCompile(`^[a-z](-?[a-z0-9])*$`)
	stageNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)
	nodeTypeRE  = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
)

// withDefaults returns p with its zero fields filled in.
func (p Props) withDefaults(stackName string) Props {
	if p.StageName == "" {
		p.StageName = DefaultStageName
	}
	if p.GatewayMemoryMiB == 0 {
		p.GatewayMemoryMiB = DefaultGatewayMemoryMiB
	}
	if p.AdminMemoryMiB == 0 {
		p.AdminMemoryMiB = DefaultAdminMemoryMiB
	}
	if p.GatewayTimeout == 0 {
		p.GatewayTimeout = DefaultGatewayTimeout
		if p.Buffered {
			p.GatewayTimeout = maxBufferedIntegration
		}
	}
	if p.NATGateways == nil {
		n := DefaultNATGateways
		p.NATGateways = &n
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if p.DeletionProtection == nil {
		on := p.RemovalPolicy != awscdk.RemovalPolicy_DESTROY
		p.DeletionProtection = &on
	}
	if p.LogRetention == "" {
		p.LogRetention = DefaultLogRetention
	}
	if p.LogLevel == "" {
		p.LogLevel = DefaultLogLevel
	}
	if p.CacheName == "" {
		p.CacheName = defaultCacheName(stackName)
	}
	return p
}

// defaultCacheName derives a valid ElastiCache name from a stack name: its
// lowercase letters and digits, runs of anything else as one hyphen.
func defaultCacheName(stackName string) string {
	words := strings.FieldsFunc(strings.ToLower(stackName), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	base := strings.Join(words, "-")
	if base == "" || base[0] < 'a' {
		base = strings.TrimSuffix("sluice-"+base, "-")
	}
	const suffix = "-cache"
	if len(base) > maxCacheName-len(suffix) {
		base = strings.TrimRight(base[:maxCacheName-len(suffix)], "-")
	}
	return base + suffix
}

// validate reports every problem in p (after withDefaults) at once.
func (p Props) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if p.GatewayAsset == "" {
		bad("GatewayAsset", "required (the gateway's bootstrap zip or directory)")
	}
	if p.AdminAsset == "" {
		bad("AdminAsset", "required (the admin's bootstrap zip or directory)")
	}
	if !stageNameRE.MatchString(p.StageName) {
		bad("StageName", "%q: use letters, digits and underscores", p.StageName)
	}
	for _, f := range []struct {
		name string
		mib  int
	}{{"GatewayMemoryMiB", p.GatewayMemoryMiB}, {"AdminMemoryMiB", p.AdminMemoryMiB}} {
		if f.mib < 128 || f.mib > 10240 {
			bad(f.name, "%d: Lambda takes 128 to 10240 MiB", f.mib)
		}
	}
	limit := maxStreamDuration
	if p.Buffered {
		limit = maxBufferedIntegration
	}
	if p.GatewayTimeout < time.Second || p.GatewayTimeout > limit {
		bad("GatewayTimeout", "%s: must be between 1s and %s", p.GatewayTimeout, limit)
	}
	if n := *p.NATGateways; p.ExistingVPC == nil && (n < 0 || n > agnosticAZs) {
		bad("NATGateways", "%d: must be between 0 and %d (one per availability zone)", n, agnosticAZs)
	}
	if v := p.ExistingVPC; v != nil {
		errs = append(errs, v.validate(!p.NoVPCEndpoints)...)
	}
	switch p.RemovalPolicy {
	case awscdk.RemovalPolicy_RETAIN, awscdk.RemovalPolicy_DESTROY:
	default:
		bad("RemovalPolicy", "%q: use RETAIN or DESTROY", p.RemovalPolicy)
	}
	switch p.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LogLevel", "%q: use debug, info, warn or error", p.LogLevel)
	}
	if l := p.OTelCollectorLayer; l != "" && (!strings.HasPrefix(l, "arn:") || !strings.Contains(l, ":layer:")) {
		bad("OTelCollectorLayer", "%q: the ARN of a Lambda layer version (arn:...:layer:NAME:VERSION)", l)
	}
	if !cacheNameRE.MatchString(p.CacheName) || len(p.CacheName) > maxCacheName {
		bad("CacheName", "%q: lowercase letters, digits and single hyphens, starting with a letter, at most %d", p.CacheName, maxCacheName)
	}
	if t := p.VectorSearchNodeType; t != "" && !nodeTypeRE.MatchString(t) {
		bad("VectorSearchNodeType", "%q: name an ElastiCache node type, such as cache.r7g.large", t)
	}
	for _, m := range p.BedrockModels {
		if strings.TrimSpace(m) == "" || strings.Contains(m, "*") {
			bad("BedrockModels", "%q: name a model, profile or ARN (no wildcards)", m)
		}
	}
	for _, f := range []struct{ name, arn string }{
		{"ProviderSecretARN", p.ProviderSecretARN},
		{"AlarmTopicARN", p.AlarmTopicARN},
		{"WebACLARN", p.WebACLARN},
	} {
		if f.arn != "" && !strings.HasPrefix(f.arn, "arn:") {
			bad(f.name, "%q is not an ARN", f.arn)
		}
	}
	return errors.Join(errs...)
}

func (v *ExistingVPC) validate(endpoints bool) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("ExistingVPC: "+format, args...))
	}
	if v.ID == "" {
		bad("ID required")
	}
	if len(v.PrivateSubnetIDs) < 2 {
		bad("at least two private subnets (in two availability zones) are needed, got %d", len(v.PrivateSubnetIDs))
	}
	if n := len(v.AvailabilityZones); n == 0 || len(v.PrivateSubnetIDs)%n != 0 {
		bad("%d availability zones for %d subnets: give one zone per subnet, in the same order", n, len(v.PrivateSubnetIDs))
	}
	if endpoints && len(v.PrivateRouteTableIDs) != len(v.PrivateSubnetIDs) {
		bad("%d route tables for %d subnets: the DynamoDB gateway endpoint needs one per subnet (or turn VPC endpoints off)",
			len(v.PrivateRouteTableIDs), len(v.PrivateSubnetIDs))
	}
	return errs
}
