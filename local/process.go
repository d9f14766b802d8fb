package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/sluicegw/sluice/local/lambdaemu"
	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/balance"
	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/servers"
	"github.com/sluicegw/sluice/shared/store"
	"github.com/sluicegw/sluice/shared/telemetry"
	"github.com/sluicegw/sluice/shared/vectorindex"
	"github.com/sluicegw/sluice/shared/window"
)

// process is everything the local process started, and its handler.
type process struct {
	log     *slog.Logger
	handler http.Handler
	apiKey  string
	closers []func()
	// adminToken signs in to the usage page, by the link announce prints.
	adminToken string

	mocks  *mockSwap             // nil when mock providers are off
	tables *gateway.TableWatcher // the in-process gateway's; nil under -lambda
	lambda *lambdaTables         // the emulated Lambda's tables, when mocks are on
	auth   *ledger.Authenticator
	prom   *telemetry.Prometheus // the in-process gateway's metrics
}

// close stops what the process started, last first. It may be called on
// a process that started only some of its parts, and more than once.
func (p *process) close() {
	if p == nil {
		return
	}
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// start starts the local process's parts and returns its handler. When a
// part fails to start it stops those already started and returns the
// failure, saying which part it was.
func start(ctx context.Context, cfg config, log *slog.Logger) (*process, error) {
	p := &process{log: log}
	if err := p.start(ctx, cfg); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// start starts the parts one after the other, adding a closer for each
// part as soon as it runs; a closer is only added for a part that exists.
func (p *process) start(ctx context.Context, cfg config) error {
	log := p.log
	if cfg.lambda != "" {
		// A bootstrap that cannot run here is refused before anything starts.
		if err := lambdaemu.CheckBootstrap(cfg.lambda); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	}
	dynamoEndpoint := cfg.gateway.DynamoDBEndpoint
	if dynamoEndpoint == "" {
		dataDir, _ := filepath.Abs(filepath.Join(cfg.dataDir, "dynamodb"))
		done := cfg.progress.step("starting DynamoDB Local (Java; data in %s)", dataDir)
		db, err := servers.StartDynamoDB(ctx, servers.DynamoDBOptions{Jar: cfg.dynamoDBJar, DataDir: dataDir})
		if err != nil {
			done("DynamoDB Local did not start")
			return fmt.Errorf("start DynamoDB Local (or pass -dynamodb ENDPOINT): %w", err)
		}
		done("DynamoDB Local is up at %s", db.URL("http"))
		p.closers = append(p.closers, func() { db.Stop() })
		dynamoEndpoint = db.URL("http")
	}
	redisURL := cfg.gateway.RedisURL
	if redisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		p.closers = append(p.closers, mr.Close)
		redisURL = "redis://" + mr.Addr()
	}
	rc, err := window.NewClient(redisURL, log)
	if err != nil {
		return err
	}
	p.closers = append(p.closers, func() { rc.Close() })
	// Redis is pinged while DynamoDB is reached: start time is mostly round
	// trips.
	pinged := make(chan error, 1)
	go func() {
		err := rc.Ping(ctx).Err()
		if err != nil {
			err = fmt.Errorf("redis at %s: %w", rc.Options().Addr, err)
		}
		pinged <- err
	}()

	routesTable, ledgerTable := cfg.gateway.RoutesTable, cfg.gateway.LedgerTable
	db, err := store.NewClient(ctx, dynamoEndpoint)
	if err != nil {
		<-pinged
		return fmt.Errorf("DynamoDB at %s: %w", dynamoEndpoint, err)
	}
	createTables := func() error {
		if err := store.CreateTables(ctx, db, routesTable, ledgerTable); err != nil {
			return fmt.Errorf("DynamoDB at %s: %w", dynamoEndpoint, err)
		}
		return nil
	}
	// Applying manifests and the Lambda emulation need the tables first. A
	// plain restart finds them there, as a deployed stack does: it goes
	// straight to its reads, and creates the tables only when they fail
	// (the first start on a new data folder), which saves start a round of
	// round trips.
	tablesMade := false
	if cfg.manifests != "" || cfg.lambda != "" {
		if err := createTables(); err != nil {
			<-pinged
			return err
		}
		tablesMade = true
	}
	st := store.New(db, routesTable, ledgerTable)
	if err := <-pinged; err != nil {
		return err
	}

	adminToken, err := readOrCreate(filepath.Join(cfg.dataDir, "admin-token"), func(string) bool { return true }, func() (string, error) {
		if cfg.admin.Token != "" {
			return cfg.admin.Token, nil
		}
		var b [24]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:]), nil
	})
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	acfg := cfg.admin
	if acfg.Token == "" {
		acfg.Token = adminToken
	}
	acfg.Logger = log
	acfg.OnChange = p.changed
	adm := admin.New(acfg, st)

	creds := gateway.CredentialsFromEnv(os.Environ())
	var tableStore gateway.TableStore = st
	if cfg.mock != "off" {
		srv := httptest.NewServer(mockProviders())
		p.closers = append(p.closers, srv.Close)
		p.mocks = &mockSwap{url: srv.URL, creds: creds, aws: awsCredentials(), log: log}
		tableStore = mockedTables{st, p.mocks}
	}
	if cfg.manifests != "" {
		if err := p.apply(ctx, adm, cfg); err != nil {
			return err
		}
	}
	// The gateway's key cache checks the saved key, so the first request
	// finds it there; the route table loads meanwhile.
	p.auth = ledger.NewAuthenticator(st, cfg.gateway.KeyCacheTTL, nil)
	for {
		loaded := make(chan error, 1)
		switch {
		case cfg.lambda == "":
			go func() {
				var err error
				p.tables, err = gateway.NewTableWatcher(ctx, tableStore, cfg.gateway.TableRefresh, log)
				loaded <- err
			}()
		case p.mocks != nil:
			go func() {
				var err error
				p.lambda, err = newLambdaTables(ctx, db, tableStore, routesTable+lambdaTablesSuffix, ledgerTable)
				loaded <- err
			}()
		default:
			loaded <- nil
		}
		p.apiKey, err = localKey(ctx, filepath.Join(cfg.dataDir, "api-key"), cfg.apiKey, p.auth, adm, st)
		tablesErr := <-loaded
		if err == nil && tablesErr == nil {
			break
		}
		if tablesMade {
			if err != nil {
				return fmt.Errorf("API key: %w", err)
			}
			return fmt.Errorf("gateway: %w", tablesErr)
		}
		// The tables may be missing: make them, then read again.
		if err := createTables(); err != nil {
			return err
		}
		tablesMade = true
	}

	var gw http.Handler
	if cfg.lambda != "" {
		gw, err = p.lambdaGateway(ctx, cfg, dynamoEndpoint, redisURL)
	} else {
		awsCreds := builtin.AWSCredentials()
		if p.mocks != nil && !p.mocks.aws {
			awsCreds = placeholderAWS()
		}
		// Windows in Redis, budgets and usage in DynamoDB.
		lim := ledger.NewLimiter(ledger.LimiterConfig{FailClosed: cfg.gateway.LimitsFailClosed, Logger: log, BatchUsage: 500 * time.Millisecond},
			window.New(rc), st)
		p.closers = append(p.closers, lim.Close)
		gcfg := cfg.gateway
		gcfg.Providers = builtin.Registry(provider.Deps{Region: gcfg.AWSRegion, Credentials: awsCreds})
		gcfg.Logger, gcfg.Limiter, gcfg.SettleInBackground = log, lim, true
		gcfg.Health = balance.NewRedis(rc, nil) // breakers and cooldowns, on the windows' client
		gcfg.Cache = cache.NewRedis(rc, cache.StoreConfig{Logger: log})
		var idx *vectorindex.Index
		if idx, err = vectorindex.Start(ctx, gcfg.VectorRedisURL, rc, gcfg.VectorSearch, log); err != nil {
			return fmt.Errorf("vector index: %w", err)
		}
		if idx != nil {
			gcfg.Vectors = idx
		}
		var g *gateway.Gateway
		if err = p.telemetry(ctx, &gcfg, log); err == nil {
			g, err = gateway.New(gcfg, p.tables, p.auth, creds)
		}
		if g != nil {
			p.closers = append(p.closers, g.Wait)
			gw = g
		}
	}
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/v1/", adm)
	page, err := usagePage(adm, acfg.Token, log)
	if err != nil {
		return err
	}
	mux.Handle(usagePath, page)
	p.adminToken = acfg.Token
	p.observe(mux, rc, st)
	mux.Handle("/", gw)
	p.handler = mux
	return nil
}

