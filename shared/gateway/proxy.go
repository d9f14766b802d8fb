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

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/route"
)

// plan is what the proxy needs to know about one routed request; it travels
// in the request's context from serveHTTPRoute to the ReverseProxy hooks.
type plan struct {
	rule    *route.Rule
	entry   *route.Entry
	ref     *route.BackendRef
	target  *url.URL
	backend *route.Backend
	// retry and backendTimeout govern the attempts (see backendTransport);
	// body holds the request body when a retry may send it again.
	retry          *route.Retry
	backendTimeout time.Duration
	body           []byte
	rand           func(n int) int // the gateway's Config.Rand
}

type planKey struct{}

// newReverseProxy builds the one ReverseProxy that serves every plain HTTP
// route; per-request choices come from the plan in the context.
func (g *Gateway) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport:     newBackendTransport(g.cfg.Transport),
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
		ex.redirect(rd, rule, entry)
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
		ex.redirect(rd, rule, entry)
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
	if rule.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rule.Timeout)
		defer cancel()
	}
	if mirrors := append(append([]route.Mirror(nil), rule.Filters.Mirrors...), ref.Filters.Mirrors...); len(mirrors) > 0 {
		if err := ex.mirror(table, mirrors, entry, rule); err != nil {
			return err
		}
	}
	p := &plan{rule: rule, entry: entry, ref: ref, target: target, backend: b, retry: rule.Retry, backendTimeout: rule.BackendTimeout, rand: ex.g.cfg.Rand}
	if rule.Retry != nil && rule.Retry.Attempts > 0 && r.Body != nil && r.Body != http.NoBody {
		// A retry sends the body again: keep it, within the body limit.
		body, err := io.ReadAll(io.LimitReader(r.Body, ex.g.cfg.MaxBodyBytes+1))
		if err != nil {
			return err
		}
		if int64(len(body)) > ex.g.cfg.MaxBodyBytes {
			ex.plainError(http.StatusRequestEntityTooLarge, "request body too large")
			return errBodyTooLarge
		}
		p.body = body
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	ctx = context.WithValue(ctx, planKey{}, p)
	sw := &statusWriter{ResponseWriter: ex.w}
	ex.g.proxy.ServeHTTP(sw, r.WithContext(ctx))
	ex.status, ex.wroteHeader = sw.status, true
	return nil
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
	if strings.HasPrefix(ex.r.URL.Path, "/v1/") {
		// The AI API's clients read errors in their protocol's shape, on
		// paths the gateway does not serve as much as on those it does.
		err := &api.Error{Kind: kindOfStatus(status), Status: status, Message: msg}
		if ex.anthropic {
			api.WriteAnthropicError(ex.w, err)
		} else {
			api.WriteOpenAIError(ex.w, err)
		}
		return
	}
	http.Error(ex.w, msg, status)
}

// kindOfStatus is the error kind of the gateway's own plain answers.
func kindOfStatus(status int) error {
	switch status {
	case http.StatusNotFound:
		return api.ErrNotFound
	case http.StatusServiceUnavailable:
		return api.ErrUnavailable
	}
	return api.ErrNoBackend
}

// redirect answers with the Location the RequestRedirect filter asks for.
// As the filter's Port field says: with neither a scheme nor a port in the
// filter, the port is the listener's; with a scheme and no port, that
// scheme's well-known port; a port that is the scheme's default is left
// out. The listener is the one of the route's that the request came to
// (see listenerOf), never simply the port the client connected to: the
// front door serves every listener on one port.
func (ex *exchange) redirect(rd *route.Redirect, rule *route.Rule, entry *route.Entry) {
	r := ex.r
	host, hostPort := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, hostPort = h, p
	}
	scheme := requestScheme(r)
	l, ok := listenerOf(rule.Listeners, scheme, hostPort)
	port := hostPort // a table compiled without listeners: the Host's port
	if ok {
		port = strconv.Itoa(int(l.Port))
		if scheme == "" {
			scheme = l.Scheme
		}
	}
	if scheme == "" {
		scheme = "http"
	}
	if rd.Scheme != "" {
		scheme = rd.Scheme
	}
	if rd.Hostname != "" {
		host = rd.Hostname
	}
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

// requestScheme is the scheme the client used, when the request says:
// https over TLS, else X-Forwarded-Proto as the front door (API Gateway)
// sets it; "" when nothing says.
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	switch p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p {
	case "http", "https":
		return p
	}
	return ""
}

// listenerOf picks, among the listeners a route is attached to (lowest
// port first), the one a request came to: of its scheme when known (else
// an HTTP one, as the plain front door is), and on the Host header's port
// when one of them is.
func listenerOf(ls []route.Listener, scheme, hostPort string) (route.Listener, bool) {
	want := scheme
	if want == "" {
		want = "http"
	}
	var best route.Listener
	found := false
	for _, l := range ls {
		if l.Scheme != want {
			continue
		}
		if strconv.Itoa(int(l.Port)) == hostPort {
			return l, true
		}
		if !found {
			best, found = l, true
		}
	}
	if !found && scheme == "" && len(ls) > 0 {
		return ls[0], true // only HTTPS listeners: TLS ended at the front door
	}
	return best, found
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
		out = out.WithContext(context.WithValue(out.Context(), planKey{}, &plan{rule: rule, entry: entry, ref: ref, target: target, backend: b}))
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
