package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/ledger"
)

func testReport() admin.UsageReport {
	days := []string{"2026-11-27", "2026-11-28"}
	row := ledger.UsageRow{Requests: 3, InputTokens: 30, OutputTokens: 9, CostMicros: 12}
	s := func(name string) admin.UsageSeries {
		return admin.UsageSeries{Name: name, Total: row, Days: []ledger.UsageRow{{Day: days[0]}, row}}
	}
	return admin.UsageReport{From: days[0], To: days[1], Days: days, Total: row,
		Models: []admin.UsageSeries{s("gpt-4o")}, Keys: []admin.UsageSeries{s("k1")},
		Consumers: []admin.UsageSeries{s("team-a")}, Routes: []admin.UsageSeries{s("default/chat")}}
}

// TestUI: `sluice ui` serves the usage page on loopback, from the admin
// API it is pointed at, behind a token of its own that the printed link
// carries in its fragment; it stops cleanly when its context ends.
func TestUI(t *testing.T) {
	noAdminEnv(t)
	body, _ := json.Marshal(testReport())
	f := &fakeAdmin{status: 200, body: string(body), token: "adm"}
	endpoint := f.start(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var stderr strings.Builder
		done <- run(ctx, []string{"ui", "--endpoint", endpoint, "--admin-token", "adm", "--addr", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	_, link, ok := strings.Cut(strings.TrimSpace(line), ": ")
	if !ok || !strings.Contains(link, "/#token=") {
		t.Fatalf("printed %q", line)
	}
	page, token, _ := strings.Cut(link, "#token=")

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
	resp, err = c.PostForm(page+"login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "default/chat") {
		t.Fatalf("signed in: %d %s", resp.StatusCode, b)
	}
	if got := f.paths[len(f.paths)-1]; got != "GET /admin/v1/usage/report?since=7d" {
		t.Errorf("the admin API was asked %q", got)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sluice ui did not stop when its context ended")
	}

	if code, _, stderr := sluice(t, "ui", "--addr", "0.0.0.0:8090"); code != 2 || !strings.Contains(stderr, "loopback") {
		t.Errorf("a non-loopback address: exit %d, %s", code, stderr)
	}
}

// TestUISignsWithSigV4: against a deployed admin API (not loopback, no
// token) the page's report is read with the user's AWS credentials, in a
// SigV4 signature the server can check.
func TestUISignsWithSigV4(t *testing.T) {
	noAdminEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSLUICETEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret/for/the/test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_REGION", "eu-west-1")
	const host = "abc123.execute-api.eu-central-1.amazonaws.com"
	body, _ := json.Marshal(testReport())
	var checked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Sign the same request again with the same time: the signatures
		// match only if the CLI signed what it sent, for execute-api in the
		// endpoint's region.
		at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil {
			http.Error(w, "no X-Amz-Date", http.StatusForbidden)
			return
		}
		again, _ := http.NewRequest(r.Method, "https://"+host+r.URL.RequestURI(), nil)
		for _, h := range []string{"Content-Type", "X-Amz-Date"} {
			again.Header.Set(h, r.Header.Get(h))
		}
		sum := sha256.Sum256(nil)
		creds := aws.Credentials{AccessKeyID: "AKIDSLUICETEST", SecretAccessKey: "secret/for/the/test"}
		if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), "execute-api", "eu-central-1", at); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if got, want := r.Header.Get("Authorization"), again.Header.Get("Authorization"); got != want {
			http.Error(w, "signature "+got+", want "+want, http.StatusForbidden)
			return
		}
		checked.Store(true)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	// The deployed host name, reached at the test server.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	// The test server speaks plain HTTP: https requests go to it as http.
	c := &client{endpoint: "https://" + host, http: &http.Client{Transport: rewriteScheme{&http.Transport{DialContext: dial}}}}
	rep, err := reportSource{c}.UsageReport(context.Background(), "2d")
	if err != nil {
		t.Fatal(err)
	}
	if !checked.Load() || len(rep.Routes) != 1 || rep.Routes[0].Name != "default/chat" {
		t.Fatalf("report %+v, checked %v", rep, checked.Load())
	}
}

// rewriteScheme sends https requests as http, after they were signed.
type rewriteScheme struct{ rt http.RoundTripper }

func (r rewriteScheme) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme = "http"
	return r.rt.RoundTrip(out)
}
