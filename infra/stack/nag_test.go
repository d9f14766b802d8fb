package stack

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"
)

// TestNagAwsSolutions runs cdk-nag's AwsSolutions pack over the default stack
// and the one with a vector search cluster (synth fails the test on any
// unsuppressed error or warning) and checks that each suppression the stack
// declares reached its resources, with its reason.
func TestNagAwsSolutions(t *testing.T) {
	for name, change := range map[string]func(*Props){
		"default":               func(*Props) {},
		"vector search cluster": func(p *Props) { p.VectorSearchNodeType = "cache.r7g.large" },
	} {
		t.Run(name, func(t *testing.T) {
			p := testProps(t)
			change(&p)
			checkSuppressions(t, p)
		})
	}
}

func checkSuppressions(t *testing.T, p Props) {
	s := synth(t, p)

	recorded := map[string]string{} // rule -> reasons seen in the template
	for _, r := range s.json["Resources"].(obj) {
		md, _ := r.(obj)["Metadata"].(obj)
		nag, _ := md["cdk_nag"].(obj)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, rule := range rules {
			rule := rule.(obj)
			recorded[rule["id"].(string)] += rule["reason"].(string)
		}
	}
	for _, sup := range Suppressions(p.withDefaults("Test")) {
		if !strings.Contains(recorded[sup.Rule], sup.Reason) {
			t.Errorf("%s on %s: suppression not in the template", sup.Rule, sup.Construct)
		}
		if len(sup.Reason) < 40 {
			t.Errorf("%s on %s: reason %q too short to explain anything", sup.Rule, sup.Construct, sup.Reason)
		}
	}
	for rule := range recorded {
		if !strings.HasPrefix(rule, "AwsSolutions-") {
			t.Errorf("unexpected suppression %s", rule)
		}
	}
}

// TestNagCatchesFindings proves the harness: a table without point-in-time
// recovery, added beside the stack, is reported.
func TestNagCatchesFindings(t *testing.T) {
	ctx := cdkContext(t)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir())})
	s := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awsdynamodb.NewTable(s, jsii.String("NoBackups"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
	})
	Check(app)
	found := assertions.Annotations_FromStack(s).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-DDB3")))
	if len(*found) == 0 {
		t.Error("cdk-nag did not report a table without point-in-time recovery (AwsSolutions-DDB3)")
	}
}

// TestSuppressionsFollowProps checks that suppressions exist only for the
// choices that need them.
func TestSuppressionsFollowProps(t *testing.T) {
	has := func(p Props, rule, construct string) bool {
		for _, s := range Suppressions(p) {
			if s.Rule == rule && s.Construct == construct {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name            string
		props           Props
		rule, construct string
		want            bool
	}{
		{"no WAF by default", Props{}, "AwsSolutions-APIG3", "GatewayApi", true},
		{"WAF given", Props{WebACLARN: "arn:aws:wafv2:x"}, "AwsSolutions-APIG3", "GatewayApi", false},
		{"created secret", Props{}, "AwsSolutions-SMG4", "ProviderSecret", true},
		{"existing secret", Props{ProviderSecretARN: "arn:aws:secretsmanager:x"}, "AwsSolutions-SMG4", "ProviderSecret", false},
		{"account role", Props{}, "AwsSolutions-IAM4", "ApiGatewayCloudWatchRole", true},
		{"no account role", Props{NoAPIGatewayAccountRole: true}, "AwsSolutions-IAM4", "ApiGatewayCloudWatchRole", false},
		{"flow log", Props{}, "AwsSolutions-VPC7", "Vpc", false},
		{"no flow log", Props{NoFlowLog: true}, "AwsSolutions-VPC7", "Vpc", true},
		{"no vector search cluster", Props{}, "AwsSolutions-AEC6", "VectorCache", false},
		{"vector search cluster", Props{VectorSearchNodeType: "cache.r7g.large"}, "AwsSolutions-AEC6", "VectorCache", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := has(c.props, c.rule, c.construct); got != c.want {
				t.Errorf("%s on %s suppressed = %v, want %v", c.rule, c.construct, got, c.want)
			}
		})
	}
}
