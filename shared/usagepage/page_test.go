package usagepage

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/ledger"
)

const testToken = "t0ken-for-the-page"

// fixture is a usage report of two weeks: four models, five keys, three
// consumers, four routes and three error kinds, in fixed figures.
type fixture struct{ since string }

func (f *fixture) UsageReport(_ context.Context, since string) (admin.UsageReport, error) {
	f.since = since
	if since == "bad" {
		return admin.UsageReport{}, errors.New("since: want 7d")
	}
	return fixtureReport(), nil
}

func fixtureReport() admin.UsageReport {
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var days []string
	for i := range 14 {
		days = append(days, ledger.Day(start.AddDate(0, 0, i)))
	}
	series := func(names []string, labels []string, scale int64) []admin.UsageSeries {
		var out []admin.UsageSeries
		for i, n := range names {
			s := admin.UsageSeries{Name: n}
			if labels != nil {
				s.Label = labels[i]
			}
			for d, day := range days {
				// A weekly rhythm, each series its own size and phase.
				f := int64(3+(d+i*2)%7) * scale / int64(i+1)
				r := ledger.UsageRow{Day: day, Requests: f, InputTokens: f * 420, OutputTokens: f * 130,
					CachedTokens: f * 40, CostMicros: ledger.Micros(f * 900)}
				s.Days = append(s.Days, r)
				s.Total.Add(r)
			}
			out = append(out, s)
		}
		return out
	}
	rep := admin.UsageReport{From: days[0], To: days[len(days)-1], Days: days,
		Models:    series([]string{"gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash", "text-embedding-3-small"}, nil, 40),
		Keys:      series([]string{"k3f9a", "k81bc", "k07de", "k5520", "k9e41"}, []string{"checkout-svc", "support-bot", "notebook", "ci", "batch"}, 30),
		Consumers: series([]string{"payments", "support", "research"}, nil, 50),
		Routes:    series([]string{"default/chat", "default/claude", "team-a/embeddings", "default/gemini"}, nil, 45),
		Errors:    series([]string{"upstream_error", "rate_limit_exceeded", "client_closed"}, nil, 1),
	}
	for _, m := range rep.Models {
		rep.Total.Add(m.Total)
	}
	return rep
}

func newTestPage(t *testing.T, src Source) *httptest.Server {
	t.Helper()
	p, err := New(Config{Token: testToken, Path: "/admin/ui/", Title: "test"}, src)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}

func TestSignIn(t *testing.T) {
	srv := newTestPage(t, &fixture{})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Signed out: the sign-in form, and no report.
	if status, body := get("/admin/ui/"); status != http.StatusUnauthorized || !strings.Contains(body, `name="token"`) || strings.Contains(body, "usage-data") {
		t.Fatalf("signed out: %d %s", status, body)
	}
	// A wrong token is refused and sets no cookie.
	resp, err := c.PostForm(srv.URL+"/admin/ui/login", url.Values{"token": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(jar.Cookies(mustURL(t, srv.URL+"/admin/ui/"))) != 0 {
		t.Fatalf("wrong token: %d, cookies %v", resp.StatusCode, jar.Cookies(mustURL(t, srv.URL+"/admin/ui/")))
	}
	// The right one signs in: the cookie is HttpOnly, Strict, scoped to the
	// page, and is not the token.
	resp, err = c.PostForm(srv.URL+"/admin/ui/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/ui/" {
		t.Fatalf("sign in: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	set := resp.Request.Response.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/admin/ui/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, testToken) {
		t.Errorf("the cookie carries the token: %q", set)
	}
	status, body := get("/admin/ui/?since=30d")
	if status != http.StatusOK || !strings.Contains(body, `id="usage-data"`) || !strings.Contains(body, "default/chat") {
		t.Fatalf("signed in: %d %s", status, body)
	}
	if strings.Contains(body, testToken) {
		t.Error("the page carries the token")
	}
	// Sign out drops the cookie.
	resp, err = c.PostForm(srv.URL+"/admin/ui/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, _ := get("/admin/ui/"); status != http.StatusUnauthorized {
		t.Errorf("after sign out: %d", status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRoutes(t *testing.T) {
	src := &fixture{}
	srv := newTestPage(t, src)
	session := (&http.Cookie{Name: cookieName, Value: mustPage(t).session}).String()
	tests := []struct {
		name, method, path string
		signedIn           bool
		status             int
		contains           string
	}{
		{"chart library", "GET", "/admin/ui/assets/uplot/uPlot.iife.min.js", false, 200, "uPlot"},
		{"page script", "GET", "/admin/ui/assets/charts.js", false, 200, "usage-data"},
		{"report", "GET", "/admin/ui/", true, 200, "Top routes"},
		{"report escapes its data", "GET", "/admin/ui/", true, 200, `"name":"default/chat"`},
		{"a failing source", "GET", "/admin/ui/?since=bad", true, 502, "could not be read"},
		{"unknown page", "GET", "/admin/ui/nope", true, 404, ""},
		{"outside the path", "GET", "/other", true, 404, ""},
		{"login is a POST", "GET", "/admin/ui/login", false, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if tt.signedIn {
				req.Header.Set("Cookie", session)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.contains) {
				t.Errorf("%s %s: %d, want %d with %q", tt.method, tt.path, resp.StatusCode, tt.status, tt.contains)
			}
		})
	}
	if src.since != "bad" {
		t.Errorf("the source was asked for %q", src.since)
	}
}

func mustPage(t *testing.T) *Page {
	p, err := New(Config{Token: testToken, Path: "/admin/ui/"}, &fixture{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{{}, {Token: "x", Path: "ui"}, {Token: "x", Path: "/ui"}, {Token: "x", Path: "//evil.example/"}} {
		if _, err := New(cfg, &fixture{}); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0"}, {950, "950"}, {1000, "1k"}, {12345, "12.3k"}, {4_560_000, "4.56M"}, {2_000_000_000, "2G"}} {
		if got := count(tt.n); got != tt.want {
			t.Errorf("count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
