package main

import (
	"log/slog"
	"net/http"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/usagepage"
)

// usagePath is where the local process serves the usage page: beside the
// admin API, where no route can shadow it.
const usagePath = "/admin/ui/"

// usagePage serves the usage page from the in-process admin API, behind
// the admin token.
func usagePage(adm *admin.Admin, token string, log *slog.Logger) (http.Handler, error) {
	return usagepage.New(usagepage.Config{Token: token, Path: usagePath, Title: "local", Logger: log,
		Hint: "Give the admin token: it is in .sluice/admin-token (DATA-DIR/admin-token) of the checkout that runs make local, and in the link make local prints."}, adm)
}

// usageLink is the page's address with the token in the fragment, which
// the browser keeps to itself: following it signs in at once, and no
// server or proxy log sees the token.
func usageLink(addr, token string) string {
	return "http://" + addr + usagePath + "#token=" + token
}
