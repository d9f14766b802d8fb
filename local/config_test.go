package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// TestLoadConfig: flags win over the environment, the environment over the
// defaults, and an empty String setting is kept empty.
func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		got  func(config) any
		want any
	}{
		{"default", nil, nil, func(c config) any { return c.manifests }, "examples"},
		{"env", nil, map[string]string{"SLUICE_MANIFESTS": "m"}, func(c config) any { return c.manifests }, "m"},
		{"env empty", nil, map[string]string{"SLUICE_MANIFESTS": ""}, func(c config) any { return c.manifests }, ""},
		{"flag", []string{"-manifests", "f"}, map[string]string{"SLUICE_MANIFESTS": "m"}, func(c config) any { return c.manifests }, "f"},
		{"flag empty", []string{"-manifests", ""}, nil, func(c config) any { return c.manifests }, ""},
		{"gateway setting from env", nil, map[string]string{"SLUICE_KEY_CACHE_TTL": "5s"}, func(c config) any { return c.gateway.KeyCacheTTL }, 5 * time.Second},
		{"gateway setting from flag", []string{"-key-cache=7s"}, map[string]string{"SLUICE_KEY_CACHE_TTL": "5s"}, func(c config) any { return c.gateway.KeyCacheTTL }, 7 * time.Second},
		{"a flag hides a bad variable", []string{"-key-cache", "7s"}, map[string]string{"SLUICE_KEY_CACHE_TTL": "5"}, func(c config) any { return c.gateway.KeyCacheTTL }, 7 * time.Second},
		{"admin setting from flag", []string{"-admin-token", "tok"}, nil, func(c config) any { return c.admin.Token }, "tok"},
		{"shared setting reaches both", []string{"-routes-table", "r"}, nil, func(c config) any { return c.gateway.RoutesTable + " " + c.admin.RoutesTable }, "r r"},
		{"choice", []string{"-mock-providers", "off"}, nil, func(c config) any { return c.mock }, "off"},
		{"given settings", []string{"-max-body", "10"}, map[string]string{"SLUICE_LIMITS_FAIL": "closed", "HOME": "/"},
			func(c config) any {
				return len(c.given) == 2 && c.given["SLUICE_MAX_BODY_BYTES"] == "10" && c.given["SLUICE_LIMITS_FAIL"] == "closed"
			}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, lookupIn(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(c); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBadSettingRefusesToStart runs the local process with a bad value in
// the environment or a flag: it stops before starting anything, with an
// error naming the variable or the flag.
func TestBadSettingRefusesToStart(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr error  // errUsage when the flag package refused the command line
		want    string // in the error, or in the output for errUsage
	}{
		{"max body", nil, map[string]string{"SLUICE_MAX_BODY_BYTES": "abc"}, nil, `SLUICE_MAX_BODY_BYTES="abc": want a whole number above zero`},
		{"key cache without unit", nil, map[string]string{"SLUICE_KEY_CACHE_TTL": "5"}, nil, `SLUICE_KEY_CACHE_TTL="5": want a duration`},
		{"log level", nil, map[string]string{"SLUICE_LOG_LEVEL": "loud"}, nil, `SLUICE_LOG_LEVEL="loud": want debug, info, warn or error`},
		{"limits fail", nil, map[string]string{"SLUICE_LIMITS_FAIL": "maybe"}, nil, `SLUICE_LIMITS_FAIL="maybe": want open or closed`},
		{"mock providers", nil, map[string]string{"SLUICE_MOCK_PROVIDERS": "sometimes"}, nil, `SLUICE_MOCK_PROVIDERS="sometimes": want auto or off`},
		{"key cache flag", []string{"-key-cache", "5"}, nil, errUsage, `invalid value "5" for flag -key-cache: want a duration`},
		{"log level flag", []string{"-log-level=loud"}, nil, errUsage, `invalid value "loud" for flag -log-level: want debug, info, warn or error`},
		{"unknown flag", []string{"-max-body-bytes", "1"}, nil, errUsage, `flag provided but not defined: -max-body-bytes`},
		{"stray argument", []string{"examples"}, nil, nil, `unexpected argument "examples"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, lookupIn(tt.env), &out)
			if err == nil {
				t.Fatal("started")
			}
			where := err.Error()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				where = out.String()
			}
			if !strings.Contains(where, tt.want) {
				t.Errorf("%q does not say %q", where, tt.want)
			}
		})
	}
}

// TestREADMEConfigurationTable: the README's configuration table lists
// every setting the local process and the Lambda functions read (the
// gateway's, the admin API's and the local process's own), with its flag
// and default, and nothing else.
func TestREADMEConfigurationTable(t *testing.T) {
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type row struct{ flag, def string }
	rows := map[string]row{}
	sc := bufio.NewScanner(f)
	section, table := false, false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			section = line == "## Configuration"
			continue
		}
		if !section {
			continue
		}
		if line == "| variable | local flag | default | meaning |" {
			table = true
			continue
		}
		if table && !strings.HasPrefix(line, "|") {
			break
		}
		if !table || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 4 {
			t.Fatalf("README row %q has fewer than four cells", line)
		}
		env := strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")
		if _, dup := rows[env]; dup {
			t.Errorf("README lists %s twice", env)
		}
		rows[env] = row{flag: strings.TrimPrefix(strings.Trim(cells[1], "`"), "-"), def: strings.Trim(cells[2], "`")}
	}
	if len(rows) == 0 {
		t.Fatal("no configuration table under ## Configuration in README.md")
	}
	for _, v := range settings() {
		r, ok := rows[v.Env]
		if !ok {
			t.Errorf("README's configuration table lacks %s", v.Env)
			continue
		}
		delete(rows, v.Env)
		if r.flag != v.Flag {
			t.Errorf("README: %s: flag %q, want %q", v.Env, r.flag, v.Flag)
		}
		if r.def != v.Default {
			t.Errorf("README: %s: default %q, want %q", v.Env, r.def, v.Default)
		}
	}
	for env := range rows {
		t.Errorf("README's configuration table lists %s, which nothing reads", env)
	}
}
