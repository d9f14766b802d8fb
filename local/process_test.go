package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDynamoDB answers the DynamoDB JSON protocol just enough for the local
// process to start: tables are missing until created, then active; writes
// succeed, reads find nothing. The operation named fail is refused with a
// ValidationException.
func fakeDynamoDB(t *testing.T, fail string) string {
	var mu sync.Mutex
	created := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		var in struct{ TableName string }
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch op {
		case fail:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"the fake refuses %s"}`, op)
		case "CreateTable":
			mu.Lock()
			created[in.TableName] = true
			mu.Unlock()
			fmt.Fprintf(w, `{"TableDescription":{"TableName":%q,"TableStatus":"ACTIVE"}}`, in.TableName)
		case "DescribeTable":
			mu.Lock()
			exists := created[in.TableName]
			mu.Unlock()
			if !exists {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table %s"}`, in.TableName)
				return
			}
			fmt.Fprintf(w, `{"Table":{"TableName":%q,"TableStatus":"ACTIVE"}}`, in.TableName)
		default:
			mu.Lock()
			missing := in.TableName != "" && !created[in.TableName]
			mu.Unlock()
			if missing { // as DynamoDB answers a read of a table that does not exist
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table %s"}`, in.TableName)
				return
			}
			io.WriteString(w, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestStartFails makes start fail at each stage it can without real
// servers, and checks that it returns that stage's error (no panic from
// the cleanup of a part that never started) and nothing else.
func TestStartFails(t *testing.T) {
	aFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(aFile, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := t.TempDir()
	if err := os.WriteFile(filepath.Join(invalid, "bad.yaml"), []byte("apiVersion: sluice.dev/v1alpha1\nkind: Nonsense\nmetadata: {name: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		jar  string                       // DynamoDBLocal.jar, when DynamoDB Local is to be started
		opts func(c *config, data string) // data is an empty data folder
		want string
	}{
		{"DynamoDB Local jar missing", filepath.Join(t.TempDir(), "DynamoDBLocal.jar"), func(c *config, data string) {}, "start DynamoDB Local"},
		{"DynamoDB Local data folder not creatable", aFile, func(c *config, data string) { c.dataDir = filepath.Join(aFile, "data") }, "start DynamoDB Local"},
		{"DynamoDB endpoint refuses connections", "", func(c *config, data string) { c.gateway.DynamoDBEndpoint = "http://" + closedAddr(t) }, "DynamoDB at http://"},
		{"DynamoDB refuses to create tables", "", func(c *config, data string) { c.gateway.DynamoDBEndpoint = fakeDynamoDB(t, "CreateTable") }, "create table sluice-routes"},
		{"Redis URL malformed", "", func(c *config, data string) { c.gateway.RedisURL = "nonsense://x" }, "redis URL"},
		{"Redis refuses connections", "", func(c *config, data string) { c.gateway.RedisURL = "redis://" + closedAddr(t) }, "redis at"},
		{"admin token unreadable", "", func(c *config, data string) { os.Mkdir(filepath.Join(data, "admin-token"), 0o755) }, "admin token"},
		{"manifests folder missing", "", func(c *config, data string) { c.manifests = filepath.Join(data, "missing") }, "missing"},
		{"manifests invalid (mock providers up)", "", func(c *config, data string) { c.manifests, c.mock = invalid, "auto" }, "are invalid"},
		{"API key unreadable", "", func(c *config, data string) { os.Mkdir(filepath.Join(data, "api-key"), 0o755) }, "API key"},
		{"API key not stored", "", func(c *config, data string) { c.gateway.DynamoDBEndpoint = fakeDynamoDB(t, "TransactWriteItems") }, "API key"},
		{"Lambda bootstrap missing", "", func(c *config, data string) { c.lambda = filepath.Join(data, "bootstrap") }, "gateway: lambdaemu: bootstrap"},
		{"Lambda bootstrap for another machine", "", func(c *config, data string) { c.lambda = foreignBootstrap(t, data) }, foreignReason()},
		// Checked first: DynamoDB Local (its jar missing here) is not tried.
		{"Lambda bootstrap for another machine, before DynamoDB Local", filepath.Join(t.TempDir(), "DynamoDBLocal.jar"),
			func(c *config, data string) { c.lambda = foreignBootstrap(t, data) }, foreignReason()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			c := testConfig(t, data)
			if tt.jar == "" {
				c.gateway.DynamoDBEndpoint = fakeDynamoDB(t, "")
			} else {
				c.dynamoDBJar = tt.jar
			}
			tt.opts(&c, data)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := start(ctx, c, slog.New(slog.DiscardHandler))
			if err == nil {
				p.close()
				t.Fatal("started")
			}
			if p != nil {
				t.Errorf("a failed start returned a process")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestStartWithFakeDynamoDB checks the fake above is enough for start to
// succeed, so that each failure in TestStartFails is the one it names.
func TestStartWithFakeDynamoDB(t *testing.T) {
	c := testConfig(t, t.TempDir())
	c.gateway.DynamoDBEndpoint = fakeDynamoDB(t, "")
	p, err := start(context.Background(), c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.close()
	p.close() // a second close does nothing
	if p.apiKey == "" || p.handler == nil {
		t.Errorf("started without a key or a handler: %+v", p)
	}
}

// testConfig is the configuration of a process keeping its data in
// dataDir, with neither manifests nor mock providers, and otherwise the
// defaults: the environment the test runs in plays no part.
func testConfig(t *testing.T, dataDir string) config {
	t.Helper()
	env := map[string]string{"SLUICE_DATA_DIR": dataDir, "SLUICE_MANIFESTS": "", "SLUICE_MOCK_PROVIDERS": "off"}
	c, err := loadConfig(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// foreignBootstrap writes the header of a Linux executable for a CPU other
// than this machine's, as `make build` (arm64) gives an x86-64 host.
func foreignBootstrap(t *testing.T, dir string) string {
	t.Helper()
	machine := elf.EM_AARCH64
	if runtime.GOARCH == "arm64" {
		machine = elf.EM_X86_64
	}
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT), Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h)
	path := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(path, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// foreignReason is what refusing foreignBootstrap's file says on this OS.
func foreignReason() string {
	if runtime.GOOS == "linux" {
		return "this machine is " + runtime.GOARCH
	}
	return "is a Linux (ELF) executable"
}
