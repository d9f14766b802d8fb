package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// network is where the Lambdas and the cache run.
type network struct {
	vpc     awsec2.IVpc
	subnets *awsec2.SubnetSelection
	// gatewaySG and adminSG are the functions' security groups; cacheSG
	// admits the gateway's on the Valkey ports.
	gatewaySG, adminSG, cacheSG awsec2.SecurityGroup
}

// Valkey's ports on ElastiCache Serverless: 6379 for the primary endpoint,
// 6380 for the reader endpoint.
const (
	valkeyPort       = 6379
	valkeyReaderPort = 6380
)

// newNetwork creates or imports the VPC, the security groups and the VPC
// endpoints.
func newNetwork(scope constructs.Construct, p Props) *network {
	n := &network{}
	if p.ExistingVPC != nil {
		n.vpc = importVPC(scope, p.ExistingVPC)
		n.subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
	} else {
		n.vpc, n.subnets = createVPC(scope, p)
	}

	n.gatewaySG = securityGroup(scope, "GatewaySecurityGroup", n.vpc,
		"Sluice gateway Lambda: egress to providers (HTTPS through NAT), AWS endpoints and the cache")
	n.adminSG = securityGroup(scope, "AdminSecurityGroup", n.vpc,
		"Sluice admin Lambda: egress to AWS endpoints")
	n.cacheSG = awsec2.NewSecurityGroup(scope, jsii.String("CacheSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              n.vpc,
		Description:      jsii.String("Sluice ElastiCache Serverless: Valkey from the gateway only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	n.cacheSG.AddIngressRule(n.gatewaySG, awsec2.Port_TcpRange(jsii.Number(valkeyPort), jsii.Number(valkeyReaderPort)),
		jsii.String("Valkey (TLS) from the gateway"), nil)

	if !p.NoVPCEndpoints {
		n.addEndpoints(scope)
	}
	return n
}

// securityGroup is a Lambda's group: all egress (the gateway proxies plain
// HTTP backends on any port), no ingress (Lambda needs none).
func securityGroup(scope constructs.Construct, id string, vpc awsec2.IVpc, description string) awsec2.SecurityGroup {
	return awsec2.NewSecurityGroup(scope, jsii.String(id), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String(description),
		AllowAllOutbound: jsii.Bool(true),
	})
}

// createVPC makes a two-AZ VPC: public subnets holding the NAT gateways and
// private subnets for the Lambdas and the cache, isolated when there are no
// NAT gateways.
func createVPC(scope constructs.Construct, p Props) (awsec2.IVpc, *awsec2.SubnetSelection) {
	private := awsec2.SubnetType_PRIVATE_WITH_EGRESS
	subnets := []*awsec2.SubnetConfiguration{
		{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
	}
	if *p.NATGateways == 0 {
		private = awsec2.SubnetType_PRIVATE_ISOLATED
		subnets = nil // no NAT, no need for public subnets or an internet gateway
	}
	subnets = append(subnets, &awsec2.SubnetConfiguration{
		Name: jsii.String("private"), SubnetType: private, CidrMask: jsii.Number(20),
	})
	vpc := awsec2.NewVpc(scope, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:              jsii.Number(agnosticAZs),
		NatGateways:         jsii.Number(float64(*p.NATGateways)),
		SubnetConfiguration: &subnets,
	})
	if !p.NoFlowLog {
		logs := logGroup(scope, "VpcFlowLogs", p)
		vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
			Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(logs, nil),
			TrafficType: awsec2.FlowLogTrafficType_ALL,
		})
	}
	return vpc, &awsec2.SubnetSelection{SubnetType: private}
}

// importVPC refers to an existing VPC by its attributes: no lookup, so the
// synthesis stays offline.
func importVPC(scope constructs.Construct, v *ExistingVPC) awsec2.IVpc {
	attrs := &awsec2.VpcAttributes{
		VpcId:             jsii.String(v.ID),
		AvailabilityZones: jsii.Strings(v.AvailabilityZones...),
		PrivateSubnetIds:  jsii.Strings(v.PrivateSubnetIDs...),
	}
	if len(v.PrivateRouteTableIDs) > 0 {
		attrs.PrivateSubnetRouteTableIds = jsii.Strings(v.PrivateRouteTableIDs...)
	}
	return awsec2.Vpc_FromVpcAttributes(scope, jsii.String("Vpc"), attrs)
}

// addEndpoints keeps DynamoDB, Secrets Manager and Bedrock Runtime traffic
// off the NAT gateways (and working without them). The interface endpoints
// admit HTTPS from the two functions' security groups only.
func (n *network) addEndpoints(scope constructs.Construct) {
	n.vpc.AddGatewayEndpoint(jsii.String("DynamoDbEndpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB(),
		Subnets: &[]*awsec2.SubnetSelection{n.subnets},
	})
	sg := awsec2.NewSecurityGroup(scope, jsii.String("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              n.vpc,
		Description:      jsii.String("Sluice interface VPC endpoints: HTTPS from the Lambdas"),
		AllowAllOutbound: jsii.Bool(false),
	})
	for _, from := range []awsec2.SecurityGroup{n.gatewaySG, n.adminSG} {
		sg.AddIngressRule(from, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from a Sluice Lambda"), nil)
	}
	for _, e := range []struct {
		id      string
		service awsec2.IInterfaceVpcEndpointService
	}{
		{"SecretsManagerEndpoint", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
		{"BedrockRuntimeEndpoint", awsec2.InterfaceVpcEndpointAwsService_BEDROCK_RUNTIME()},
	} {
		n.vpc.AddInterfaceEndpoint(jsii.String(e.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:           e.service,
			Subnets:           n.subnets,
			SecurityGroups:    &[]awsec2.ISecurityGroup{sg},
			PrivateDnsEnabled: jsii.Bool(true),
			Open:              jsii.Bool(false),
		})
	}
}

// logGroup is a log group with the stack's retention and removal policy.
func logGroup(scope constructs.Construct, id string, p Props) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
}
