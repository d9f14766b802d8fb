package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/ledger"
)

// parseModelLimit reads MODEL:rpm=N,tpm=N,tpd=N,tpmonth=N,usd=X into l.
func parseModelLimit(l *ledger.Limits, v string) error {
	model, spec, ok := strings.Cut(v, ":")
	if !ok || model == "" || spec == "" {
		return fmt.Errorf("want MODEL:rpm=N,tpm=N,tpd=N,tpmonth=N,usd=X, got %q", v)
	}
	var ml ledger.Limits
	for _, kv := range strings.Split(spec, ",") {
		k, val, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "rpm":
			ml.RequestsPerMinute, err = strconv.ParseInt(val, 10, 64)
		case "tpm":
			ml.TokensPerMinute, err = strconv.ParseInt(val, 10, 64)
		case "tpd":
			ml.TokensPerDay, err = strconv.ParseInt(val, 10, 64)
		case "tpmonth":
			ml.TokensPerMonth, err = strconv.ParseInt(val, 10, 64)
		case "usd":
			ml.BudgetUSD, err = strconv.ParseFloat(val, 64)
		default:
			return fmt.Errorf("unknown limit %q in %q (rpm, tpm, tpd, tpmonth, usd)", k, v)
		}
		if err != nil {
			return fmt.Errorf("limit %s in %q: %w", k, v, err)
		}
	}
	if l.Models == nil {
		l.Models = map[string]ledger.Limits{}
	}
	l.Models[model] = ml
	return nil
}

func (c *client) createKey(ctx context.Context, req admin.CreateKeyRequest, out io.Writer) error {
	var resp admin.CreateKeyResponse
	if _, err := c.do(ctx, http.MethodPost, "/admin/v1/keys", req, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "key %s (%s) created; its secret is shown only this once:\n%s\n", resp.ID, resp.Name, resp.Key)
	return nil
}

func (c *client) listKeys(ctx context.Context, out io.Writer) error {
	var resp struct{ Items []admin.KeyInfo }
	if _, err := c.do(ctx, http.MethodGet, "/admin/v1/keys", nil, &resp); err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCONSUMER\tSTATE\tCREATED\tLIMITS")
	for _, k := range resp.Items {
		state := k.State
		if k.PreviousValidUntil != nil {
			state += " (old secret until " + k.PreviousValidUntil.Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, dash(k.Consumer), state, k.Created.Format(time.RFC3339), limitsSummary(k.Limits))
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func limitsSummary(l ledger.Limits) string {
	var parts []string
	one := func(prefix string, l ledger.Limits) {
		for _, f := range []struct {
			name string
			v    int64
		}{{"rpm", l.RequestsPerMinute}, {"tpm", l.TokensPerMinute}, {"tpd", l.TokensPerDay}, {"tpmonth", l.TokensPerMonth}} {
			if f.v > 0 {
				parts = append(parts, prefix+f.name+"="+strconv.FormatInt(f.v, 10))
			}
		}
		if l.BudgetUSD > 0 {
			parts = append(parts, prefix+"usd="+strconv.FormatFloat(l.BudgetUSD, 'f', -1, 64))
		}
	}
	one("", l)
	for m, ml := range l.Models {
		one(m+":", ml)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func (c *client) revokeKey(ctx context.Context, id string, out io.Writer) error {
	var resp admin.KeyInfo
	if _, err := c.do(ctx, http.MethodPost, "/admin/v1/keys/"+url.PathEscape(id)+"/revoke", nil, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "key %s (%s) revoked; gateways refuse it within their key cache bound (%s by default)\n", resp.ID, resp.Name, ledger.DefaultKeyCacheTTL)
	return nil
}

func (c *client) rotateKey(ctx context.Context, id string, grace time.Duration, out io.Writer) error {
	var resp admin.CreateKeyResponse
	req := admin.RotateKeyRequest{GracePeriod: grace.String()}
	if _, err := c.do(ctx, http.MethodPost, "/admin/v1/keys/"+url.PathEscape(id)+"/rotate", req, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "key %s (%s) rotated; its new secret is shown only this once:\n%s\n", resp.ID, resp.Name, resp.Key)
	if resp.PreviousValidUntil != nil {
		fmt.Fprintf(out, "the old secret keeps working until %s\n", resp.PreviousValidUntil.Format(time.RFC3339))
	} else {
		fmt.Fprintln(out, "the old secret no longer works")
	}
	return nil
}

func (c *client) usage(ctx context.Context, key, consumer, since, by string, out io.Writer) error {
	q := url.Values{"since": {since}, "by": {by}}
	if key != "" {
		q.Set("key", key)
	}
	if consumer != "" {
		q.Set("consumer", consumer)
	}
	var resp admin.UsageResponse
	if _, err := c.do(ctx, http.MethodGet, "/admin/v1/usage?"+q.Encode(), nil, &resp); err != nil {
		return err
	}
	fmt.Fprintf(out, "usage of %s, %s to %s (UTC)\n", resp.Subject, resp.From, resp.To)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	first := "MODEL"
	if resp.By == "day" {
		first = "DAY"
	} else if resp.By != "model" {
		first = "DAY\tMODEL"
	}
	fmt.Fprintf(w, "%s\tREQUESTS\tINPUT\tOUTPUT\tCACHED\tREASONING\tCOST (USD)\tCACHE HITS\tSAVED TOKENS\tSAVED (USD)\t\n", first)
	row := func(label string, r ledger.UsageRow) {
		est := ""
		if r.Estimated > 0 {
			est = fmt.Sprintf(" (%d estimated)", r.Estimated)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%.6f%s\t%d\t%d\t%.6f\t\n", label, r.Requests, r.InputTokens, r.OutputTokens,
			r.CachedTokens, r.ReasoningTokens, r.CostMicros.USD(), est, r.CacheHits, r.SavedTokens, r.SavedCostMicros.USD())
	}
	for _, r := range resp.Rows {
		switch resp.By {
		case "model":
			row(r.Model, r)
		case "day":
			row(r.Day, r)
		default:
			row(r.Day+"\t"+r.Model, r)
		}
	}
	label := "TOTAL"
	if resp.By != "model" && resp.By != "day" {
		label = "TOTAL\t"
	}
	row(label, resp.Total)
	return w.Flush()
}
