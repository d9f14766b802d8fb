package gateway

import (
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sluicegw/sluice/shared/ledger"
)

// Embed runs the semantic cache's embedding call as a request r of key
// would, settling its cost as the request's end does.
func (g *Gateway) Embed(r *http.Request, key ledger.Key, backend, model, text string, budget time.Duration) ([]float32, error) {
	ex := &exchange{g: g, w: httptest.NewRecorder(), r: r, start: g.now(), id: "req-embed", key: key}
	vec, call, err := ex.embed(g.tables.Table(), backend, model, text, budget)
	call.settle()
	return vec, err
}
