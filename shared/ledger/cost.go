package ledger

import "github.com/sluicegw/sluice/shared/api"

// Cost prices u at the ticket's price (the route's policy or the default
// table), as its settle does.
func (t *Ticket) Cost(u api.Usage) Micros {
	return t.price.Cost(u.InputTokens, u.CachedTokens, u.OutputTokens)
}
