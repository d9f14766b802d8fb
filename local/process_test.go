package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	for _, k := range []string{"SLUICE_ROUTES_TABLE", "SLUICE_LEDGER_TABLE", "SLUICE_DYNAMODB_JAR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
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
		jar  string                        // SLUICE_DYNAMODB_JAR, when DynamoDB Local is to be started
		opts func(o *options, data string) // data is an empty data folder
		want string
	}{
		{"DynamoDB Local jar missing", filepath.Join(t.TempDir(), "DynamoDBLocal.jar"), func(o *options, data string) {}, "start DynamoDB Local"},
		{"DynamoDB Local data folder not creatable", aFile, func(o *options, data string) { o.dataDir = filepath.Join(aFile, "data") }, "start DynamoDB Local"},
		{"DynamoDB endpoint refuses connections", "", func(o *options, data string) { o.dynamoDB = "http://" + closedAddr(t) }, "DynamoDB at http://"},
		{"DynamoDB refuses to create tables", "", func(o *options, data string) { o.dynamoDB = fakeDynamoDB(t, "CreateTable") }, "create table sluice-routes"},
		{"Redis URL malformed", "", func(o *options, data string) { o.redisURL = "nonsense://x" }, "redis URL"},
		{"Redis refuses connections", "", func(o *options, data string) { o.redisURL = "redis://" + closedAddr(t) }, "redis at"},
		{"admin token unreadable", "", func(o *options, data string) { os.Mkdir(filepath.Join(data, "admin-token"), 0o755) }, "admin token"},
		{"manifests folder missing", "", func(o *options, data string) { o.manifests = filepath.Join(data, "missing") }, "missing"},
		{"manifests invalid (mock providers up)", "", func(o *options, data string) { o.manifests, o.mock = invalid, "auto" }, "are invalid"},
		{"API key unreadable", "", func(o *options, data string) { os.Mkdir(filepath.Join(data, "api-key"), 0o755) }, "API key"},
		{"API key not stored", "", func(o *options, data string) { o.dynamoDB = fakeDynamoDB(t, "TransactWriteItems") }, "API key"},
		{"Lambda bootstrap missing", "", func(o *options, data string) { o.lambda = filepath.Join(data, "bootstrap") }, "gateway: lambdaemu: bootstrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			o := options{dataDir: data, mock: "off", maxBody: 1 << 20, refresh: time.Minute, logLevelStr: "error"}
			if tt.jar == "" {
				o.dynamoDB = fakeDynamoDB(t, "")
			} else {
				t.Setenv("SLUICE_DYNAMODB_JAR", tt.jar)
			}
			tt.opts(&o, data)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := start(ctx, o, slog.New(slog.DiscardHandler))
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
	o := options{dataDir: t.TempDir(), mock: "off", maxBody: 1 << 20, refresh: time.Minute, dynamoDB: fakeDynamoDB(t, "")}
	p, err := start(context.Background(), o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.close()
	p.close() // a second close does nothing
	if p.apiKey == "" || p.handler == nil {
		t.Errorf("started without a key or a handler: %+v", p)
	}
}
