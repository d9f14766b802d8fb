package stack

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

func intPtr(n int) *int { return &n }

// TestVariants synthesizes the stack with each configurable choice and checks
// what it changes. synth also runs cdk-nag on every variant.
func TestVariants(t *testing.T) {
	cases := []struct {
		name  string
		props func(*Props)
		check func(*testing.T, synthesized)
	}{
		{
			name:  "two NAT gateways",
			props: func(p *Props) { p.NATGateways = intPtr(2) },
			check: func(t *testing.T, s synthesized) {
				count(t, s, "AWS::EC2::NatGateway", 2)
			},
		},
		{
			name:  "no NAT: isolated subnets, endpoints only",
			props: func(p *Props) { p.NATGateways = intPtr(0) },
			check: func(t *testing.T, s synthesized) {
				count(t, s, "AWS::EC2::NatGateway", 0)
				count(t, s, "AWS::EC2::InternetGateway", 0)
				count(t, s, "AWS::EC2::VPCEndpoint", 3)
				for id, sub := range s.resources("AWS::EC2::Subnet") {
					if got := toJSON(props(sub)["Tags"]); !strings.Contains(got, `"Isolated"`) {
						t.Errorf("subnet %s tags %s, want Isolated", id, got)
					}
				}
			},
		},
		{
			name: "existing VPC",
			props: func(p *Props) {
				p.ExistingVPC = &ExistingVPC{
					ID:                   "vpc-0123456789abcdef0",
					AvailabilityZones:    []string{"us-east-1a", "us-east-1b"},
					PrivateSubnetIDs:     []string{"subnet-aaaa", "subnet-bbbb"},
					PrivateRouteTableIDs: []string{"rtb-aaaa", "rtb-bbbb"},
				}
			},
			check: func(t *testing.T, s synthesized) {
				for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::Subnet", "AWS::EC2::FlowLog"} {
					count(t, s, typ, 0)
				}
				subnets := `["subnet-aaaa","subnet-bbbb"]`
				for id, fn := range s.resources("AWS::Lambda::Function") {
					if got := toJSON(props(fn)["VpcConfig"].(obj)["SubnetIds"]); got != subnets {
						t.Errorf("%s subnets %s, want %s", id, got, subnets)
					}
				}
				if got := toJSON(props(s.one(t, "AWS::ElastiCache::ServerlessCache"))["SubnetIds"]); got != subnets {
					t.Errorf("cache subnets %s, want %s", got, subnets)
				}
				for _, e := range s.resources("AWS::EC2::VPCEndpoint") {
					p := props(e)
					if p["VpcId"] != "vpc-0123456789abcdef0" {
						t.Errorf("endpoint in VPC %v", p["VpcId"])
					}
					if p["VpcEndpointType"] == "Gateway" && toJSON(p["RouteTableIds"]) != `["rtb-aaaa","rtb-bbbb"]` {
						t.Errorf("DynamoDB endpoint route tables %s", toJSON(p["RouteTableIds"]))
					}
				}
			},
		},
		{
			name:  "Function URL streams",
			props: func(p *Props) { p.FunctionURL = true },
			check: func(t *testing.T, s synthesized) {
				u := props(s.one(t, "AWS::Lambda::Url"))
				if u["InvokeMode"] != "RESPONSE_STREAM" || u["AuthType"] != "NONE" {
					t.Errorf("Function URL %s, want RESPONSE_STREAM, auth NONE", toJSON(u))
				}
				gw := s.logicalID(t, "AWS::Lambda::Function", "Gateway")
				if got := toJSON(u["TargetFunctionArn"]); !strings.Contains(got, gw) {
					t.Errorf("Function URL targets %s, want the gateway", got)
				}
				if _, ok := s.json["Outputs"].(obj)[OutFunctionURL]; !ok {
					t.Errorf("no %s output", OutFunctionURL)
				}
			},
		},
		{
			name:  "buffered responses",
			props: func(p *Props) { p.Buffered, p.FunctionURL = true, true },
			check: func(t *testing.T, s synthesized) {
				for id, m := range s.resources("AWS::ApiGateway::Method") {
					if mode := props(m)["Integration"].(obj)["ResponseTransferMode"]; mode == "STREAM" {
						t.Errorf("%s streams", id)
					}
				}
				gw := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Gateway")])
				if env := gw["Environment"].(obj)["Variables"].(obj); env[EnvLambdaStream] != "false" {
					t.Errorf("%s = %v, want false", EnvLambdaStream, env[EnvLambdaStream])
				}
				if gw["Timeout"] != float64(29) {
					t.Errorf("gateway timeout %v, want 29", gw["Timeout"])
				}
				if mode := props(s.one(t, "AWS::Lambda::Url"))["InvokeMode"]; mode != "BUFFERED" {
					t.Errorf("Function URL mode %v", mode)
				}
			},
		},
		{
			name:  "destroy removes data and drops deletion protection",
			props: func(p *Props) { p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY },
			check: func(t *testing.T, s synthesized) {
				for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::ElastiCache::ServerlessCache", "AWS::Logs::LogGroup"} {
					for id, r := range s.resources(typ) {
						if r["DeletionPolicy"] != "Delete" {
							t.Errorf("%s DeletionPolicy %v, want Delete", id, r["DeletionPolicy"])
						}
					}
				}
				for id, r := range s.resources("AWS::DynamoDB::Table") {
					if props(r)["DeletionProtectionEnabled"] != false {
						t.Errorf("%s deletion protection on", id)
					}
				}
			},
		},
		{
			name: "retained without deletion protection",
			props: func(p *Props) {
				off := false
				p.DeletionProtection = &off
			},
			check: func(t *testing.T, s synthesized) {
				for id, r := range s.resources("AWS::DynamoDB::Table") {
					if props(r)["DeletionProtectionEnabled"] != false || r["DeletionPolicy"] != "Retain" {
						t.Errorf("%s: protection %v, policy %v", id, props(r)["DeletionProtectionEnabled"], r["DeletionPolicy"])
					}
				}
			},
		},
		{
			name: "stage, memory, timeout, retention, log level",
			props: func(p *Props) {
				p.StageName, p.GatewayMemoryMiB, p.AdminMemoryMiB = "live", 2048, 256
				p.GatewayTimeout, p.LogRetention, p.LogLevel = 10*time.Minute, awslogs.RetentionDays_ONE_WEEK, "debug"
			},
			check: func(t *testing.T, s synthesized) {
				for id, st := range s.resources("AWS::ApiGateway::Stage") {
					if props(st)["StageName"] != "live" {
						t.Errorf("%s stage %v", id, props(st)["StageName"])
					}
				}
				gw := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Gateway")])
				admin := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Admin")])
				if gw["MemorySize"] != float64(2048) || admin["MemorySize"] != float64(256) || gw["Timeout"] != float64(600) {
					t.Errorf("gateway %v MiB %v s, admin %v MiB", gw["MemorySize"], gw["Timeout"], admin["MemorySize"])
				}
				if lvl := gw["Environment"].(obj)["Variables"].(obj)[EnvLogLevel]; lvl != "debug" {
					t.Errorf("log level %v", lvl)
				}
				for id, m := range s.resources("AWS::ApiGateway::Method") {
					in := props(m)["Integration"].(obj)
					if in["ResponseTransferMode"] == "STREAM" && in["TimeoutInMillis"] != float64(600000) {
						t.Errorf("%s integration timeout %v, want 600000", id, in["TimeoutInMillis"])
					}
				}
				for id, lg := range s.resources("AWS::Logs::LogGroup") {
					if props(lg)["RetentionInDays"] != float64(7) {
						t.Errorf("%s retention %v", id, props(lg)["RetentionInDays"])
					}
				}
			},
		},
		{
			name: "Bedrock models: IDs, an inference profile, an ARN",
			props: func(p *Props) {
				p.BedrockModels = []string{
					"anthropic.claude-3-5-haiku-20241022-v1:0",
					"us.anthropic.claude-sonnet-4-20250514-v1:0",
					"arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
				}
			},
			check: func(t *testing.T, s synthesized) {
				var found bool
				for _, st := range s.statements(t, s.logicalID(t, "AWS::IAM::Role", "GatewayRole")) {
					if !strings.Contains(toJSON(st["Action"]), "bedrock:") {
						continue
					}
					found = true
					if got := toJSON(st["Action"]); got != `["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"]` {
						t.Errorf("Bedrock actions %s", got)
					}
					var got []string
					for _, r := range list(st["Resource"]) {
						got = append(got, render(r))
					}
					slices.Sort(got)
					want := []string{
						"arn:<AWS::Partition>:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
						"arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
						"arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
						"arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
					}
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("Bedrock resources\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
					}
				}
				if !found {
					t.Error("no Bedrock statement")
				}
			},
		},
		{
			name: "existing provider secret",
			props: func(p *Props) {
				p.ProviderSecretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:sluice-AbCdEf"
			},
			check: func(t *testing.T, s synthesized) {
				count(t, s, "AWS::SecretsManager::Secret", 0)
				gw := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Gateway")])
				if got := gw["Environment"].(obj)["Variables"].(obj)[EnvProviderSecretARN]; got != "arn:aws:secretsmanager:us-east-1:111122223333:secret:sluice-AbCdEf" {
					t.Errorf("secret ARN env %v", got)
				}
			},
		},
		{
			name:  "alarm topic",
			props: func(p *Props) { p.AlarmTopicARN = "arn:aws:sns:us-east-1:111122223333:ops" },
			check: func(t *testing.T, s synthesized) {
				for id, a := range s.resources("AWS::CloudWatch::Alarm") {
					if got := toJSON(props(a)["AlarmActions"]); got != `["arn:aws:sns:us-east-1:111122223333:ops"]` {
						t.Errorf("%s actions %s", id, got)
					}
				}
			},
		},
		{
			name:  "web ACL",
			props: func(p *Props) { p.WebACLARN = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/sluice/abc" },
			check: func(t *testing.T, s synthesized) {
				count(t, s, "AWS::WAFv2::WebACLAssociation", 2)
			},
		},
		{
			name:  "no endpoints, no flow log, no account role",
			props: func(p *Props) { p.NoVPCEndpoints, p.NoFlowLog, p.NoAPIGatewayAccountRole = true, true, true },
			check: func(t *testing.T, s synthesized) {
				count(t, s, "AWS::EC2::VPCEndpoint", 0)
				count(t, s, "AWS::EC2::FlowLog", 0)
				count(t, s, "AWS::ApiGateway::Account", 0)
			},
		},
		{
			name:  "vector search cluster",
			props: func(p *Props) { p.VectorSearchNodeType = "cache.r7g.large" },
			check: func(t *testing.T, s synthesized) {
				count(t, s, "AWS::ElastiCache::ServerlessCache", 1)
				rg := props(s.one(t, "AWS::ElastiCache::ReplicationGroup"))
				want := obj{"Engine": "valkey", "EngineVersion": VectorSearchEngineVersion, "CacheNodeType": "cache.r7g.large",
					"NumCacheClusters": float64(2), "AutomaticFailoverEnabled": true, "MultiAZEnabled": true,
					"TransitEncryptionEnabled": true, "TransitEncryptionMode": "required", "AtRestEncryptionEnabled": true,
					"Port": float64(vectorCachePort)}
				for k, v := range want {
					if rg[k] != v {
						t.Errorf("replication group %s = %v, want %v", k, rg[k], v)
					}
				}
				subnets := props(s.one(t, "AWS::ElastiCache::SubnetGroup"))
				if got := toJSON(subnets["SubnetIds"]); !strings.Contains(got, "privateSubnet") {
					t.Errorf("vector cache subnets %s, want the private subnets", got)
				}
				sg := s.logicalID(t, "AWS::EC2::SecurityGroup", "VectorCacheSecurityGroup")
				if got := toJSON(rg["SecurityGroupIds"]); !strings.Contains(got, sg) {
					t.Errorf("vector cache security groups %s, want %s", got, sg)
				}
				ingress := toJSON(s.resources("AWS::EC2::SecurityGroupIngress"))
				if !strings.Contains(ingress, `"FromPort":6390`) || !strings.Contains(ingress, s.logicalID(t, "AWS::EC2::SecurityGroup", "GatewaySecurityGroup")) {
					t.Errorf("no ingress from the gateway on %d: %s", vectorCachePort, ingress)
				}
				gw := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Gateway")])
				env := gw["Environment"].(obj)["Variables"].(obj)
				if got := toJSON(env[EnvVectorRedisURL]); !strings.Contains(got, `"rediss://"`) || !strings.Contains(got, "PrimaryEndPoint.Address") {
					t.Errorf("%s = %s, want rediss:// and the cluster's primary endpoint", EnvVectorRedisURL, got)
				}
				if _, ok := env[EnvRedisURL]; !ok {
					t.Errorf("the gateway lost %s", EnvRedisURL)
				}
			},
		},
		{
			name:  "stack name names the cache",
			props: func(p *Props) { p.StackName = jsii.String("Sluice-Staging") },
			check: func(t *testing.T, s synthesized) {
				if got := props(s.one(t, "AWS::ElastiCache::ServerlessCache"))["ServerlessCacheName"]; got != "sluice-staging-cache" {
					t.Errorf("cache name %v", got)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testProps(t)
			c.props(&p)
			c.check(t, synth(t, p))
		})
	}
}

func count(t *testing.T, s synthesized, typ string, n int) {
	t.Helper()
	if got := len(s.resources(typ)); got != n {
		t.Errorf("%d %s, want %d", got, typ, n)
	}
}
