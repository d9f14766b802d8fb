// Command sluice is Sluice's CLI: it validates manifests offline and talks
// to the admin API to apply them and manage keys.
//
//	sluice validate -f DIR
//	sluice apply -f DIR [--dry-run]
//	sluice get [KIND [NAME]] [-n NAMESPACE]
//	sluice delete KIND NAME [-n NAMESPACE]
//	sluice rollback [--to VERSION]
//	sluice keys create --name NAME [--consumer TEAM] [limits]
//	sluice keys list | revoke ID | rotate ID [--grace 24h]
//	sluice usage [--key ID | --consumer NAME] [--since 7d] [--by model|day]
//	sluice ui [--addr 127.0.0.1:8090]
//	sluice top [--interval 2s] [--source metrics|live] [--window 5m]
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
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/gatewayapi"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// errProblems means the manifests have problems, already printed.
var errProblems = errors.New("manifests have problems")

// validate checks manifests offline, as an apply of these files alone
// would judge them: refusals fail it; conditions (what status would say)
// and notices are printed, and fail it only when strict.
func validate(path string, strict bool, out io.Writer) error {
	files, err := readManifests(path, out)
	if err != nil {
		return err
	}
	_, probs := gatewayapi.Validate(files)
	// Refusals first, then conditions, then notes, as apply prints them.
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Level < probs[j].Level })
	var refused, conditions, notices int
	for _, p := range probs {
		fmt.Fprintln(out, p.Printed())
		switch p.Level {
		case gatewayapi.Refused:
			refused++
		case gatewayapi.Condition:
			conditions++
		default:
			notices++
		}
	}
	switch {
	case refused > 0:
		fmt.Fprintf(out, "%d files refused: %d problems, %d conditions, %d notes\n", len(files), refused, conditions, notices)
		return errProblems
	case strict && conditions > 0:
		fmt.Fprintf(out, "%d files valid, with %d conditions (--strict) and %d notes\n", len(files), conditions, notices)
		return errProblems
	}
	fmt.Fprintf(out, "%d files valid", len(files))
	if conditions+notices > 0 {
		fmt.Fprintf(out, ", with %d conditions and %d notes", conditions, notices)
	}
	fmt.Fprintln(out)
	return nil
}

type client struct {
	endpoint string
	token    string
	// tokenSource says where the token came from and looked where the
	// CLI searched for one: a 401 tells the user.
	tokenSource string
	looked      []string
	// http sends the requests; nil: http.DefaultClient.
	http *http.Client
}

func (c *client) apply(ctx context.Context, path string, dryRun bool, out io.Writer) error {
	files, err := readManifests(path, out)
	if err != nil {
		return err
	}
	req := admin.ApplyRequest{Files: map[string]string{}, DryRun: dryRun}
	for name, b := range files {
		req.Files[name] = string(b)
	}
	var resp admin.ApplyResponse
	status, err := c.do(ctx, http.MethodPost, "/admin/v1/apply", req, &resp)
	if err != nil && (status != http.StatusBadRequest || len(resp.Problems) == 0) {
		return err
	}
	// Refusals, conditions and notes print as validate prints them.
	for _, p := range resp.Problems {
		fmt.Fprintln(out, p)
	}
	for _, c := range resp.Conditions {
		fmt.Fprintf(out, "condition: %s\n", c)
	}
	for _, n := range resp.Notices {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	if len(resp.Problems) > 0 {
		fmt.Fprintf(out, "refused: %d problems; nothing was applied\n", len(resp.Problems))
		return errProblems
	}
	if len(resp.Results) > 0 {
		printResults(out, resp)
		return nil
	}
	for _, a := range resp.Applied {
		switch {
		case resp.Unchanged:
			fmt.Fprintf(out, "%s unchanged\n", a)
		case resp.DryRun:
			fmt.Fprintf(out, "would apply %s\n", a)
		default:
			fmt.Fprintf(out, "%s applied\n", a)
		}
	}
	switch {
	case resp.Unchanged && resp.DryRun:
		fmt.Fprintf(out, "dry run: nothing would change; route table version %d stays current\n", resp.Version)
	case resp.Unchanged:
		fmt.Fprintf(out, "nothing changed; route table version %d stays current\n", resp.Version)
	case resp.DryRun:
		fmt.Fprintf(out, "dry run: would apply %d objects as route table version %d; nothing was stored\n", len(resp.Applied), resp.Version)
	default:
		fmt.Fprintf(out, "route table version %d stored\n", resp.Version)
	}
	return nil
}

// object is the part of a stored object `get` shows.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Status struct {
		Conditions []condition `json:"conditions"`
		Listeners  []struct {
			Name       string      `json:"name"`
			Conditions []condition `json:"conditions"`
		} `json:"listeners"`
		Parents []struct {
			ParentRef struct {
				Name        string `json:"name"`
				SectionName string `json:"sectionName"`
			} `json:"parentRef"`
			Conditions []condition `json:"conditions"`
		} `json:"parents"`
	} `json:"status"`
}

