// Package builtin builds the registry of the providers Sluice ships with,
// so that every entrypoint (the gateway Lambda, the local process, tests)
// serves the same set from the dependencies it resolved.
package builtin

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/anthropic"
	"github.com/sluicegw/sluice/shared/provider/azure"
	"github.com/sluicegw/sluice/shared/provider/bedrock"
	"github.com/sluicegw/sluice/shared/provider/gemini"
	"github.com/sluicegw/sluice/shared/provider/openai"
	"github.com/sluicegw/sluice/shared/provider/preset"
)

// Registry is the registry of every built-in protocol family, each given
// deps; the OpenAI-compatible presets are served by OpenAI's.
func Registry(deps provider.Deps) *provider.Registry {
	return provider.NewRegistry(deps, map[string]provider.Constructor{
		preset.OpenAI:      openai.NewProvider,
		preset.AzureOpenAI: azure.NewProvider,
		preset.Anthropic:   anthropic.NewProvider,
		preset.Bedrock:     bedrock.NewProvider,
		preset.Gemini:      gemini.NewProvider,
		preset.VertexAI:    gemini.NewVertexProvider,
	})
}

// AWSCredentials is the SDK's default credential chain (env keys, shared
// profile, web identity, container and instance roles; in Lambda, the
// function role's), loaded when a request is first signed, not here, and
// cached by the SDK until the credentials near expiry: a process that never
// signs never reads ~/.aws or the network, and a start does not wait on it.
func AWSCredentials() aws.CredentialsProvider {
	return &lazyCredentials{}
}

// lazyCredentials loads the SDK's default chain on first use. A failed
// load is not kept: the next request tries again.
type lazyCredentials struct {
	mu    sync.Mutex
	chain aws.CredentialsProvider
}

// Retrieve returns the chain's current credentials.
func (l *lazyCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	l.mu.Lock()
	chain := l.chain
	if chain == nil {
		// The load outlives a cancelled request: the chain is the process's.
		cfg, err := config.LoadDefaultConfig(context.WithoutCancel(ctx))
		if err != nil {
			l.mu.Unlock()
			return aws.Credentials{}, fmt.Errorf("load AWS config: %w", err)
		}
		if cfg.Credentials == nil {
			l.mu.Unlock()
			return aws.Credentials{}, errors.New("no AWS credentials are configured")
		}
		l.chain, chain = cfg.Credentials, cfg.Credentials
	}
	l.mu.Unlock()
	return chain.Retrieve(ctx)
}
