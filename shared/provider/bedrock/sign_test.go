package bedrock

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/route"
)

var testCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

var modelIDs = []string{
	"anthropic.claude-sonnet-4-20250514-v1:0",
	"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
	"amazon.titan-embed-text-v2:0",
}

// The path Sluice sends for a model id is the one AWS's own client sends.
func TestModelPathMatchesSDK(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.RequestURI
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1}}`)
	}))
	defer srv.Close()
	c := bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, "")})
	for _, id := range modelIDs {
		_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(id),
			Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "hi"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := modelPath(id, "converse"); got != want {
			t.Errorf("%s: SDK sent %s, Sluice sends %s", id, got, want)
		}
	}
}

// signedRequest builds the request the gateway would send for body.
func signedRequest(t *testing.T, endpoint, model string, creds aws.CredentialsProvider, credential string) *http.Request {
	t.Helper()
	deps := testConfig()
	deps.Now = func() time.Time { return time.Unix(1750000000, 0) } // TestSignatureVector's instant, 20250615T150640Z
	deps.Credentials = creds
	p := NewProvider(deps).(*Provider)
	b := &route.Backend{Endpoint: endpoint}
	if credential != "" {
		b.Credential = "bedrock-key"
	}
	tr, err := p.Translator(b, api.EndpointChatCompletions, model)
	if err != nil {
		t.Fatal(err)
	}
	path, out, err := tr.Request([]byte(`{"model":"c","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := p.URL(b, model, path)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	tr.Header(req.Header)
	p.Authorize(req.Header, b, credential)
	if err := p.Sign(context.Background(), req, b, out); err != nil {
		t.Fatal(err)
	}
	return req
}

// The mock checks signatures by re-signing with the SDK's signer; its own
// test shows it accepts the bedrockruntime client's signatures, so it
// accepting Sluice's shows they agree, escaped model ids included.
func TestSignatureAcceptedByVerifyingMock(t *testing.T) {
	srv := httptest.NewServer(&mock.Bedrock{Credentials: &testCreds})
	defer srv.Close()
	for _, id := range modelIDs[:2] {
		for _, secret := range []string{testCreds.SecretAccessKey, "wrong"} {
			creds := credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, secret, "")
			resp, err := http.DefaultClient.Do(signedRequest(t, srv.URL, id, creds, ""))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := http.StatusOK
			if secret == "wrong" {
				want = http.StatusForbidden
			}
			if resp.StatusCode != want {
				t.Errorf("%s secret %s: status %d %s", id, secret, resp.StatusCode, body)
			}
		}
	}
}

// A known-good vector: the signature is computed here by hand from the
// SigV4 specification (canonical request with the path escaped twice, as
// for every AWS service but S3), independently of the SDK's signer, and
// must match what the gateway sends. (Python's hmac gives the same
// 3b2e5a03….)
func TestSignatureVector(t *testing.T) {
	req := signedRequest(t, "https://bedrock-runtime.us-east-1.amazonaws.com", modelIDs[0],
		credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""), "")
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`)
	const date, day = "20250615T150640Z", "20250615"
	signed := "accept;content-length;content-type;host;x-amz-date"
	canonical := strings.Join([]string{"POST", "/model/anthropic.claude-sonnet-4-20250514-v1%253A0/converse", "",
		"accept:application/json\ncontent-length:" + strconv.Itoa(len(body)) + "\ncontent-type:application/json\nhost:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:" + date + "\n",
		signed, hexSHA(body)}, "\n")
	scope := day + "/us-east-1/bedrock/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hexSHA([]byte(canonical))
	key := []byte("AWS4" + testCreds.SecretAccessKey)
	for _, part := range []string{day, "us-east-1", "bedrock", "aws4_request"} {
		key = hmacSHA(key, part)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope + ", SignedHeaders=" + signed + ", Signature=" + hex.EncodeToString(hmacSHA(key, toSign))
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("authorization\n%s\nwant\n%s", got, want)
	}
	if !strings.HasSuffix(want, "3b2e5a03d889ac7c331a0d7dbc6d26d28285a00d06da5bad3af7769fb20c166f") {
		t.Fatalf("vector drifted: %s", want)
	}
	if req.Header.Get("X-Amz-Date") != date || req.URL.EscapedPath() != "/model/anthropic.claude-sonnet-4-20250514-v1%3A0/converse" {
		t.Fatalf("date %s path %s", req.Header.Get("X-Amz-Date"), req.URL.EscapedPath())
	}
	sum := sha256.Sum256(body)
	if got, _ := io.ReadAll(req.Body); !bytes.Equal(got, body) || hex.EncodeToString(sum[:]) != hexSHA(body) {
		t.Fatalf("body %s", got)
	}
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func TestBearerCredentialSkipsSigV4(t *testing.T) {
	req := signedRequest(t, "https://bedrock-runtime.us-east-1.amazonaws.com", modelIDs[0], nil, "bedrock-api-key-123")
	if got := req.Header.Get("Authorization"); got != "Bearer bedrock-api-key-123" || req.Header.Get("X-Amz-Date") != "" {
		t.Fatalf("authorization %q", got)
	}
}

// TestRegions: requests are signed for the backend's region, else its
// endpoint's, else the process's; a backend without an endpoint is reached
// in its region, else the process's, and without any region the request
// fails with an error saying what to set.
func TestRegions(t *testing.T) {
	p := NewProvider(provider.Deps{Region: "eu-central-1"}).(*Provider)
	signing := []struct {
		b    route.Backend
		want string
	}{
		{route.Backend{Region: "us-west-2", Endpoint: "https://bedrock-runtime.us-east-1.amazonaws.com"}, "us-west-2"},
		{route.Backend{Endpoint: "https://bedrock-runtime.ap-northeast-1.amazonaws.com"}, "ap-northeast-1"},
		{route.Backend{Endpoint: "https://bedrock-runtime-fips.us-east-1.amazonaws.com"}, "us-east-1"},
		{route.Backend{Endpoint: "http://127.0.0.1:8080"}, "eu-central-1"},
	}
	for _, c := range signing {
		if got := p.signingRegion(&c.b); got != c.want {
			t.Errorf("%+v: signed for %s, want %s", c.b, got, c.want)
		}
	}
	urls := []struct {
		p    *Provider
		b    route.Backend
		want string
	}{
		{p, route.Backend{Endpoint: "http://127.0.0.1:8080"}, "http://127.0.0.1:8080/model/m/converse"},
		{p, route.Backend{Region: "us-west-2"}, "https://bedrock-runtime.us-west-2.amazonaws.com/model/m/converse"},
		{p, route.Backend{}, "https://bedrock-runtime.eu-central-1.amazonaws.com/model/m/converse"},
		{NewProvider(provider.Deps{}).(*Provider), route.Backend{}, ""},
	}
	for _, c := range urls {
		got, err := c.p.URL(&c.b, "m", "/model/m/converse")
		if got != c.want || (c.want == "") != errors.Is(err, errNoRegion) {
			t.Errorf("%+v, process region %q: URL %q, %v; want %q", c.b, c.p.deps.Region, got, err, c.want)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "https://example.com/model/m/converse", nil)
	if err := urls[3].p.Sign(context.Background(), req, &route.Backend{Endpoint: "https://example.com"}, nil); !errors.Is(err, errNoRegion) {
		t.Errorf("signing without a region: %v", err)
	}
}