type condition struct {
	Type, Status, Reason, Message string
}

// summary is the status column: each condition's type, and its reason when
// it is not what all is well looks like.
func (o *object) summary() string {
	var parts []string
	add := func(prefix string, cs []condition) {
		for _, c := range cs {
			s := prefix + c.Type
			if c.Status != "True" || c.Reason != c.Type && c.Type != "Programmed" {
				s += "=" + c.Status + "(" + c.Reason + ")"
			}
			parts = append(parts, s)
		}
	}
	add("", o.Status.Conditions)
	// Listeners show only what is amiss: four conditions each would
	// drown the rest.
	for _, l := range o.Status.Listeners {
		var amiss []condition
		for _, c := range l.Conditions {
			if c.Status != "True" && c.Type != "Conflicted" || c.Type == "Conflicted" && c.Status != "False" {
				amiss = append(amiss, c)
			}
		}
		add(l.Name+":", amiss)
	}
	for _, p := range o.Status.Parents {
		add(p.ParentRef.Name+":", p.Conditions)
	}
	if len(parts) == 0 && !gatewayapi.Served(o.Kind) {
		return "(kept, not served)"
	}
	return strings.Join(parts, " ")
}

func (c *client) objects(ctx context.Context) ([]json.RawMessage, error) {
	var resp struct {
		Items []json.RawMessage `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/admin/v1/objects", nil, &resp)
	return resp.Items, err
}

func (c *client) get(ctx context.Context, kind, name, namespace string, out io.Writer) error {
	items, err := c.objects(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tNAMESPACE\tNAME\tSTATUS")
	found := false
	for _, raw := range items {
		var o object
		if json.Unmarshal(raw, &o) != nil {
			continue
		}
		if kind != "" && !strings.EqualFold(kind, o.Kind) || name != "" && name != o.Metadata.Name ||
			namespace != "" && namespace != o.Metadata.Namespace {
			continue
		}
		found = true
		if name != "" {
			var pretty bytes.Buffer
			json.Indent(&pretty, raw, "", "  ")
			fmt.Fprintln(out, pretty.String())
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.Kind, o.Metadata.Namespace, o.Metadata.Name, o.summary())
	}
	if name != "" {
		if !found {
			return fmt.Errorf("%s %s not found", kind, name)
		}
		return nil
	}
	return w.Flush()
}

func (c *client) delete(ctx context.Context, kind, name, namespace string, out io.Writer) error {
	if namespace == "" && kind != "GatewayClass" {
		namespace = "default"
	}
	q := url.Values{"kind": {kind}, "name": {name}}
	if namespace != "" {
		q.Set("namespace", namespace)
	}
	var resp struct {
		Deleted string
		Version int64
	}
	if _, err := c.do(ctx, http.MethodDelete, "/admin/v1/objects?"+q.Encode(), nil, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s deleted; route table version %d stored\n", resp.Deleted, resp.Version)
	return nil
}

func (c *client) rollback(ctx context.Context, to int64, out io.Writer) error {
	var resp struct {
		Restored int64
		Version  int64
	}
	if _, err := c.do(ctx, http.MethodPost, "/admin/v1/rollback", map[string]int64{"version": to}, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "restored route table version %d as version %d\n", resp.Restored, resp.Version)
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
	hc := c.http
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
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
		if resp.StatusCode == http.StatusUnauthorized && isLoopback(req.URL) {
			e.Error.Message += "; " + c.unauthorizedHint()
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
	if c.token == "" && c.looked == nil && isLoopback(req.URL) {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("finding .sluice/admin-token: %w", err)
		}
		var path string
		c.token, path, c.looked = localToken(wd)
		if c.token != "" {
			c.tokenSource = "the token in " + path
		}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
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
