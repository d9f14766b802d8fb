package gateway

import (
	"context"
	"errors"

	"github.com/sluicegw/sluice/shared/api"
)

// failureKind names how an exchange failed, for the ledger's error
// counters: a client that went away before the answer is not a gateway
// failure and is named apart, as nginx's 499 does.
func (ex *exchange) failureKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled) || errors.Is(ex.r.Context().Err(), context.Canceled):
		return "client_closed"
	}
	return api.KindCode(err)
}
