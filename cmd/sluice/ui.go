package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/usagepage"
)

// ui serves the usage page on addr, a loopback address, reading the admin
// API the client talks to: the deployed one behind IAM, which a browser
// cannot sign for, is read with the user's AWS credentials (SigV4). The
// page asks for a token made for this run; the link printed carries it in
// its fragment, so following it signs in. It serves until ctx ends or
// Ctrl-C.
func (c *client) ui(ctx context.Context, addr string, out io.Writer) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("--addr %s: the page shows what the admin API holds to whoever reaches it; serve it on a loopback address (127.0.0.1:PORT)", addr)
	}
	var b [24]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	page, err := usagepage.New(usagepage.Config{Token: token, Path: "/", Title: c.endpoint,
		Hint: "Follow the link sluice ui printed: it carries a token made for this run."}, reportSource{c})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve the usage page: %w", err)
	}
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(out, "Usage page of %s: http://%s/#token=%s\nCtrl-C stops it.\n", c.endpoint, ln.Addr(), token)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-served:
		return fmt.Errorf("serve the usage page: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// reportSource reads the usage report through the admin API, signed as
// every CLI request is.
type reportSource struct{ c *client }

func (s reportSource) UsageReport(ctx context.Context, since string) (admin.UsageReport, error) {
	var rep admin.UsageReport
	_, err := s.c.do(ctx, http.MethodGet, "/admin/v1/usage/report?since="+url.QueryEscape(since), nil, &rep)
	return rep, err
}