// apply applies the manifests folder through the admin API, as `sluice
// apply -f` would.
func (p *process) apply(ctx context.Context, adm *admin.Admin, cfg config) error {
	files, err := gatewayapi.ReadDir(cfg.manifests)
	if err != nil {
		return err
	}
	req := admin.ApplyRequest{Files: map[string]string{}}
	for name, b := range files {
		req.Files[name] = string(b)
	}
	done := cfg.progress.step("applying %d manifest files from %s", len(files), cfg.manifests)
	resp, status, err := adm.Apply(ctx, req)
	if err != nil {
		done("applying the manifests failed")
		return err
	}
	if status != http.StatusOK {
		done("the manifests were refused")
		return fmt.Errorf("manifests in %s are invalid:\n  %s", cfg.manifests, strings.Join(resp.Problems, "\n  "))
	}
	done("%s", appliedSummary(resp))
	// What status reports (a route no listener takes, a ref that does not
	// resolve, a listener Sluice does not serve) would otherwise stay
	// silent until requests 404 or 500.
	for _, c := range resp.Conditions {
		p.log.Warn("condition: " + c)
	}
	for _, n := range resp.Notices {
		p.log.Debug("note: " + n)
	}
	if len(resp.Notices) > 0 {
		p.log.Info("objects kept as written, not served (see them with -log-level debug or sluice validate)", "count", len(resp.Notices))
	}
	return nil
}

