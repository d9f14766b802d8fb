package tests

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/browsertest"
)

// TestLocalUsagePage follows the usage page link the local process prints
// in headless Chromium, after a few requests, and checks that the charts
// were drawn from what the ledger recorded; the page is closed to anyone
// without the admin token, and the token reaches no log.
func TestLocalUsagePage(t *testing.T) {
	skipShort(t)
	browser := browsertest.New(t)
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+env.Redis(t))
	token := adminToken(t, p)
	for _, model := range []string{"gpt-4o-mini", "gpt-4o", "gpt-4o-mini"} {
		resp, body := httpDo(t, "POST", p.url("/v1/chat/completions"), p.key, chatBody(model, "chart me", ""))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", model, resp.StatusCode, body)
		}
	}
	// The local process writes usage in batches, every half second.
	eventually(t, func() bool {
		resp, body := httpDo(t, "GET", p.url("/admin/v1/usage/report?since=1d"), token, "")
		var rep admin.UsageReport
		json.Unmarshal([]byte(body), &rep)
		return resp.StatusCode == http.StatusOK && rep.Total.Requests == 3 && len(rep.Routes) > 0
	})

	var link string
	eventually(t, func() bool {
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if v, ok := strings.CutPrefix(l, "Usage page: "); ok {
				link = v
			}
		}
		return link != ""
	})
	if want := p.url("/admin/ui/#token=") + token; link != want {
		t.Fatalf("the printed link is %q, want %q", link, want)
	}

	t.Run("closed without the token", func(t *testing.T) {
		resp, body := httpDo(t, "GET", p.url("/admin/ui/"), "", "")
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "usage-data") {
			t.Errorf("signed out: %d %s", resp.StatusCode, body)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm(p.url("/admin/ui/login"), url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/ui/" {
			t.Errorf("signed in: %d at %s", resp.StatusCode, resp.Request.URL)
		}
	})

	t.Run("charts drawn in the browser", func(t *testing.T) {
		dom := browser.DOM(t, link)
		browsertest.CheckCharts(t, dom, 8)
		if !strings.Contains(dom, "gpt-4o-mini") || !strings.Contains(dom, "Top routes") {
			t.Errorf("the page does not name the model used or show the routes:\n%s", dom)
		}
	})

	if strings.Contains(p.out.String(), token) {
		t.Error("the local process logged the admin token")
	}
}
