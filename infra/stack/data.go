package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ttlAttribute is the number attribute (epoch seconds) after which DynamoDB
// deletes an item: idempotency records in the ledger, old route-table
// history in the routes table.
const ttlAttribute = "expires_at"

// newTable makes one of Sluice's tables: pk/sk strings, on demand,
// point-in-time recovery, encrypted at rest with the AWS managed KMS key
// (aws/dynamodb), TTL on expires_at.
func newTable(scope constructs.Construct, id string, p Props) awsdynamodb.Table {
	return awsdynamodb.NewTable(scope, jsii.String(id), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String(ttlAttribute),
		DeletionProtection:  p.DeletionProtection,
		RemovalPolicy:       p.RemovalPolicy,
	})
}

// providerSecret is the Secrets Manager secret whose JSON object maps
// credential names to values; the gateway reads it at cold start. A created
// secret starts as "{}": the credentials never pass through the template.
func providerSecret(scope constructs.Construct, p Props) awssecretsmanager.ISecret {
	if p.ProviderSecretARN != "" {
		return awssecretsmanager.Secret_FromSecretCompleteArn(scope, jsii.String("ProviderSecret"), jsii.String(p.ProviderSecretARN))
	}
	return awssecretsmanager.NewSecret(scope, jsii.String("ProviderSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Sluice provider credentials: a JSON object of credential name to value, read by the gateway at cold start"),
		// Not a credential: an empty JSON object the operator replaces with
		// put-secret-value. CloudFormation leaves the value alone on later
		// deploys because this property never changes.
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String("{}")),
		RemovalPolicy:     p.RemovalPolicy,
	})
}

// newCache makes the ElastiCache Serverless Valkey cache in the private
// subnets. Serverless caches always encrypt in transit (TLS only) and at
// rest; the security group admits the gateway alone.
func newCache(scope constructs.Construct, net *network, p Props) awselasticache.CfnServerlessCache {
	subnets := net.vpc.SelectSubnets(net.subnets)
	c := awselasticache.NewCfnServerlessCache(scope, jsii.String("Cache"), &awselasticache.CfnServerlessCacheProps{
		Engine:              jsii.String("valkey"),
		MajorEngineVersion:  jsii.String(DefaultValkeyMajorVersion),
		ServerlessCacheName: jsii.String(p.CacheName),
		Description:         jsii.String("Sluice response cache, rate-limit windows and backend health"),
		SubnetIds:           toAny(subnets.SubnetIds),
		SecurityGroupIds:    &[]any{net.cacheSG.SecurityGroupId()},
	})
	c.ApplyRemovalPolicy(p.RemovalPolicy, nil)
	return c
}

// redisURL is the gateway's SLUICE_REDIS_URL: TLS to the primary endpoint.
func redisURL(c awselasticache.CfnServerlessCache) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("rediss://"), c.AttrEndpointAddress(), jsii.String(":"), c.AttrEndpointPort(),
	})
}

func toAny(ss *[]*string) *[]any {
	out := make([]any, 0, len(*ss))
	for _, s := range *ss {
		out = append(out, s)
	}
	return &out
}
