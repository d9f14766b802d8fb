// Command local runs Sluice on one machine with no AWS account: the gateway
// and the admin API on one port, DynamoDB Local for state, an embedded Redis
// (or a real one), the manifests of a folder applied at start, and mock
// providers for backends whose credentials are not configured.
//
//	go run ./local -addr 127.0.0.1:8080 -manifests examples -data-dir .sluice [-redis URL]
//
// With -lambda PATH it runs a real Lambda bootstrap binary behind its own
// Runtime API and API Gateway emulation instead of the in-process handler.
// Its settings are the Lambda functions' and its own, each a flag or, when
// the flag is not given, an environment variable: the README's
// configuration table lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluicegw/sluice/shared/telemetry"
)

func main() {
	// Whatever stops it (Ctrl-C, an IDE's stop button or `timeout`
	// signalling make, a closed terminal, the parent's end), the process
	// stops what it started: DynamoDB Local, the Lambda sandboxes.
	if !stopWithParent() {
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sluice local:", err)
		os.Exit(1)
	}
}

// run reads the settings from args and, for those not given there, from
// the environment through lookup; then it starts the process's parts and
// serves until ctx ends.
//
// The local process keeps Go's default GC (no gateway.TuneGC): its peak
// RSS target is 40 MiB, and within it a larger heap goal bought nothing
// measurable (GOGC=400 under a 20 MiB limit ran at the limit; with 24 MiB
// it gained ~13% requests per CPU-second but peaked at 44 MB).
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stderr io.Writer) error {
	cfg, err := loadConfig(args, lookup, stderr)
	if err != nil {
		return err
	}
	log := telemetry.NewLogger(stderr, telemetry.Text, cfg.gateway.LogLevel)
	cfg.progress = newProgress(stderr)

	// The data folder and the port first, before anything starts: a second
	// process stops here, naming the one that holds them.
	lock, err := lockDataDir(cfg.dataDir)
	if err != nil {
		return err
	}
	defer lock.release()
	ln, err := listen(cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := lock.record(os.Getpid(), ln.Addr().String()); err != nil {
		return fmt.Errorf("data folder %s: %w", cfg.dataDir, err)
	}

	p, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()

	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second}
	// HTTP/1.1, and HTTP/2 without TLS for clients that know the port
	// speaks it (prior knowledge), as a Gateway's HTTP listener may.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	if cfg.pprof != "" {
		servePprof(cfg.pprof, log)
	}
	p.announce(ln.Addr().String())
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

// readOrCreate returns the trimmed content of a file in the data dir, or
// writes make()'s result there (mode 0600) and returns it.
func readOrCreate(path string, valid func(string) bool, make func() (string, error)) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" && valid(s) {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s, err := make()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}
