package bedrock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sluicegw/sluice/shared/route"
)

// signingService is the SigV4 service name of Bedrock Runtime.
const signingService = "bedrock"

// Sign is the provider.Signer ability: it signs req, whose body is exactly
// body, with SigV4 for the bedrock service, unless backend b authenticates
// with a Bedrock API key (it names a credential). The payload hash is the
// SHA-256 of those bytes. The canonical URI is the escaped path the request
// will send (URL.RawPath, with ':' as %3A), which the SDK's signer escapes
// once more, as the AWS SDKs do for every service but S3. Credentials are
// never logged.
func (p *Provider) Sign(ctx context.Context, req *http.Request, b *route.Backend, body []byte) error {
	if b.Credential != "" {
		return nil
	}
	region := p.signingRegion(b)
	if region == "" {
		return errNoRegion
	}
	if p.deps.Credentials == nil {
		return errors.New("bedrock: no AWS credentials are configured")
	}
	c, err := p.deps.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("bedrock: retrieve AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), signingService, region, p.deps.Now().UTC())
}
