package gateway

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/provider"
)

// fanout finishes an exchange whose translator needs more upstream calls
// (provider.Fanout): the first already answered; the rest are sent one
// after another, built and signed like the first (upstreamRequest), and
// every answer is joined into the client's body.
func (ex *exchange) fanout(ctx context.Context, u *upstream, f provider.Fanout, first *http.Response) error {
	b := u.b
	limit := ex.g.cfg.MaxResponseBytes
	read := func(resp *http.Response) ([]byte, error) {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return nil, &api.Error{Kind: errTransport, Status: http.StatusBadGateway, Code: "upstream_cut",
				Message: "backend " + b.Name + " closed the connection mid-response"}
		}
		if int64(len(raw)) > limit {
			return nil, api.Errorf(api.ErrUpstream, "backend %s answered more than %d bytes", b.Name, limit)
		}
		return raw, nil
	}
	raw, err := read(first)
	if err != nil {
		return err
	}
	bodies := [][]byte{raw}
	for _, out := range f.More() {
		req, err := ex.upstreamRequest(ctx, u, out)
		if err != nil {
			return err
		}
		resp, err := ex.g.send(req)
		if err != nil {
			return &api.Error{Kind: errTransport, Status: http.StatusBadGateway, Code: "upstream_unreachable",
				Message: "backend " + b.Name + " could not be reached"}
		}
		raw, err := read(resp)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode >= 300 {
			u.at.status, u.at.header, u.at.errBody = resp.StatusCode, resp.Header, raw
			u.at.retryAfter = resp.Header.Get("Retry-After")
			return u.tr.Error(resp.StatusCode, raw)
		}
		bodies = append(bodies, raw)
	}
	body, err := f.Join(bodies)
	if err != nil {
		return err
	}
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	ex.writeHeader(http.StatusOK)
	_, err = ex.w.Write(body)
	return err
}
