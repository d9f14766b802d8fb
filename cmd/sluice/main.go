// Command sluice is Sluice's CLI: it validates manifests offline and talks
// to the admin API to apply them and manage keys.
//
//	sluice validate -f DIR
//	sluice apply -f DIR [--dry-run]
//	sluice get [KIND]
//	sluice keys create --name NAME [--consumer TEAM]
//
// The admin API is found through --endpoint or $SLUICE_ENDPOINT (default the
// local process). Locally the CLI sends --admin-token, $SLUICE_ADMIN_TOKEN or
// the token the local process wrote to .sluice/admin-token; against a
// deployed admin API without a token it signs requests with SigV4 using the
// standard AWS credential chain.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/gatewayapi"
)

const usage = `usage:
  sluice validate -f PATH              check manifests offline
  sluice apply -f PATH [--dry-run]     apply manifests through the admin API
  sluice get [KIND]                    list applied objects
  sluice keys create --name NAME [--consumer TEAM]
                                       create an API key (its secret is shown once)
common flags: --endpoint URL ($SLUICE_ENDPOINT), --admin-token TOKEN ($SLUICE_ADMIN_TOKEN)
`

func main() {
	code, err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluice:", err)
	}
	os.Exit(code)
}

// errProblems means the manifests have problems, already printed.
var errProblems = errors.New("manifests have problems")

func run(ctx context.Context, args []string, out io.Writer) (int, error) {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2, nil
	}
	cmd, args := args[0], args[1:]
	if cmd == "keys" {
		if len(args) == 0 || args[0] != "create" {
			fmt.Fprint(os.Stderr, usage)
			return 2, nil
		}
		cmd, args = "keys create", args[1:]
	}
	fs := flag.NewFlagSet("sluice "+cmd, flag.ContinueOnError)
	c := client{}
	fs.StringVar(&c.endpoint, "endpoint", envOr("SLUICE_ENDPOINT", "http://127.0.0.1:8080"), "admin API base URL")
	fs.StringVar(&c.token, "admin-token", os.Getenv("SLUICE_ADMIN_TOKEN"), "admin token for the local process")
	file := fs.String("f", "", "manifest file or folder")
	dryRun := fs.Bool("dry-run", false, "validate and compile on the server without storing")
	name := fs.String("name", "", "key name")
	consumer := fs.String("consumer", "", "the team or application the key belongs to")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	var err error
	switch cmd {
	case "validate":
		err = validate(*file, out)
	case "apply":
		err = c.apply(ctx, *file, *dryRun, out)
	case "get":
		err = c.get(ctx, fs.Arg(0), out)
	case "keys create":
		if *name == "" {
			return 2, errors.New("keys create needs --name")
		}
		err = c.createKey(ctx, *name, *consumer, out)
	default:
		fmt.Fprint(os.Stderr, usage)
		return 2, nil
	}
	if errors.Is(err, errProblems) {
		return 1, nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func validate(path string, out io.Writer) error {
	if path == "" {
		return errors.New("validate needs -f PATH")
	}
	files, err := gatewayapi.ReadDir(path)
	if err != nil {
		return err
	}
	_, probs := gatewayapi.Validate(files)
	for _, p := range probs {
		fmt.Fprintln(out, p)
	}
	if len(probs) > 0 {
		return errProblems
	}
	fmt.Fprintf(out, "%d files valid\n", len(files))
	return nil
}

type client struct {
	endpoint string
	token    string
}

func (c *client) apply(ctx context.Context, path string, dryRun bool, out io.Writer) error {
	if path == "" {
		return errors.New("apply needs -f PATH")
	}
	files, err := gatewayapi.ReadDir(path)
	if err != nil {
		return err
	}
	req := admin.ApplyRequest{Files: map[string]string{}, DryRun: dryRun}
	for name, b := range files {
		req.Files[name] = string(b)
	}
	var resp admin.ApplyResponse
	status, err := c.do(ctx, http.MethodPost, "/admin/v1/apply", req, &resp)
	if err != nil && status != http.StatusBadRequest {
		return err
	}
	for _, p := range resp.Problems {
		fmt.Fprintln(out, p)
	}
	if len(resp.Problems) > 0 {
		return errProblems
	}
	for _, a := range resp.Applied {
		fmt.Fprintf(out, "%s applied\n", a)
	}
	if resp.DryRun {
		fmt.Fprintf(out, "dry run: would store route table version %d\n", resp.Version)
	} else {
		fmt.Fprintf(out, "route table version %d stored\n", resp.Version)
	}
	return nil
}

func (c *client) get(ctx context.Context, kind string, out io.Writer) error {
	var resp struct {
		Items []struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
	}
	if _, err := c.do(ctx, http.MethodGet, "/admin/v1/objects", nil, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-14s %-16s %s\n", "KIND", "NAMESPACE", "NAME")
	for _, it := range resp.Items {
		if kind == "" || strings.EqualFold(kind, it.Kind) {
			fmt.Fprintf(out, "%-14s %-16s %s\n", it.Kind, it.Metadata.Namespace, it.Metadata.Name)
		}
	}
	return nil
}

func (c *client) createKey(ctx context.Context, name, consumer string, out io.Writer) error {
	var resp admin.CreateKeyResponse
	if _, err := c.do(ctx, http.MethodPost, "/admin/v1/keys", admin.CreateKeyRequest{Name: name, Consumer: consumer}, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "key %s (%s) created; its secret is shown only this once:\n%s\n", resp.ID, resp.Name, resp.Key)
	return nil
}

// do sends one admin request and decodes the JSON answer into into.
func (c *client) do(ctx context.Context, method, path string, body, into any) (int, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return 0, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.endpoint, "/")+path, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := c.authorize(ctx, req, payload); err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("admin API at %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode >= 300 {
		var e struct{ Error struct{ Message string } }
		json.Unmarshal(b, &e)
		if resp.StatusCode == http.StatusBadRequest && into != nil && json.Unmarshal(b, into) == nil {
			return resp.StatusCode, fmt.Errorf("admin API: %s", e.Error.Message)
		}
		if e.Error.Message == "" {
			e.Error.Message = strings.TrimSpace(string(b))
		}
		return resp.StatusCode, fmt.Errorf("admin API answered %s: %s", resp.Status, e.Error.Message)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			return resp.StatusCode, fmt.Errorf("admin API answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// authorize adds the admin token, or a SigV4 signature for a deployed admin
// API behind IAM authorisation.
func (c *client) authorize(ctx context.Context, req *http.Request, payload []byte) error {
	token := c.token
	if token == "" && isLoopback(req.URL) {
		if b, err := os.ReadFile(".sluice/admin-token"); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	if isLoopback(req.URL) {
		return nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials for SigV4: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials for SigV4: %w", err)
	}
	sum := sha256.Sum256(payload)
	return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", regionOf(cfg, req.URL), time.Now())
}

func isLoopback(u *url.URL) bool {
	h := u.Hostname()
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

// regionOf takes the region from an execute-api host name, else the config.
func regionOf(cfg aws.Config, u *url.URL) string {
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && parts[1] == "execute-api" {
		return parts[2]
	}
	return cfg.Region
}
