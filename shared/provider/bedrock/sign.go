package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// signingService is the SigV4 service name of Bedrock Runtime.
const signingService = "bedrock"

// DefaultCredentials returns the process's AWS credentials provider,
// loaded once through the SDK's default chain (env, shared profile, web
// identity, container and instance roles; in Lambda, the function role's
// env credentials) and cached by the SDK until they near expiry. It is
// process-wide because the credentials are: one chain, one cache, shared
// by every request. Credentials are never logged.
var DefaultCredentials = sync.OnceValues(func() (aws.CredentialsProvider, error) {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("bedrock: load AWS config: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("bedrock: no AWS credentials are configured")
	}
	return cfg.Credentials, nil
})

// signer signs requests with SigV4 for the bedrock service.
type signer struct {
	region string
	creds  aws.CredentialsProvider
	now    func() time.Time
}

// sign signs req, whose body is exactly body: the payload hash is the
// SHA-256 of those bytes. The canonical URI is the escaped path the
// request will send (URL.RawPath, with ':' as %3A), which the SDK's
// signer escapes once more, as the AWS SDKs do for every service but S3.
func (s *signer) sign(ctx context.Context, req *http.Request, body []byte) error {
	if s.region == "" {
		return errors.New("bedrock: no region: set the AIBackend's spec.region or AWS_REGION")
	}
	creds := s.creds
	if creds == nil {
		var err error
		if creds, err = DefaultCredentials(); err != nil {
			return err
		}
	}
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("bedrock: retrieve AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), signingService, s.region, s.now().UTC())
}

// Sign is the provider.Signer ability. Requests authenticated with a
// Bedrock API key (a bearer credential) are not signed.
func (b *base) Sign(ctx context.Context, req *http.Request, body []byte) error {
	// The gateway may have asked for text/event-stream; ConverseStream
	// answers in AWS's event stream, and the header sent is the one signed.
	req.Header.Set("Accept", b.accept())
	if b.bearer {
		return nil
	}
	return b.signer.sign(ctx, req, body)
}
