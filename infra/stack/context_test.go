package stack

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// ctx is a context lookup over a map, as app.Node().TryGetContext would be.
func ctx(m map[string]any) func(string) any {
	return func(k string) any { return m[k] }
}

func TestPropsFromContextDefaults(t *testing.T) {
	p, err := PropsFromContext(ctx(nil))
	if err != nil {
		t.Fatal(err)
	}
	if *p.StackName != DefaultStackName {
		t.Errorf("StackName = %q", *p.StackName)
	}
	p.StackName = nil
	if !reflect.DeepEqual(p, Props{}) {
		t.Errorf("no context gave %+v, want zero Props (the documented defaults)", p)
	}
}

func TestPropsFromContext(t *testing.T) {
	cases := []struct {
		name  string
		ctx   map[string]any
		check func(*testing.T, Props)
	}{
		{
			name: "strings, as -c key=value gives them",
			ctx: map[string]any{
				CtxStackName: "SluiceDev", CtxStageName: "dev", CtxGatewayAsset: "/tmp/g.zip", CtxAdminAsset: "/tmp/a.zip",
				CtxMemorySize: "2048", CtxAdminMemorySize: "256", CtxGatewayTimeoutSeconds: "600",
				CtxResponseStreaming: "false", CtxFunctionURL: "true", CtxNATGateways: "2",
				CtxVPCEndpoints: "false", CtxVPCFlowLog: "false", CtxRemovalPolicy: "destroy", CtxDeletionProtection: "true",
				CtxLogRetentionDays: "7", CtxLogLevel: "debug",
				CtxBedrockModels:     "anthropic.claude-3-5-haiku-20241022-v1:0, us.amazon.nova-pro-v1:0",
				CtxProviderSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:s", CtxAlarmTopicARN: "arn:aws:sns:us-east-1:1:t",
				CtxWebACLARN: "arn:aws:wafv2:us-east-1:1:regional/webacl/w/1", CtxAPIGatewayAccountRole: "false", CtxCacheName: "dev-cache",
				CtxVectorSearchNodeType: "cache.r7g.large",
			},
			check: func(t *testing.T, p Props) {
				want := Props{
					GatewayAsset: "/tmp/g.zip", AdminAsset: "/tmp/a.zip", StageName: "dev",
					GatewayMemoryMiB: 2048, AdminMemoryMiB: 256, GatewayTimeout: 10 * time.Minute,
					Buffered: true, FunctionURL: true, NATGateways: intPtr(2), NoVPCEndpoints: true, NoFlowLog: true,
					RemovalPolicy: awscdk.RemovalPolicy_DESTROY, DeletionProtection: boolPtr(true),
					LogRetention: awslogs.RetentionDays_ONE_WEEK, LogLevel: "debug",
					BedrockModels:     []string{"anthropic.claude-3-5-haiku-20241022-v1:0", "us.amazon.nova-pro-v1:0"},
					ProviderSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:s", AlarmTopicARN: "arn:aws:sns:us-east-1:1:t",
					WebACLARN: "arn:aws:wafv2:us-east-1:1:regional/webacl/w/1", NoAPIGatewayAccountRole: true, CacheName: "dev-cache",
					VectorSearchNodeType: "cache.r7g.large",
				}
				if *p.StackName != "SluiceDev" {
					t.Errorf("StackName = %q", *p.StackName)
				}
				p.StackName = nil
				if !reflect.DeepEqual(p, want) {
					t.Errorf("got  %+v\nwant %+v", p, want)
				}
			},
		},
		{
			name: "JSON values, as cdk.json gives them",
			ctx: map[string]any{
				CtxMemorySize: float64(3008), CtxFunctionURL: true, CtxNATGateways: float64(0),
				CtxBedrockModels: []any{"a.b", " c.d "}, CtxDeletionProtection: false, CtxRemovalPolicy: "RETAIN",
			},
			check: func(t *testing.T, p Props) {
				if p.GatewayMemoryMiB != 3008 || !p.FunctionURL || *p.NATGateways != 0 || *p.DeletionProtection {
					t.Errorf("got %+v", p)
				}
				if !reflect.DeepEqual(p.BedrockModels, []string{"a.b", "c.d"}) || p.RemovalPolicy != awscdk.RemovalPolicy_RETAIN {
					t.Errorf("models %q, removal %q", p.BedrockModels, p.RemovalPolicy)
				}
			},
		},
		{
			name: "existing VPC",
			ctx: map[string]any{
				CtxVPCID: "vpc-1", CtxVPCAvailabilityZones: "us-east-1a,us-east-1b",
				CtxVPCPrivateSubnetIDs: "subnet-1,subnet-2", CtxVPCPrivateRouteTableIDs: []any{"rtb-1", "rtb-2"},
			},
			check: func(t *testing.T, p Props) {
				want := &ExistingVPC{
					ID: "vpc-1", AvailabilityZones: []string{"us-east-1a", "us-east-1b"},
					PrivateSubnetIDs: []string{"subnet-1", "subnet-2"}, PrivateRouteTableIDs: []string{"rtb-1", "rtb-2"},
				}
				if !reflect.DeepEqual(p.ExistingVPC, want) {
					t.Errorf("ExistingVPC = %+v, want %+v", p.ExistingVPC, want)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := PropsFromContext(ctx(c.ctx))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, p)
		})
	}
}

func TestPropsFromContextErrors(t *testing.T) {
	_, err := PropsFromContext(ctx(map[string]any{
		CtxMemorySize:        "lots",
		CtxFunctionURL:       "yes please",
		CtxNATGateways:       float64(1.5),
		CtxRemovalPolicy:     "snapshot",
		CtxLogRetentionDays:  "10",
		CtxBedrockModels:     []any{"a.b", 7.0},
		CtxStageName:         42.0,
		CtxResponseStreaming: []any{},
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{CtxMemorySize, CtxFunctionURL, CtxNATGateways, CtxRemovalPolicy, CtxLogRetentionDays,
		CtxBedrockModels, CtxStageName, CtxResponseStreaming} {
		if !strings.Contains(err.Error(), "context "+key+":") {
			t.Errorf("error lacks %s:\n%v", key, err)
		}
	}
}

func boolPtr(b bool) *bool { return &b }
