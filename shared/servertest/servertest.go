// Package servertest gives tests the real servers they run against, started
// once per test binary on free loopback ports. In short mode (go test
// -short, make unit) a test that needs one is skipped before anything
// starts. A missing server skips the test with what to install, unless
// SLUICE_REQUIRE_SERVERS=1, which makes it a failure (CI sets it).
package servertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/sluicegw/sluice/shared/servers"
	"github.com/sluicegw/sluice/shared/store"
)

// Env holds the servers a test binary started.
type Env struct {
	mu        sync.Mutex
	dynamo    *servers.Server
	dynamoErr error
	redis     *servers.Server
	redisErr  error
	tables    int
}

// Main runs the tests and then stops the servers they started. Call it from
// TestMain: os.Exit(servertest.Main(m, &env)).
func Main(m *testing.M, e *Env) int {
	code := m.Run()
	e.dynamo.Stop()
	e.redis.Stop()
	return code
}

// skipShort skips t in short mode, before a server is started.
func skipShort(t testing.TB, server string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping in short mode: needs %s", server)
	}
}

func require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, servers.ErrMissing) && os.Getenv("SLUICE_REQUIRE_SERVERS") != "1" {
		t.Skipf("skipping: %v (set SLUICE_REQUIRE_SERVERS=1 to make this a failure)", err)
	}
	t.Fatalf("test server: %v", err)
}

// DynamoDB returns the endpoint of DynamoDB Local, in memory.
func (e *Env) DynamoDB(t testing.TB) string {
	t.Helper()
	skipShort(t, "DynamoDB Local")
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dynamo == nil && e.dynamoErr == nil {
		e.dynamo, e.dynamoErr = servers.StartDynamoDB(context.Background(), servers.DynamoDBOptions{})
	}
	require(t, e.dynamoErr)
	return e.dynamo.URL("http")
}

// Store returns a Store over fresh tables of its own in DynamoDB Local.
func (e *Env) Store(t testing.TB) (st *store.Store, endpoint, routesTable, ledgerTable string) {
	t.Helper()
	endpoint = e.DynamoDB(t)
	e.mu.Lock()
	e.tables++
	routesTable, ledgerTable = fmt.Sprintf("routes-%d", e.tables), fmt.Sprintf("ledger-%d", e.tables)
	e.mu.Unlock()
	ctx := context.Background()
	db, err := store.NewClient(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateTables(ctx, db, routesTable, ledgerTable); err != nil {
		t.Fatal(err)
	}
	return store.New(db, routesTable, ledgerTable), endpoint, routesTable, ledgerTable
}

// Redis returns the address (host:port) of a real redis-server.
func (e *Env) Redis(t testing.TB) string {
	t.Helper()
	skipShort(t, "redis-server")
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.redis == nil && e.redisErr == nil {
		e.redis, e.redisErr = servers.StartRedis(context.Background(), nil)
	}
	require(t, e.redisErr)
	return e.redis.Addr
}

// OwnRedis starts a redis-server for t alone, for a test that stops it;
// the server is stopped when t ends, if it still runs.
func OwnRedis(t testing.TB) *servers.Server {
	t.Helper()
	skipShort(t, "redis-server")
	s, err := servers.StartRedis(context.Background(), nil)
	require(t, err)
	t.Cleanup(func() { s.Stop() })
	return s
}
