package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sluicegw/sluice/shared/route"
)

// backendTransport sends the plain HTTP routes' requests: over HTTP/2
// without TLS (h2c, prior knowledge) to backends whose Service port says
// kubernetes.io/h2c, else over the pooled transport; each attempt bounded
// by the rule's backendRequest timeout, and retried as the rule's retry
// field asks (GEP-1731).
type backendTransport struct {
	http1 http.RoundTripper
	h2c   http.RoundTripper
	// sleep waits between attempts; it returns early with ctx's error.
	sleep func(ctx context.Context, d time.Duration) error
}

// newBackendTransport derives the h2c transport from base when base is an
// *http.Transport, so both share its settings.
func newBackendTransport(base http.RoundTripper) *backendTransport {
	t, ok := base.(*http.Transport)
	if !ok {
		t = NewTransport()
	}
	h2c := t.Clone()
	h2c.Protocols = new(http.Protocols)
	h2c.Protocols.SetUnencryptedHTTP2(true)
	return &backendTransport{http1: base, h2c: h2c, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RoundTrip sends req as its plan says. Without a retry policy it makes one
// attempt. With one, a connection error, or an answer whose status the
// policy lists, is tried again (on another of the backend's endpoints when
// it has several) up to Attempts more times, Backoff apart; the last answer
// or error is the one returned. An attempt that outlives backendRequest
// counts as a 504.
func (bt *backendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p, _ := req.Context().Value(planKey{}).(*plan)
	if p == nil {
		return bt.http1.RoundTrip(req)
	}
	rt := bt.http1
	if p.backend != nil && p.backend.Protocol == route.ProtocolH2C {
		rt = bt.h2c
	}
	attempts := 1
	if p.retry != nil && p.retry.Attempts > 0 {
		attempts += p.retry.Attempts
	}
	host := req.URL.Host
	for try := 1; ; try++ {
		out := req
		if try > 1 {
			out = req.Clone(req.Context())
			out.URL.Host = p.nextHost(host)
			host = out.URL.Host
			if p.body != nil {
				out.Body = io.NopCloser(bytes.NewReader(p.body))
			}
		}
		resp, err := bt.attempt(rt, out, p.backendTimeout)
		retry := try < attempts && req.Context().Err() == nil
		switch {
		case err == nil && retry && p.retry.Retries(resp.StatusCode):
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		case err != nil && retry && (!errors.Is(err, context.DeadlineExceeded) || p.retry.Retries(http.StatusGatewayTimeout)):
		default:
			return resp, err
		}
		if err := bt.sleep(req.Context(), p.retry.Backoff); err != nil {
			return nil, err
		}
	}
}

// attempt sends one request, bounded by timeout when it is set; the bound
// covers the answer's body too, so it ends when the body is closed.
func (bt *backendTransport) attempt(rt http.RoundTripper, req *http.Request, timeout time.Duration) (*http.Response, error) {
	if timeout <= 0 {
		return rt.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if ctx.Err() != nil && req.Context().Err() == nil {
			err = context.DeadlineExceeded // the attempt's bound, not the client's
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody releases an attempt's timeout when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelBody) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// nextHost picks the endpoint a retry goes to: another of the backend's
// endpoints than the last one tried, drawn with the gateway's Config.Rand,
// when it has several.
func (p *plan) nextHost(last string) string {
	if p.backend == nil || len(p.backend.Endpoints) < 2 {
		return last
	}
	var others []string
	for _, e := range p.backend.Endpoints {
		if u, err := url.Parse(e); err == nil && u.Host != last {
			others = append(others, u.Host)
		}
	}
	if len(others) == 0 {
		return last
	}
	return others[p.rand(len(others))]
}
