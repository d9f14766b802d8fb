package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// plan is what the proxy needs to know about one routed request; it travels
// in the request's context from serveHTTPRoute to the ReverseProxy hooks.
type plan struct {
	rule    *route.Rule
	entry   *route.Entry
	ref     *route.BackendRef
	target  *url.URL
	backend string
}

type planKey struct{}

// newReverseProxy builds the one ReverseProxy that serves every plain HTTP
// route; per-request choices come from the plan in the context.
func (g *Gateway) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport:     g.cfg.Transport,
		FlushInterval: -1, // flush at once: streams pass through unbuffered
		Rewrite: func(pr *httputil.ProxyRequest) {
			p := pr.In.Context().Value(planKey{}).(*plan)
			path := pr.In.URL.Path
			host := pr.In.Host
			if rw := mergedRewrite(p); rw != nil {
				if rw.Path != nil {
					path = replacePath(path, rw.Path, p.entry)
				}
				if rw.Hostname != "" {
					host = rw.Hostname
				}
			}
			pr.Out.URL.Path, pr.Out.URL.RawPath = path, ""
			pr.SetURL(p.target)
			pr.Out.Host = host // the client's Host goes through unless rewritten
			pr.SetXForwarded()
			if m := p.rule.Filters.RequestHeaders; m != nil {
				m.Apply(pr.Out.Header)
			}
			if m := p.ref.Filters.RequestHeaders; m != nil {
				m.Apply(pr.Out.Header)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			p := resp.Request.Context().Value(planKey{}).(*plan)
			if m := p.rule.Filters.ResponseHeaders; m != nil {
				m.Apply(resp.Header)
			}
			if m := p.ref.Filters.ResponseHeaders; m != nil {
				m.Apply(resp.Header)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			if errors.Is(err, context.DeadlineExceeded) {
				status = http.StatusGatewayTimeout
			}
			if r.Context().Err() == context.Canceled {
				return // the client is gone
			}
			http.Error(w, http.StatusText(status), status)
		},
		ErrorLog: nil,
	}
}

// mergedRewrite is the backend ref's URLRewrite, else the rule's.
func mergedRewrite(p *plan) *route.Rewrite {
	if p.ref.Filters.Rewrite != nil {
		return p.ref.Filters.Rewrite
	}
	return p.rule.Filters.Rewrite
}

