// Command local runs Sluice on one machine with no AWS account: the gateway
// and the admin API on one port, DynamoDB Local for state, an embedded Redis
// (or a real one), the manifests of a folder applied at start, and mock
// providers for backends whose credentials are not configured.
//
//	go run ./local -addr 127.0.0.1:8080 -manifests examples -data-dir .sluice [-redis URL]
//
// With -lambda PATH it runs a real Lambda bootstrap binary behind its own
// Runtime API and API Gateway emulation instead of the in-process handler.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/window"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sluice local:", err)
		os.Exit(1)
	}
}

// The local process keeps Go's default GC (no gateway.TuneGC): its peak
// RSS target is 40 MiB, and within it a larger heap goal bought nothing
// measurable (GOGC=400 under a 20 MiB limit ran at the limit; with 24 MiB
// it gained ~13% requests per CPU-second but peaked at 44 MB).
func run() error {
	var o options
	fs := flag.NewFlagSet("local", flag.ExitOnError)
	o.register(fs)
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: o.logLevel()}))
	window.LogRedisTo(log)

	p, err := start(ctx, o, log)
	if err != nil {
		return err
	}
	defer p.close()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.addr, err)
	}
	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if addr := os.Getenv("SLUICE_PPROF"); addr != "" {
		servePprof(addr, log)
	}
	p.announce(ln.Addr().String())
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

// options are the local process's settings: flags, or SLUICE_* variables.
type options struct {
	addr        string
	manifests   string
	dataDir     string
	redisURL    string
	dynamoDB    string
	lambda      string
	adminToken  string
	mock        string
	maxBody     int64
	refresh     time.Duration
	logLevelStr string
	limitsFail  string
	keyCache    time.Duration
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.addr, "addr", env("SLUICE_ADDR", "127.0.0.1:8080"), "address to serve the gateway and admin API on ($SLUICE_ADDR)")
	fs.StringVar(&o.manifests, "manifests", env("SLUICE_MANIFESTS", "examples"), "file or folder of manifests to apply at start; empty applies none ($SLUICE_MANIFESTS)")
	fs.StringVar(&o.dataDir, "data-dir", env("SLUICE_DATA_DIR", ".sluice"), "where DynamoDB Local data, the API key and the admin token live ($SLUICE_DATA_DIR)")
	fs.StringVar(&o.redisURL, "redis", env("SLUICE_REDIS_URL", ""), "Redis URL; empty runs an embedded one ($SLUICE_REDIS_URL)")
	fs.StringVar(&o.dynamoDB, "dynamodb", env("SLUICE_DYNAMODB_ENDPOINT", ""), "use this DynamoDB endpoint instead of starting DynamoDB Local ($SLUICE_DYNAMODB_ENDPOINT)")
	fs.StringVar(&o.lambda, "lambda", env("SLUICE_LAMBDA", ""), "serve the gateway by running this Lambda bootstrap under the built-in emulator ($SLUICE_LAMBDA)")
	fs.StringVar(&o.adminToken, "admin-token", env("SLUICE_ADMIN_TOKEN", ""), "admin API token; empty makes one and writes it to DATA-DIR/admin-token ($SLUICE_ADMIN_TOKEN)")
	fs.StringVar(&o.mock, "mock-providers", env("SLUICE_MOCK_PROVIDERS", "auto"), "auto: serve backends whose credential is not set from a mock provider; off: never ($SLUICE_MOCK_PROVIDERS)")
	fs.Int64Var(&o.maxBody, "max-body", 8<<20, "request body limit in bytes")
	fs.DurationVar(&o.refresh, "table-refresh", 10*time.Second, "how often the gateway checks for a new route table")
	fs.StringVar(&o.limitsFail, "limits-fail", env("SLUICE_LIMITS_FAIL", "open"), "open: with Redis or the ledger down, admit requests without limits (logged); closed: refuse them ($SLUICE_LIMITS_FAIL)")
	fs.DurationVar(&o.keyCache, "key-cache", envDuration("SLUICE_KEY_CACHE_TTL", ledger.DefaultKeyCacheTTL), "how long key records are cached: a revoked key is refused within this bound ($SLUICE_KEY_CACHE_TTL)")
	fs.StringVar(&o.logLevelStr, "log-level", env("SLUICE_LOG_LEVEL", "info"), "debug, info, warn or error ($SLUICE_LOG_LEVEL)")
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func (o *options) logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(o.logLevelStr)); err != nil {
		return slog.LevelInfo
	}
	return l
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
