package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

type obj = map[string]any
type arr = []any

func like(m obj) assertions.Matcher { return assertions.Match_ObjectLike(&m) }
func arrayWith(items ...any) assertions.Matcher {
	return assertions.Match_ArrayWith(&items)
}
func re(pattern string) assertions.Matcher {
	return assertions.Match_StringLikeRegexp(jsii.String(pattern))
}

// TestDefaultStack synthesizes the stack with default Props once and checks
// its resources and their key properties.
func TestDefaultStack(t *testing.T) {
	s := synth(t, testProps(t))

	counts := []struct {
		typ string
		n   float64
	}{
		{"AWS::Lambda::Function", 2},
		{"AWS::ApiGateway::RestApi", 2},
		{"AWS::ApiGateway::Stage", 2},
		{"AWS::DynamoDB::Table", 2},
		{"AWS::ElastiCache::ServerlessCache", 1},
		{"AWS::SecretsManager::Secret", 1},
		{"AWS::EC2::VPC", 1},
		{"AWS::EC2::NatGateway", 1},
		{"AWS::EC2::VPCEndpoint", 3},
		{"AWS::EC2::FlowLog", 1},
		{"AWS::CloudWatch::Dashboard", 1},
		{"AWS::CloudWatch::Alarm", 8},
		{"AWS::ApiGateway::Account", 1},
		{"AWS::Lambda::Url", 0},
		{"AWS::WAFv2::WebACLAssociation", 0},
	}
	for _, c := range counts {
		t.Run("count "+c.typ, func(t *testing.T) {
			must(t, c.typ, func() { s.template.ResourceCountIs(jsii.String(c.typ), jsii.Number(c.n)) })
		})
	}

	properties := []struct {
		name  string
		typ   string
		props obj
	}{
		{"gateway function is arm64 provided.al2023 with a 15 minute timeout", "AWS::Lambda::Function", obj{
			"Description":   re("^Sluice gateway"),
			"Architectures": arr{"arm64"},
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"MemorySize":    1024,
			"Timeout":       900,
			"VpcConfig":     like(obj{"SubnetIds": assertions.Match_AnyValue()}),
		}},
		{"admin function is arm64 provided.al2023", "AWS::Lambda::Function", obj{
			"Description":   re("^Sluice admin"),
			"Architectures": arr{"arm64"},
			"Runtime":       "provided.al2023",
			"MemorySize":    512,
			"Timeout":       30,
		}},
		{"gateway integration streams for up to 15 minutes", "AWS::ApiGateway::Method", obj{
			"HttpMethod":        "ANY",
			"AuthorizationType": "NONE",
			"Integration": like(obj{
				"Type":                 "AWS_PROXY",
				"ResponseTransferMode": "STREAM",
				"TimeoutInMillis":      900000,
				"Uri": like(obj{"Fn::Join": arr{"", arrayWith(
					re("/response-streaming-invocations$"))}}),
			}),
		}},
		{"admin methods use IAM authorization", "AWS::ApiGateway::Method", obj{
			"HttpMethod":        "ANY",
			"AuthorizationType": "AWS_IAM",
			"Integration":       like(obj{"Type": "AWS_PROXY", "ResponseTransferMode": assertions.Match_Absent()}),
		}},
		{"gateway proxies every path", "AWS::ApiGateway::Resource", obj{"PathPart": "{proxy+}"}},
		{"admin API lives under admin/v1", "AWS::ApiGateway::Resource", obj{"PathPart": "v1"}},
		{"APIs are regional", "AWS::ApiGateway::RestApi", obj{
			"EndpointConfiguration": obj{"Types": arr{"REGIONAL"}},
		}},
		{"stages log errors and access, never bodies", "AWS::ApiGateway::Stage", obj{
			"StageName":           "prod",
			"CacheClusterEnabled": false,
			"AccessLogSetting":    like(obj{"Format": re(`"status"`)}),
			"MethodSettings": arr{like(obj{
				"DataTraceEnabled": false, "LoggingLevel": "ERROR", "MetricsEnabled": true, "CachingEnabled": false,
			})},
		}},
		{"tables: pk/sk, on demand, PITR, encrypted, TTL, protected", "AWS::DynamoDB::Table", obj{
			"KeySchema": arr{
				obj{"AttributeName": "pk", "KeyType": "HASH"},
				obj{"AttributeName": "sk", "KeyType": "RANGE"},
			},
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": obj{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 obj{"SSEEnabled": true},
			"TimeToLiveSpecification":          obj{"AttributeName": "expires_at", "Enabled": true},
			"DeletionProtectionEnabled":        true,
		}},
		{"cache is Valkey serverless in the VPC", "AWS::ElastiCache::ServerlessCache", obj{
			"Engine":              "valkey",
			"ServerlessCacheName": "test-cache",
			"SubnetIds":           assertions.Match_AnyValue(),
			"SecurityGroupIds":    assertions.Match_AnyValue(),
		}},
		{"cache admits Valkey ports only", "AWS::EC2::SecurityGroupIngress", obj{
			"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6380,
		}},
		{"DynamoDB gateway endpoint", "AWS::EC2::VPCEndpoint", obj{
			"VpcEndpointType": "Gateway",
			"ServiceName":     like(obj{"Fn::Join": arr{"", arrayWith(".dynamodb")}}),
		}},
		{"Secrets Manager interface endpoint", "AWS::EC2::VPCEndpoint", obj{
			"VpcEndpointType":   "Interface",
			"PrivateDnsEnabled": true,
			"ServiceName":       like(obj{"Fn::Join": arr{"", arrayWith(".secretsmanager")}}),
		}},
		{"Bedrock Runtime interface endpoint", "AWS::EC2::VPCEndpoint", obj{
			"VpcEndpointType":   "Interface",
			"PrivateDnsEnabled": true,
			"ServiceName":       like(obj{"Fn::Join": arr{"", arrayWith(".bedrock-runtime")}}),
		}},
		{"log groups keep a month", "AWS::Logs::LogGroup", obj{"RetentionInDays": 30}},
		{"secret starts as an empty JSON object", "AWS::SecretsManager::Secret", obj{"SecretString": "{}"}},
		{"gateway errors alarm", "AWS::CloudWatch::Alarm", obj{
			"Namespace": "AWS/Lambda", "MetricName": "Errors", "Threshold": gatewayErrorsThreshold,
		}},
		{"throttles alarm", "AWS::CloudWatch::Alarm", obj{"Namespace": "AWS/Lambda", "MetricName": "Throttles"}},
		{"gateway 5XX alarm", "AWS::CloudWatch::Alarm", obj{"Namespace": "AWS/ApiGateway", "MetricName": "5XXError"}},
		{"cache throttles alarm", "AWS::CloudWatch::Alarm", obj{"Namespace": "AWS/ElastiCache", "MetricName": "ThrottledCmds"}},
		{"table throttles alarm", "AWS::CloudWatch::Alarm", obj{
			"Metrics": arrayWith(like(obj{"MetricStat": like(obj{"Metric": like(obj{"MetricName": "ReadThrottleEvents"})})})),
		}},
	}
	for _, c := range properties {
		t.Run(c.name, func(t *testing.T) {
			must(t, c.name, func() { s.template.HasResourceProperties(jsii.String(c.typ), c.props) })
		})
	}

	t.Run("gateway environment", func(t *testing.T) {
		gw := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Gateway")])
		env := gw["Environment"].(obj)["Variables"].(obj)
		want := []string{EnvLambdaStream, EnvLedgerTable, EnvLogLevel, EnvProviderSecretARN, EnvRedisURL, EnvRoutesTable}
		if got := keys(env); !slices.Equal(got, want) {
			t.Errorf("gateway env = %v, want %v", got, want)
		}
		if env[EnvLambdaStream] != "true" || env[EnvLogLevel] != "info" {
			t.Errorf("gateway env stream=%v log=%v", env[EnvLambdaStream], env[EnvLogLevel])
		}
		if got := toJSON(env[EnvRedisURL]); !strings.Contains(got, `"rediss://"`) || !strings.Contains(got, "Endpoint.Address") {
			t.Errorf("%s = %s, want rediss:// and the cache endpoint", EnvRedisURL, got)
		}
		secret := s.logicalID(t, "AWS::SecretsManager::Secret", "ProviderSecret")
		if got := toJSON(env[EnvProviderSecretARN]); got != `{"Ref":"`+secret+`"}` {
			t.Errorf("%s = %s, want the secret's ARN", EnvProviderSecretARN, got)
		}
	})

	t.Run("sam-env.json sets the gateway's variables", func(t *testing.T) {
		// sam local start-api --env-vars can only set variables the
		// template declares; the README's SAM recipe ships this file.
		raw, err := os.ReadFile(filepath.Join("..", "..", "sam-env.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Parameters map[string]string }
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("sam-env.json: %v", err)
		}
		gw := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Gateway")])
		want := keys(gw["Environment"].(obj)["Variables"].(obj))
		got := make([]string, 0, len(f.Parameters))
		for k := range f.Parameters {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("sam-env.json sets %v; the gateway function declares %v", got, want)
		}
		if f.Parameters[EnvLambdaStream] != "false" {
			t.Errorf("sam-env.json: %s = %q: sam local buffers responses, so it must be false", EnvLambdaStream, f.Parameters[EnvLambdaStream])
		}
	})

	t.Run("admin environment", func(t *testing.T) {
		admin := props(s.resources("AWS::Lambda::Function")[s.logicalID(t, "AWS::Lambda::Function", "Admin")])
		env := admin["Environment"].(obj)["Variables"].(obj)
		if got, want := keys(env), []string{EnvLambdaStream, EnvLedgerTable, EnvRoutesTable}; !slices.Equal(got, want) {
			t.Errorf("admin env = %v, want %v", got, want)
		}
		if env[EnvLambdaStream] != "false" {
			t.Errorf("admin %s = %v", EnvLambdaStream, env[EnvLambdaStream])
		}
	})

	t.Run("IAM is scoped to the tables and the secret", func(t *testing.T) {
		routes := s.logicalID(t, "AWS::DynamoDB::Table", "Routes")
		ledger := s.logicalID(t, "AWS::DynamoDB::Table", "Ledger")
		secret := s.logicalID(t, "AWS::SecretsManager::Secret", "ProviderSecret")
		arn := func(id string) string { return `{"Fn::GetAtt":["` + id + `","Arn"]}` }
		for _, role := range []string{s.logicalID(t, "AWS::IAM::Role", "GatewayRole"), s.logicalID(t, "AWS::IAM::Role", "AdminRole")} {
			for _, st := range s.statements(t, role) {
				actions := toJSON(st["Action"])
				for _, r := range list(st["Resource"]) {
					res := toJSON(r)
					switch {
					case strings.Contains(actions, "dynamodb:"):
						if res != arn(routes) && res != arn(ledger) {
							t.Errorf("%s: %s on %s, want a table ARN", role, actions, res)
						}
					case strings.Contains(actions, "secretsmanager:"):
						if res != `{"Ref":"`+secret+`"}` {
							t.Errorf("%s: %s on %s, want the secret", role, actions, res)
						}
					case res == `"*"`:
						for _, a := range list(st["Action"]) {
							if !slices.Contains(vpcNetworkActions(), a.(string)) &&
								!(role == s.logicalID(t, "AWS::IAM::Role", "AdminRole") && slices.Contains(adminMetricsActions(), a.(string))) {
								t.Errorf("%s: %s on *", role, a)
							}
						}
					}
					if strings.Contains(actions, `:*"`) || strings.Contains(actions, `"*"`) {
						t.Errorf("%s: wildcard action %s", role, actions)
					}
				}
			}
		}
	})

	t.Run("admin reads the gateway's metrics, the gateway does not", func(t *testing.T) {
		for role, want := range map[string]bool{"AdminRole": true, "GatewayRole": false} {
			got := false
			for _, st := range s.statements(t, s.logicalID(t, "AWS::IAM::Role", role)) {
				for _, a := range list(st["Action"]) {
					if a == "cloudwatch:GetMetricData" {
						got = true
						if st["Effect"] != "Allow" || toJSON(st["Resource"]) != `"*"` {
							t.Errorf("%s: GetMetricData statement %s", role, toJSON(st))
						}
					}
				}
			}
			if got != want {
				t.Errorf("%s may call cloudwatch:GetMetricData: %v, want %v", role, got, want)
			}
		}
	})

	t.Run("gateway reads routes and records usage; admin manages both", func(t *testing.T) {
		routes := s.logicalID(t, "AWS::DynamoDB::Table", "Routes")
		gw := s.logicalID(t, "AWS::IAM::Role", "GatewayRole")
		got := map[string][]string{}
		for _, st := range s.statements(t, gw) {
			for _, r := range list(st["Resource"]) {
				for _, a := range list(st["Action"]) {
					if strings.HasPrefix(a.(string), "dynamodb:") {
						got[toJSON(r)] = append(got[toJSON(r)], a.(string))
					}
				}
			}
		}
		for res, actions := range got {
			slices.Sort(actions)
			want := gatewayLedgerActions()
			if strings.Contains(res, routes) {
				want = gatewayRoutesActions()
			}
			slices.Sort(want)
			if !slices.Equal(actions, want) {
				t.Errorf("gateway on %s: %v, want %v", res, actions, want)
			}
		}
		if len(got) != 2 {
			t.Errorf("gateway has DynamoDB actions on %d resources, want 2", len(got))
		}
		for _, st := range s.statements(t, gw) {
			if strings.Contains(toJSON(st["Action"]), "bedrock:") {
				t.Errorf("gateway may invoke Bedrock with no models configured: %s", toJSON(st))
			}
		}
	})

	t.Run("nothing secret in environment variables", func(t *testing.T) {
		for id, fn := range s.resources("AWS::Lambda::Function") {
			for k, v := range props(fn)["Environment"].(obj)["Variables"].(obj) {
				if strings.Contains(strings.ToLower(toJSON(v)), "sk-") || strings.Contains(k, "KEY") || strings.Contains(k, "TOKEN") {
					t.Errorf("%s: %s=%v looks like a credential", id, k, v)
				}
			}
		}
	})

	t.Run("dashboard shows the gateway's metrics", func(t *testing.T) {
		body := toJSON(props(s.one(t, "AWS::CloudWatch::Dashboard"))["DashboardBody"])
		for _, want := range []string{MetricRequests, MetricInputTokens, MetricOutputTokens, MetricLatency,
			MetricTimeToFirstToken, MetricCacheHits, MetricCacheMisses, "SEARCH(", MetricBackendErrors, "5XXError", "ThrottledCmds"} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %s", want)
			}
		}
	})

	t.Run("outputs", func(t *testing.T) {
		outputs := s.json["Outputs"].(obj)
		for _, name := range []string{OutGatewayURL, OutAdminURL, OutRoutesTable, OutLedgerTable, OutProviderSecretARN, OutAdminInvokeARN, OutDashboardName} {
			if _, ok := outputs[name]; !ok {
				t.Errorf("no output %s", name)
			}
		}
		if _, ok := outputs[OutFunctionURL]; ok {
			t.Errorf("output %s without a Function URL", OutFunctionURL)
		}
		stage := s.logicalID(t, "AWS::ApiGateway::Stage", "AdminApiDeploymentStageprod")
		if got := toJSON(outputs[OutAdminURL]); !strings.Contains(got, `"https://"`) || !strings.Contains(got, stage) {
			t.Errorf("AdminUrl = %s, want the admin API's prod stage URL", got)
		}
	})

	t.Run("stateful resources are retained", func(t *testing.T) {
		for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::ElastiCache::ServerlessCache", "AWS::Logs::LogGroup"} {
			for id, r := range s.resources(typ) {
				if r["DeletionPolicy"] != "Retain" {
					t.Errorf("%s DeletionPolicy = %v, want Retain", id, r["DeletionPolicy"])
				}
			}
		}
	})
}

func keys(m obj) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
