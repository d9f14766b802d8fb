package stack

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

func TestPropsDefaults(t *testing.T) {
	p := Props{}.withDefaults("Sluice")
	checks := []struct {
		name      string
		got, want any
	}{
		{"StageName", p.StageName, "prod"},
		{"GatewayMemoryMiB", p.GatewayMemoryMiB, 1024},
		{"AdminMemoryMiB", p.AdminMemoryMiB, 512},
		{"GatewayTimeout", p.GatewayTimeout, 15 * time.Minute},
		{"NATGateways", *p.NATGateways, 1},
		{"RemovalPolicy", p.RemovalPolicy, awscdk.RemovalPolicy_RETAIN},
		{"DeletionProtection", *p.DeletionProtection, true},
		{"LogRetention", p.LogRetention, awslogs.RetentionDays_ONE_MONTH},
		{"LogLevel", p.LogLevel, "info"},
		{"CacheName", p.CacheName, "sluice-cache"},
		{"buffered timeout", Props{Buffered: true}.withDefaults("x").GatewayTimeout, 29 * time.Second},
		{"destroy drops protection", *Props{RemovalPolicy: awscdk.RemovalPolicy_DESTROY}.withDefaults("x").DeletionProtection, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDefaultCacheName(t *testing.T) {
	cases := []struct{ stack, want string }{
		{"Sluice", "sluice-cache"},
		{"Sluice-Staging", "sluice-staging-cache"},
		{"my_stack.v2", "my-stack-v2-cache"},
		{"2fast", "sluice-2fast-cache"},
		{"---", "sluice-cache"},
		{"a--b", "a-b-cache"},
		{strings.Repeat("a", 60), strings.Repeat("a", 34) + "-cache"},
	}
	for _, c := range cases {
		t.Run(c.stack, func(t *testing.T) {
			got := defaultCacheName(c.stack)
			if got != c.want {
				t.Errorf("defaultCacheName(%q) = %q, want %q", c.stack, got, c.want)
			}
			if !cacheNameRE.MatchString(got) || len(got) > maxCacheName {
				t.Errorf("%q is not a valid cache name", got)
			}
		})
	}
}

func TestPropsValidate(t *testing.T) {
	valid := func() Props { return Props{GatewayAsset: "g", AdminAsset: "a"} }
	cases := []struct {
		name   string
		change func(*Props)
		want   []string // substrings of the error; none means valid
	}{
		{"defaults", func(*Props) {}, nil},
		{"assets required", func(p *Props) { p.GatewayAsset, p.AdminAsset = "", "" }, []string{"GatewayAsset: required", "AdminAsset: required"}},
		{"stage name", func(p *Props) { p.StageName = "a/b" }, []string{"StageName"}},
		{"memory too small", func(p *Props) { p.GatewayMemoryMiB = 64 }, []string{"GatewayMemoryMiB: 64"}},
		{"memory too large", func(p *Props) { p.AdminMemoryMiB = 20000 }, []string{"AdminMemoryMiB: 20000"}},
		{"stream longer than 15 minutes", func(p *Props) { p.GatewayTimeout = 16 * time.Minute }, []string{"GatewayTimeout"}},
		{"buffered longer than 29 seconds", func(p *Props) { p.Buffered, p.GatewayTimeout = true, time.Minute }, []string{"GatewayTimeout: 1m0s: must be between 1s and 29s"}},
		{"three NAT gateways", func(p *Props) { p.NATGateways = intPtr(3) }, []string{"NATGateways: 3"}},
		{"negative NAT gateways", func(p *Props) { p.NATGateways = intPtr(-1) }, []string{"NATGateways: -1"}},
		{"zero NAT gateways", func(p *Props) { p.NATGateways = intPtr(0) }, nil},
		{"removal policy", func(p *Props) { p.RemovalPolicy = awscdk.RemovalPolicy_SNAPSHOT }, []string{"RemovalPolicy"}},
		{"log level", func(p *Props) { p.LogLevel = "verbose" }, []string{"LogLevel"}},
		{"cache name", func(p *Props) { p.CacheName = "Bad_Name" }, []string{"CacheName"}},
		{"cache name double hyphen", func(p *Props) { p.CacheName = "a--b" }, []string{"CacheName"}},
		{"cache name too long", func(p *Props) { p.CacheName = strings.Repeat("a", 41) }, []string{"CacheName"}},
		{"vector search node type", func(p *Props) { p.VectorSearchNodeType = "r7g.large" }, []string{"VectorSearchNodeType"}},
		{"vector search on a node type", func(p *Props) { p.VectorSearchNodeType = "cache.r7g.large" }, nil},
		{"bedrock wildcard", func(p *Props) { p.BedrockModels = []string{"anthropic.*"} }, []string{"BedrockModels"}},
		{"not an ARN", func(p *Props) { p.AlarmTopicARN = "ops-topic" }, []string{"AlarmTopicARN"}},
		{"existing VPC needs two subnets", func(p *Props) {
			p.ExistingVPC = &ExistingVPC{ID: "vpc-1", AvailabilityZones: []string{"a"}, PrivateSubnetIDs: []string{"s1"}, PrivateRouteTableIDs: []string{"r1"}}
		}, []string{"at least two private subnets"}},
		{"existing VPC needs route tables for endpoints", func(p *Props) {
			p.ExistingVPC = &ExistingVPC{ID: "vpc-1", AvailabilityZones: []string{"a", "b"}, PrivateSubnetIDs: []string{"s1", "s2"}}
		}, []string{"0 route tables for 2 subnets"}},
		{"existing VPC without endpoints needs no route tables", func(p *Props) {
			p.NoVPCEndpoints = true
			p.ExistingVPC = &ExistingVPC{ID: "vpc-1", AvailabilityZones: []string{"a", "b"}, PrivateSubnetIDs: []string{"s1", "s2"}}
		}, nil},
		{"existing VPC zones", func(p *Props) {
			p.ExistingVPC = &ExistingVPC{ID: "vpc-1", AvailabilityZones: []string{"a", "b", "c"}, PrivateSubnetIDs: []string{"s1", "s2"}, PrivateRouteTableIDs: []string{"r1", "r2"}}
		}, []string{"3 availability zones for 2 subnets"}},
		{"existing VPC ignores NAT count", func(p *Props) {
			p.NATGateways = intPtr(5)
			p.ExistingVPC = &ExistingVPC{ID: "vpc-1", AvailabilityZones: []string{"a", "b"}, PrivateSubnetIDs: []string{"s1", "s2"}, PrivateRouteTableIDs: []string{"r1", "r2"}}
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := valid()
			c.change(&p)
			err := p.withDefaults("Sluice").validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