// changed makes a change the admin API stored take effect at once: a new
// route table is loaded now (the gateway's own check runs every
// TableRefresh), and a changed key is read again on its next use (the
// cache keeps records for KeyCacheTTL). Under -lambda the emulated
// function keeps its own caches, as in AWS; its tables are brought up to
// date here when the mock swap serves them.
func (p *process) changed(ctx context.Context, c admin.Change) {
	ctx = context.WithoutCancel(ctx) // a caller who hangs up leaves the change stored
	if c.TableVersion > 0 {
		switch {
		case p.tables != nil:
			p.tables.Refresh(ctx)
		case p.lambda != nil:
			if err := p.lambda.sync(ctx); err != nil {
				p.log.Warn("the Lambda's route table was not updated", "version", c.TableVersion, "error", err)
			}
		}
	}
	if c.KeyID != "" && p.auth != nil {
		p.auth.Forget(c.KeyID)
	}
}

// keyRecords is where a seeded key's record is kept.
type keyRecords interface {
	GetKey(ctx context.Context, id string) (ledger.Key, error)
	PutKey(ctx context.Context, k ledger.Key) error
}

// localKey returns the API key the local process prints: seed, when set
// (SLUICE_API_KEY), created or kept as it is; else the key saved in path
// while the store still accepts it; else a new one. The key is saved in
// path.
func localKey(ctx context.Context, path, seed string, auth *ledger.Authenticator, adm *admin.Admin, keys keyRecords) (string, error) {
	if seed != "" {
		if err := seedKey(ctx, seed, auth, keys); err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		return seed, os.WriteFile(path, []byte(seed+"\n"), 0o600)
	}
	return readOrCreate(path, func(k string) bool {
		_, err := auth.Check(ctx, k)
		return err == nil
	}, func() (string, error) {
		resp, err := adm.CreateKey(ctx, admin.CreateKeyRequest{Name: "local", Consumer: "local"})
		return resp.Key, err
	})
}

// seedKey makes sure the store accepts seed, a full key: kept when it
// does, created when its id is free. A key whose id holds another secret,
// or that was revoked, is an error: a seed never overwrites a record.
func seedKey(ctx context.Context, seed string, auth *ledger.Authenticator, keys keyRecords) error {
	id, secret, err := ledger.ParseKey(seed)
	if err != nil {
		return fmt.Errorf("%s: want a whole key, %s<id>-<secret>: %w", apiKeyVar.Env, ledger.KeyPrefix, err)
	}
	_, err = auth.Check(ctx, seed)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ledger.ErrRevokedKey), errors.Is(err, ledger.ErrExpiredKey):
		return fmt.Errorf("%s: key %s: %w: unset the variable, or seed another key", apiKeyVar.Env, id, err)
	case !errors.Is(err, ledger.ErrUnknownKey):
		return fmt.Errorf("%s: %w", apiKeyVar.Env, err)
	}
	if _, err := keys.GetKey(ctx, id); err == nil {
		return fmt.Errorf("%s: key %s exists with another secret: unset the variable, or seed another key", apiKeyVar.Env, id)
	} else if !errors.Is(err, ledger.ErrKeyNotFound) {
		return fmt.Errorf("%s: %w", apiKeyVar.Env, err)
	}
	k := ledger.Key{ID: id, Name: "local", Consumer: "local", Hash: ledger.HashSecret(secret), State: ledger.KeyActive, Created: time.Now().UTC()}
	if err := keys.PutKey(ctx, k); err != nil {
		return fmt.Errorf("%s: %w", apiKeyVar.Env, err)
	}
	auth.Forget(id) // the check above cached it as missing
	return nil
}

func (p *process) announce(addr string) {
	fmt.Printf(`
Sluice is ready on http://%[1]s  (gateway under /v1, admin API under /admin/v1)
SLUICE_API_KEY=%[2]s

  curl http://%[1]s/v1/chat/completions \
    -H "Authorization: Bearer %[2]s" -H "Content-Type: application/json" \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'

Add "stream":true to stream. Ctrl-C stops everything.
Usage page: %[3]s
`, addr, p.apiKey, usageLink(addr, p.adminToken))
	if p.mocks == nil {
		return
	}
	if m := p.mocks.current(); len(m) > 0 {
		fmt.Println("\nMock providers serve these backends, in this table and every one applied later (set the")
		fmt.Println("variable and restart to reach the provider for real):")
		for _, x := range m {
			fmt.Printf("  %s\n", x)
		}
	}
}
