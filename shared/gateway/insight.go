package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/telemetry"
)

// errorKind names how a request or an attempt failed, one vocabulary for
// the access log, the metrics, the spans and the ledger's error counters:
// the error code the client read in the answer's body ("upstream_error",
// "rate_limit_exceeded"), so an operator can search the logs for what a
// caller reported. A client that went away before the answer is not a
// gateway failure and is named apart, client_closed, as nginx's 499 is.
func errorKind(err error, r *http.Request) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled):
		return telemetry.KindClientClosed
	case errors.Is(err, errTransport):
		return "upstream_unreachable"
	}
	return api.KindCode(err)
}
