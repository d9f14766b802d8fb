package stack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// DefaultStackName is the stack's name (and construct ID) unless the
// stackName context value says otherwise.
const DefaultStackName = "Sluice"

// Context keys: `cdk synth -c key=value` or the "context" object of cdk.json.
// Values given with -c are strings; in cdk.json they may also be JSON
// numbers, booleans or (for lists) arrays. README.md documents each.
const (
	CtxStackName               = "stackName"
	CtxStageName               = "stageName"
	CtxGatewayAsset            = "gatewayAsset"
	CtxAdminAsset              = "adminAsset"
	CtxMemorySize              = "memorySize"
	CtxAdminMemorySize         = "adminMemorySize"
	CtxGatewayTimeoutSeconds   = "gatewayTimeoutSeconds"
	CtxResponseStreaming       = "responseStreaming"
	CtxFunctionURL             = "functionUrl"
	CtxNATGateways             = "natGateways"
	CtxVPCID                   = "vpcId"
	CtxVPCAvailabilityZones    = "vpcAvailabilityZones"
	CtxVPCPrivateSubnetIDs     = "vpcPrivateSubnetIds"
	CtxVPCPrivateRouteTableIDs = "vpcPrivateRouteTableIds"
	CtxVPCEndpoints            = "vpcEndpoints"
	CtxVPCFlowLog              = "vpcFlowLog"
	CtxRemovalPolicy           = "removalPolicy"
	CtxDeletionProtection      = "deletionProtection"
	CtxLogRetentionDays        = "logRetentionDays"
	CtxLogLevel                = "logLevel"
	CtxBedrockModels           = "bedrockModels"
	CtxProviderSecretARN       = "providerSecretArn"
	CtxAlarmTopicARN           = "alarmTopicArn"
	CtxWebACLARN               = "webAclArn"
	CtxAPIGatewayAccountRole   = "apiGatewayAccountRole"
	CtxCacheName               = "cacheName"
	CtxOTelCollectorLayer      = "otelCollectorLayer"
	CtxVectorSearchNodeType    = "vectorSearchNodeType"
)

// PropsFromContext reads Props from CDK context values; get returns a key's
// value or nil (main passes app.Node().TryGetContext). Keys not given keep
// Props' zero values, which mean the documented defaults; StackName is
// always set. Every malformed value is reported.
func PropsFromContext(get func(key string) any) (Props, error) {
	c := ctxReader{get: get}
	var p Props

	p.StackName = jsii.String(c.str(CtxStackName, DefaultStackName))
	p.StageName = c.str(CtxStageName, "")
	p.GatewayAsset = c.str(CtxGatewayAsset, "")
	p.AdminAsset = c.str(CtxAdminAsset, "")
	p.GatewayMemoryMiB = c.integer(CtxMemorySize, 0)
	p.AdminMemoryMiB = c.integer(CtxAdminMemorySize, 0)
	p.GatewayTimeout = time.Duration(c.integer(CtxGatewayTimeoutSeconds, 0)) * time.Second
	p.Buffered = !c.boolean(CtxResponseStreaming, true)
	p.FunctionURL = c.boolean(CtxFunctionURL, false)
	if c.has(CtxNATGateways) {
		n := c.integer(CtxNATGateways, DefaultNATGateways)
		p.NATGateways = &n
	}
	if id := c.str(CtxVPCID, ""); id != "" {
		p.ExistingVPC = &ExistingVPC{
			ID:                   id,
			AvailabilityZones:    c.list(CtxVPCAvailabilityZones),
			PrivateSubnetIDs:     c.list(CtxVPCPrivateSubnetIDs),
			PrivateRouteTableIDs: c.list(CtxVPCPrivateRouteTableIDs),
		}
	}
	p.NoVPCEndpoints = !c.boolean(CtxVPCEndpoints, true)
	p.NoFlowLog = !c.boolean(CtxVPCFlowLog, true)
	switch v := strings.ToLower(c.str(CtxRemovalPolicy, "")); v {
	case "":
	case "retain":
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	case "destroy":
		p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
	default:
		c.fail(CtxRemovalPolicy, "%q: use retain or destroy", v)
	}
	if c.has(CtxDeletionProtection) {
		on := c.boolean(CtxDeletionProtection, true)
		p.DeletionProtection = &on
	}
	if days := c.integer(CtxLogRetentionDays, 0); days != 0 {
		p.LogRetention = retentionDays(&c, days)
	}
	p.LogLevel = c.str(CtxLogLevel, "")
	p.BedrockModels = c.list(CtxBedrockModels)
	p.ProviderSecretARN = c.str(CtxProviderSecretARN, "")
	p.AlarmTopicARN = c.str(CtxAlarmTopicARN, "")
	p.WebACLARN = c.str(CtxWebACLARN, "")
	p.NoAPIGatewayAccountRole = !c.boolean(CtxAPIGatewayAccountRole, true)
	p.CacheName = c.str(CtxCacheName, "")
	p.OTelCollectorLayer = c.str(CtxOTelCollectorLayer, "")
	p.VectorSearchNodeType = c.str(CtxVectorSearchNodeType, "")
	return p, errors.Join(c.errs...)
}

// retentionDays maps a number of days to the CloudWatch Logs setting.
func retentionDays(c *ctxReader, days int) awslogs.RetentionDays {
	if r, ok := retentionByDays()[days]; ok {
		return r
	}
	c.fail(CtxLogRetentionDays, "%d: CloudWatch Logs keeps 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, "+
		"731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days", days)
	return ""
}

func retentionByDays() map[int]awslogs.RetentionDays {
	return map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
		1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}
}

// ctxReader converts context values, collecting errors instead of stopping
// at the first.
type ctxReader struct {
	get  func(string) any
	errs []error
}

func (c *ctxReader) fail(key, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("context %s: "+format, append([]any{key}, args...)...))
}

func (c *ctxReader) has(key string) bool { return c.get(key) != nil }

func (c *ctxReader) str(key, def string) string {
	switch v := c.get(key).(type) {
	case nil:
		return def
	case string:
		return strings.TrimSpace(v)
	case *string:
		if v == nil {
			return def
		}
		return strings.TrimSpace(*v)
	default:
		c.fail(key, "want a string, got %v", v)
		return def
	}
}

func (c *ctxReader) boolean(key string, def bool) bool {
	switch v := c.get(key).(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			c.fail(key, "%q: want true or false", v)
			return def
		}
		return b
	default:
		c.fail(key, "want true or false, got %v", v)
		return def
	}
}

func (c *ctxReader) integer(key string, def int) int {
	switch v := c.get(key).(type) {
	case nil:
		return def
	case float64:
		if v != float64(int(v)) {
			c.fail(key, "%v: want a whole number", v)
			return def
		}
		return int(v)
	case int:
		return v
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			c.fail(key, "%q: want a whole number", v)
			return def
		}
		return n
	default:
		c.fail(key, "want a whole number, got %v", v)
		return def
	}
}

// list takes a comma-separated string or a JSON array of strings.
func (c *ctxReader) list(key string) []string {
	var items []string
	switch v := c.get(key).(type) {
	case nil:
		return nil
	case string:
		items = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				c.fail(key, "want strings, got %v", e)
				return nil
			}
			items = append(items, s)
		}
	default:
		c.fail(key, "want a comma-separated list, got %v", v)
		return nil
	}
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
