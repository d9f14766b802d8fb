package gateway

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

// VectorIndex finds, within a scope, the stored question nearest a new
// one (vectorindex.Index). The semantic cache's scope is the request's
// whole context but the question, so only the question is ever compared.
type VectorIndex interface {
	Nearest(ctx context.Context, scope string, vec []float32, threshold float32) (entry string, similarity float32, err error)
	Add(ctx context.Context, scope string, vec []float32, entry string, ttl time.Duration) error
}

// ThresholdHeader lets a request ask for a stricter semantic match than
// its policy's; a lower value than the policy's is ignored.
const ThresholdHeader = "X-Sluice-Cache-Threshold"

// DefaultSimilarity is the cosine similarity a semantic hit needs when the
// policy names none.
const DefaultSimilarity = 0.95

// vectorWait bounds each call to the vector index, as the cache store
// bounds its own: past it the request goes on without the semantic cache.
const vectorWait = 50 * time.Millisecond

// semanticState is the semantic cache's part of one exchange: the scope
// its question is compared in, the question's embedding once made, and
// the embedding call to settle in the ledger.
type semanticState struct {
	scope string
	vec   []float32
	call  *embedCall
}

// semanticHealth counts the semantic cache's failures (embedding calls
// and index calls alike), marks the index down for a second after one so
// that requests skip it at no cost, and logs at most once a minute.
type semanticHealth struct {
	failures atomic.Int64
	logged   atomic.Int64
	down     atomic.Int64 // unix nanoseconds until which the index is skipped
	nextLog  atomic.Int64 // unix nanoseconds before which nothing is logged
}

// SemanticFailures is how many semantic lookups or stores failed (the
// embedding backend or the index) and were served without the semantic
// cache.
func (g *Gateway) SemanticFailures() int64 { return g.semantic.failures.Load() }

func (g *Gateway) semanticFailed(what string, err error, indexDown bool) {
	if errors.Is(err, context.Canceled) {
		return
	}
	n := g.semantic.failures.Add(1)
	now := g.now().UnixNano()
	if indexDown {
		g.semantic.down.Store(now + int64(time.Second))
	}
	next := g.semantic.nextLog.Load()
	if now < next || !g.semantic.nextLog.CompareAndSwap(next, now+int64(time.Minute)) {
		return
	}
	since := n - g.semantic.logged.Swap(n)
	g.log.Warn("semantic cache unavailable: serving without it", slog.String("during", what),
		slog.Int64("failures", since), slog.String("error", err.Error()))
}

func (g *Gateway) vectorsDown() bool { return g.now().UnixNano() < g.semantic.down.Load() }

// semanticThreshold is the similarity a hit needs: the policy's, raised
// by the request's ThresholdHeader if it asks for more.
func semanticThreshold(policy float64, header string) (float32, error) {
	if policy <= 0 {
		policy = DefaultSimilarity
	}
	if header == "" {
		return float32(policy), nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(header), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0, &api.Error{Kind: api.ErrBadRequest, Param: ThresholdHeader,
			Message: ThresholdHeader + " must be a cosine similarity between 0 and 1, got " + strconv.Quote(header)}
	}
	return float32(max(v, policy)), nil
}

// semanticLookup runs after the exact lookup missed: it embeds the
// question, asks the index for the nearest question asked before in the
// same context, and serves that answer if it is similar enough. Any
// failure (embedding backend, index, entry gone) is a miss; only a bad
// ThresholdHeader is the client's error.
func (ex *exchange) semanticLookup(c *cached) (done bool, err error) {
	p := c.policy
	if ex.g.cfg.Vectors == nil || p.EmbeddingBackend == "" {
		return false, nil
	}
	threshold, err := semanticThreshold(p.Threshold, ex.r.Header.Get(ThresholdHeader))
	if err != nil {
		return true, err
	}
	text := c.req.Text()
	if strings.TrimSpace(text) == "" || ex.g.vectorsDown() {
		return false, nil
	}
	table := ex.g.tables.Table()
	if table == nil {
		return false, nil
	}
	backend := p.EmbeddingBackend
	if ns, _, ok := strings.Cut(p.Policy, "/"); ok {
		backend = ns + "/" + backend
	}
	s := &semanticState{scope: c.scope.ContextKey(c.req)}
	ex.semantic = s
	vec, call, err := ex.embed(table, backend, p.EmbeddingModel, text, p.EmbeddingBudget)
	s.call = call
	if err != nil {
		ex.g.semanticFailed("embedding", err, false)
		return false, nil
	}
	s.vec = vec
	ctx, cancel := context.WithTimeout(ex.r.Context(), vectorWait)
	defer cancel()
	entry, sim, err := ex.g.cfg.Vectors.Nearest(ctx, s.scope, vec, threshold)
	if err != nil {
		ex.g.semanticFailed("lookup", err, true)
		return false, nil
	}
	if entry == "" {
		return false, nil
	}
	e, ok, _ := ex.g.cache.Get(ex.r.Context(), entry)
	if !ok {
		return false, nil // expired, evicted or corrupt: the store counts it
	}
	h := ex.w.Header()
	h.Set("X-Sluice-Cache-Similarity", strconv.FormatFloat(float64(sim), 'f', 4, 32))
	served, err := ex.serveCached(&e)
	if !served {
		h.Del("X-Sluice-Cache-Similarity")
	}
	return served, err
}

// semanticStore indexes the question of an answer just stored under key,
// so that later rewordings of it find the answer.
func (ex *exchange) semanticStore(ctx context.Context, key string, ttl time.Duration) {
	s := ex.semantic
	if s == nil || s.vec == nil || ex.g.vectorsDown() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, vectorWait)
	defer cancel()
	if err := ex.g.cfg.Vectors.Add(ctx, s.scope, s.vec, key, ttl); err != nil {
		ex.g.semanticFailed("store", err, true)
	}
}

// settleEmbedding records the embedding call's cost, if one was made.
func (ex *exchange) settleEmbedding() {
	if s := ex.semantic; s != nil && s.call != nil {
		s.call.settle()
	}
}