// serveHTTPRoute serves a request on a path outside the AI API as a
// general Gateway API implementation does.
func (ex *exchange) serveHTTPRoute(table *route.Table) error {
	r := ex.r
	rule, entry := table.Match(r, hostOf(r.Host))
	if rule == nil {
		ex.plainError(http.StatusNotFound, "no route matches "+r.URL.Path)
		return nil
	}
	ex.route = rule.Route
	if c := rule.Filters.CORS; c != nil {
		if preflight(r) {
			corsPreflight(ex.w, r, c)
			ex.status = http.StatusOK
			return nil
		}
		corsHeaders(ex.w.Header(), r, c)
	}
	if rd := rule.Filters.Redirect; rd != nil {
		ex.redirect(rd, entry)
		return nil
	}
	bi, ref := pickRef(rule, ex.g.cfg.Rand)
	if bi < 0 {
		ex.plainError(http.StatusInternalServerError, "the route's backend is not valid")
		return nil
	}
	b := &table.Backends[bi]
	ex.backend = b.Name
	if b.Kind == route.KindAIBackend {
		ex.plainError(http.StatusNotFound, "AI backends serve the AI API paths only")
		return nil
	}
	if rd := ref.Filters.Redirect; rd != nil {
		ex.redirect(rd, entry)
		return nil
	}
	endpoint := b.Endpoint
	if len(b.Endpoints) > 1 {
		endpoint = b.Endpoints[ex.g.cfg.Rand(len(b.Endpoints))]
	}
	target, err := url.Parse(endpoint)
	if err != nil {
		ex.plainError(http.StatusInternalServerError, "the route's backend is not valid")
		return nil
	}
	ctx := r.Context()
	if d := minTimeout(rule.Timeout, rule.BackendTimeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if mirrors := append(append([]route.Mirror(nil), rule.Filters.Mirrors...), ref.Filters.Mirrors...); len(mirrors) > 0 {
		if err := ex.mirror(table, mirrors, entry, rule); err != nil {
			return err
		}
	}
	ctx = context.WithValue(ctx, planKey{}, &plan{rule: rule, entry: entry, ref: ref, target: target, backend: b.Name})
	sw := &statusWriter{ResponseWriter: ex.w}
	ex.g.proxy.ServeHTTP(sw, r.WithContext(ctx))
	ex.status, ex.wroteHeader = sw.status, true
	return nil
}

func minTimeout(a, b time.Duration) time.Duration {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// pickRef chooses a backend ref by weight; -1 for an invalid ref's share.
func pickRef(rule *route.Rule, intN func(int) int) (int, *route.BackendRef) {
	var total int32
	for _, b := range rule.Backends {
		total += b.Weight
	}
	if total <= 0 {
		return -1, nil
	}
	x := int32(intN(int(total)))
	for i := range rule.Backends {
		b := &rule.Backends[i]
		if x < b.Weight {
			return b.Backend, b
		}
		x -= b.Weight
	}
	return -1, nil
}

func (ex *exchange) plainError(status int, msg string) {
	ex.status, ex.wroteHeader = status, true
	http.Error(ex.w, msg, status)
}

// redirect answers with the Location the RequestRedirect filter asks for.
func (ex *exchange) redirect(rd *route.Redirect, entry *route.Entry) {
	r := ex.r
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, p
	}
	if rd.Scheme != "" {
		scheme = rd.Scheme
	}
	if rd.Hostname != "" {
		host = rd.Hostname
	}
	// Without a port, a redirect that names a scheme goes to that scheme's
	// well-known port, even when it is the request's own scheme; one that
	// names none stays on the listener's port (here the port the client
	// used). So says the Port field of HTTPRequestRedirectFilter.
	switch {
	case rd.Port != 0:
		port = strconv.Itoa(rd.Port)
	case rd.Scheme != "":
		port = ""
	}
	if port == "80" && scheme == "http" || port == "443" && scheme == "https" {
		port = ""
	}
	path := r.URL.Path
	if rd.Path != nil {
		path = replacePath(path, rd.Path, entry)
	}
	loc := url.URL{Scheme: scheme, Host: host, Path: path, RawQuery: r.URL.RawQuery}
	if port != "" {
		loc.Host = net.JoinHostPort(host, port)
	}
	status := rd.StatusCode
	if status == 0 {
		status = http.StatusFound
	}
	ex.w.Header().Set("Location", loc.String())
	ex.status, ex.wroteHeader = status, true
	ex.w.WriteHeader(status)
}

// replacePath applies a ReplaceFullPath or ReplacePrefixMatch modifier.
// ReplacePrefixMatch swaps only the matched prefix, segment-wise, and never
// leaves "//" where the two meet.
func replacePath(path string, m *route.PathModifier, entry *route.Entry) string {
	if m.Type == "ReplaceFullPath" {
		return m.Value
	}
	prefix := ""
	if entry != nil && entry.Match.Path.Type == route.PathPrefix {
		prefix = entry.Match.Path.Value
	}
	if prefix == "/" {
		prefix = ""
	}
	rest := strings.TrimPrefix(path, prefix)
	repl := m.Value
	switch {
	case rest == "" || rest == "/":
		if repl == "" {
			return "/"
		}
		if rest == "/" && !strings.HasSuffix(repl, "/") {
			return repl + "/"
		}
		return repl
	case strings.HasSuffix(repl, "/"):
		return repl + strings.TrimPrefix(rest, "/")
	}
	return repl + rest
}

// mirror sends a copy of the request to each mirror backend, ignoring the
// answers. The body is read once and replayed to the real backend.
func (ex *exchange) mirror(table *route.Table, mirrors []route.Mirror, entry *route.Entry, rule *route.Rule) error {
	body, err := io.ReadAll(io.LimitReader(ex.r.Body, ex.g.cfg.MaxBodyBytes+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > ex.g.cfg.MaxBodyBytes {
		ex.plainError(http.StatusRequestEntityTooLarge, "request body too large")
		return errBodyTooLarge
	}
	ex.r.Body = io.NopCloser(bytes.NewReader(body))
	for _, m := range mirrors {
		if m.Backend < 0 || m.Percent < 100 && ex.g.cfg.Rand(100) >= m.Percent {
			continue
		}
		b := &table.Backends[m.Backend]
		target, err := url.Parse(b.Endpoint)
		if err != nil {
			continue
		}
		out := ex.r.Clone(context.WithoutCancel(ex.r.Context()))
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.RequestURI = ""
		ref := &route.BackendRef{Backend: m.Backend}
		out = out.WithContext(context.WithValue(out.Context(), planKey{}, &plan{rule: rule, entry: entry, ref: ref, target: target}))
		go func() {
			ctx, cancel := context.WithTimeout(out.Context(), 30*time.Second)
			defer cancel()
			ex.g.proxy.ServeHTTP(discardWriter{h: http.Header{}}, out.WithContext(ctx))
		}()
	}
	return nil
}

var errBodyTooLarge = errors.New("request body too large")

// discardWriter swallows a mirror's answer.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// statusWriter records the status the proxy wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// preflight reports whether r is a CORS preflight request.
func preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// originAllowed matches an origin against the allowed list; "*" and a "*"
// in the host part ("https://*.example.com") are wildcards.
func originAllowed(c *route.CORS, origin string) bool {
	for _, o := range c.AllowOrigins {
		if o == "*" || o == origin {
			return true
		}
		if pre, post, ok := strings.Cut(o, "*"); ok && strings.HasPrefix(origin, pre) && strings.HasSuffix(origin, post) && len(origin) > len(pre)+len(post) {
			return true
		}
	}
	return false
}

func allowOrigin(h http.Header, c *route.CORS, origin string) {
	if len(c.AllowOrigins) == 1 && c.AllowOrigins[0] == "*" && !c.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

func corsPreflight(w http.ResponseWriter, r *http.Request, c *route.CORS) {
	origin := r.Header.Get("Origin")
	h := w.Header()
	if originAllowed(c, origin) {
		allowOrigin(h, c, origin)
		methods := strings.Join(c.AllowMethods, ", ")
		if methods == "*" {
			methods = r.Header.Get("Access-Control-Request-Method")
		}
		if methods != "" {
			h.Set("Access-Control-Allow-Methods", methods)
		}
		headers := strings.Join(c.AllowHeaders, ", ")
		if headers == "*" {
			headers = r.Header.Get("Access-Control-Request-Headers")
		}
		if headers != "" {
			h.Set("Access-Control-Allow-Headers", headers)
		}
		if len(c.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ", "))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusOK)
}

func corsHeaders(h http.Header, r *http.Request, c *route.CORS) {
	origin := r.Header.Get("Origin")
	if origin == "" || !originAllowed(c, origin) {
		return
	}
	allowOrigin(h, c, origin)
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ", "))
	}
}
