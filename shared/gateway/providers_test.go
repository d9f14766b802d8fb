package gateway

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
)

// testProviders is the built-in provider registry, with no AWS region or
// credentials.
var testProviders = builtin.Registry(provider.Deps{})

// awsProviders is the built-in registry signing Bedrock requests with
// creds.
func awsProviders(creds aws.Credentials) *provider.Registry {
	return builtin.Registry(provider.Deps{Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
}
