// Package usagepage serves the usage page: tokens and cost per model, key
// and consumer over time, the top routes, error rates by kind and cache
// savings, read from the ledger through the admin API's usage report. The
// HTML is rendered on the server; the charts are drawn in the browser by
// uPlot, vendored under assets/, so viewing the page needs no build chain.
//
// The page is behind a token (the admin token locally, a per-run one under
// `sluice ui`). The token is never put in a URL a server logs: people sign
// in with a form, or follow a link carrying it in the fragment (#token=…),
// which browsers never send; the page's script posts it to the form. A
// signed-in browser holds an HttpOnly cookie derived from the token, not
// the token itself.
package usagepage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/sluicegw/sluice/shared/admin"
)

// Source reads the usage report the page shows: the admin handler in the
// local process, the deployed admin API under `sluice ui`.
type Source interface {
	UsageReport(ctx context.Context, since string) (admin.UsageReport, error)
}

// Config holds the page's settings.
type Config struct {
	// Token is what signing in asks for. It must not be empty.
	Token string
	// Path is where the page is mounted, ending in "/" (default "/").
	Path string
	// Title names what the page reports on ("local", an endpoint).
	Title string
	// Hint tells the sign-in form's reader where to find the token.
	Hint   string
	Logger *slog.Logger
}

// Page is the usage page's http.Handler.
type Page struct {
	cfg     Config
	src     Source
	log     *slog.Logger
	session string
	assets  http.Handler
}

//go:embed assets
var assetFS embed.FS

// cookieName is the session cookie's name.
const cookieName = "sluice_usage_session"

// New returns the page over src.
func New(cfg Config, src Source) (*Page, error) {
	if cfg.Token == "" {
		return nil, errors.New("usagepage: a token is required")
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if !strings.HasPrefix(cfg.Path, "/") || !strings.HasSuffix(cfg.Path, "/") {
		return nil, errors.New("usagepage: the path must start and end with /")
	}
	if strings.HasPrefix(cfg.Path, "//") {
		// The page's links start with the path: "//x/" would name a host.
		return nil, errors.New("usagepage: the path must not start with //")
	}
	p := &Page{cfg: cfg, src: src, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	// The cookie is a MAC of a fixed text under the token: it proves the
	// token was given, and the token cannot be read back from it.
	m := hmac.New(sha256.New, []byte(cfg.Token))
	m.Write([]byte("sluice usage page session"))
	p.session = hex.EncodeToString(m.Sum(nil))
	sub, _ := fs.Sub(assetFS, "assets")
	p.assets = http.StripPrefix(cfg.Path+"assets/", http.FileServerFS(sub))
	return p, nil
}

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, p.cfg.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch {
	case strings.HasPrefix(rest, "assets/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Cache-Control", "public, max-age=3600")
		p.assets.ServeHTTP(w, r)
	case rest == "login" && r.Method == http.MethodPost:
		p.login(w, r)
	case rest == "logout" && r.Method == http.MethodPost:
		http.SetCookie(w, p.cookie("", -1, r))
		http.Redirect(w, r, p.cfg.Path, http.StatusSeeOther)
	case rest == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Cache-Control", "no-store")
		if !p.signedIn(r) {
			p.render(w, http.StatusUnauthorized, loginPage(loginView{Title: p.cfg.Title, Path: p.cfg.Path, Hint: p.cfg.Hint, Since: r.URL.Query().Get("since")}))
			return
		}
		p.report(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (p *Page) signedIn(r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(p.session)) == 1
}

func (p *Page) cookie(value string, maxAge int, r *http.Request) *http.Cookie {
	return &http.Cookie{Name: cookieName, Value: value, Path: p.cfg.Path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
}

// login takes the token from the form and, when it is right, sets the
// session cookie and goes back to the page.
func (p *Page) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	token := strings.TrimSpace(r.PostFormValue("token"))
	if subtle.ConstantTimeCompare([]byte(token), []byte(p.cfg.Token)) != 1 {
		w.Header().Set("Cache-Control", "no-store")
		p.render(w, http.StatusUnauthorized, loginPage(loginView{Title: p.cfg.Title, Path: p.cfg.Path, Hint: p.cfg.Hint, Since: r.URL.Query().Get("since"), Wrong: true}))
		return
	}
	http.SetCookie(w, p.cookie(p.session, 0, r))
	back := p.cfg.Path
	if since := r.URL.Query().Get("since"); since != "" {
		back += "?since=" + url.QueryEscape(since)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// periods are the periods the page offers, as `sluice usage --since` takes them.
var periods = []string{"1d", "7d", "14d", "30d", "90d"}

func (p *Page) report(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	if since == "" {
		since = "7d"
	}
	rep, err := p.src.UsageReport(r.Context(), since)
	if err != nil {
		p.log.Error("usage page: reading the usage report failed", "error", err)
		p.render(w, http.StatusBadGateway, errorPage(errorView{Title: p.cfg.Title, Path: p.cfg.Path, Error: err.Error()}))
		return
	}
	data, err := json.Marshal(rep)
	if err != nil {
		p.log.Error("usage page: encoding the report failed", "error", err)
		http.Error(w, "encoding the report failed", http.StatusInternalServerError)
		return
	}
	p.render(w, http.StatusOK, reportPage(reportView{Title: p.cfg.Title, Path: p.cfg.Path, Since: since, Periods: periods, Report: rep,
		Data: jsonForScript(data)}))
}

// jsonForScript makes JSON safe inside a <script> element: no "</script>"
// or "<!--" can end or change it.
func jsonForScript(b []byte) string {
	return strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "\u2028", `\u2028`, "\u2029", `\u2029`).Replace(string(b))
}

// render sends a page the page functions wrote.
func (p *Page) render(w http.ResponseWriter, status int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, page)
}
