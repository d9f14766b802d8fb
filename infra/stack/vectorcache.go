package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// VectorSearchEngineVersion is the first Valkey version ElastiCache serves
// vector search on (FT.CREATE … VECTOR HNSW), on node-based clusters only.
const VectorSearchEngineVersion = "8.2"

// vectorCachePort is the vector cluster's port: not Valkey's default, so
// nothing that scans for 6379 finds it (cdk-nag AwsSolutions-AEC5).
const vectorCachePort = 6390

// EnvVectorRedisURL is where the gateway keeps the semantic cache's vector
// index when it differs from SLUICE_REDIS_URL.
const EnvVectorRedisURL = "SLUICE_VECTOR_REDIS_URL"

// newVectorCache makes the opt-in node-based Valkey cluster whose vector
// search holds the semantic cache's index: a primary and a replica in two
// zones with automatic failover, TLS required, encrypted at rest, in the
// private subnets and reachable from the gateway alone. The serverless
// cache keeps everything else.
func newVectorCache(scope constructs.Construct, net *network, p Props) awselasticache.CfnReplicationGroup {
	subnets := net.vpc.SelectSubnets(net.subnets)
	group := awselasticache.NewCfnSubnetGroup(scope, jsii.String("VectorCacheSubnets"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String("Sluice vector search cache: the private subnets"),
		SubnetIds:   toAny(subnets.SubnetIds),
	})
	sg := awsec2.NewSecurityGroup(scope, jsii.String("VectorCacheSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              net.vpc,
		Description:      jsii.String("Sluice vector search cache: Valkey from the gateway only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddIngressRule(net.gatewaySG, awsec2.Port_Tcp(jsii.Number(vectorCachePort)),
		jsii.String("Valkey (TLS) from the gateway"), nil)
	rg := awselasticache.NewCfnReplicationGroup(scope, jsii.String("VectorCache"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: jsii.String("Sluice semantic cache vector index (Valkey vector search)"),
		Engine:                      jsii.String("valkey"),
		EngineVersion:               jsii.String(VectorSearchEngineVersion),
		CacheNodeType:               jsii.String(p.VectorSearchNodeType),
		NumCacheClusters:            jsii.Number(2),
		AutomaticFailoverEnabled:    jsii.Bool(true),
		MultiAzEnabled:              jsii.Bool(true),
		TransitEncryptionEnabled:    jsii.Bool(true),
		TransitEncryptionMode:       jsii.String("required"),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		Port:                        jsii.Number(vectorCachePort),
		CacheSubnetGroupName:        group.Ref(),
		SecurityGroupIds:            &[]*string{sg.SecurityGroupId()},
	})
	rg.ApplyRemovalPolicy(p.RemovalPolicy, nil)
	return rg
}

// vectorRedisURL is the gateway's SLUICE_VECTOR_REDIS_URL: TLS to the
// cluster's primary endpoint.
func vectorRedisURL(rg awselasticache.CfnReplicationGroup) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("rediss://"), rg.AttrPrimaryEndPointAddress(), jsii.String(":"), rg.AttrPrimaryEndPointPort(),
	})
}
