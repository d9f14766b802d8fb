package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// localToken finds the admin token the local process keeps in its data
// folder (.sluice, or $SLUICE_DATA_DIR): in the working folder or the
// nearest one above it that has one, up to the top of the checkout (the
// folder holding .git), so the CLI works from any subfolder of the
// checkout that runs `make local`. It returns the token, the file it came
// from, and every file it looked for, for the message of a 401.
func localToken(wd string) (token, path string, looked []string) {
	dataDir := envOr("SLUICE_DATA_DIR", ".sluice")
	try := func(p string) bool {
		looked = append(looked, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return false
		}
		token, path = strings.TrimSpace(string(b)), p
		return token != ""
	}
	if filepath.IsAbs(dataDir) {
		try(filepath.Join(dataDir, "admin-token"))
		return token, path, looked
	}
	for dir := wd; ; {
		if try(filepath.Join(dir, dataDir, "admin-token")) {
			return token, path, looked
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", "", looked // the top of the checkout
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", looked
		}
		dir = parent
	}
}

// unauthorizedHint says which token the CLI sent to a local admin API that
// refused it, and where it looked when it sent none.
func (c *client) unauthorizedHint() string {
	if c.tokenSource != "" {
		return fmt.Sprintf("the CLI sent %s, which the admin API at %s does not take: is the local process running from "+
			"another checkout or with another data folder? Pass the token in its DATA-DIR/admin-token with --admin-token", c.tokenSource, c.endpoint)
	}
	return fmt.Sprintf("the CLI sent no token: --admin-token and $SLUICE_ADMIN_TOKEN are unset, and it found no token file "+
		"(looked for %s). Run it inside the checkout that runs `make local`, or pass the token in the local process's "+
		"DATA-DIR/admin-token with --admin-token", strings.Join(c.looked, ", "))
}
