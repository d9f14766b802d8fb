package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/route"
)

// Cache keeps whole answers (cache.Redis). Both calls wait at most a
// short bound and fail quietly: the gateway serves without the cache.
type Cache interface {
	Get(ctx context.Context, key string) (e cache.Entry, ok bool, err error)
	Set(ctx context.Context, key string, e *cache.Entry, ttl time.Duration) error
}

// Values of the x-sluice-cache header and of exchange.cacheResult.
const (
	cacheHit    = "hit"
	cacheMiss   = "miss"
	cacheBypass = "bypass"
)

// cached is the cache's state of one exchange whose rule has a CachePolicy.
type cached struct {
	policy *route.Cache
	proto  cache.Protocol
	req    *cache.Request
	scope  cache.Scope
	key    string // the exact key the answer is stored under; "" when not stored
	tap    *cacheTap
	saved  api.Usage // the stored answer's usage, on a hit
}

// cacheProtocol is the cached protocol of an endpoint, "" for those whose
// answers are not cached.
func cacheProtocol(ep api.Endpoint) cache.Protocol {
	switch ep {
	case api.EndpointChatCompletions:
		return cache.ChatCompletions
	case api.EndpointMessages:
		return cache.Messages
	case api.EndpointResponses:
		return cache.Responses
	}
	return ""
}

// cacheLookup runs before any backend is chosen, after admission (a hit
// still counts against rate limits). It serves a hit and reports done, or
// readies the exchange to store the answer it is about to relay. Without a
// store (no Redis configured) every request on the route is a bypass.
func (ex *exchange) cacheLookup(p *route.Cache, ep api.Endpoint, body []byte) (done bool, err error) {
	ex.cacheResult = cacheBypass
	defer func() {
		if !done {
			ex.w.Header().Set("X-Sluice-Cache", ex.cacheResult)
		}
	}()
	proto := cacheProtocol(ep)
	if proto == "" || ex.g.cache == nil {
		return false, nil
	}
	req, err := cache.Canonical(proto, body, cache.Selection{Turns: p.Turns})
	if err != nil || req.Temperature > 0 && !p.AllowTemperature {
		return false, nil // a bad body is the translator's to refuse, in the client's protocol
	}
	c := &cached{policy: p, proto: proto, req: req, scope: cache.Scope{Route: p.Scope}}
	switch {
	case p.PerKey || p.PerConsumer && ex.key.Consumer == "":
		c.scope.Tenant = "key:" + ex.key.ID
	case p.PerConsumer:
		c.scope.Tenant = "consumer:" + ex.key.Consumer
	}
	ex.cache = c
	noCache, noStore := cacheControl(ex.r.Header.Get("Cache-Control"))
	key := c.scope.ExactKey(req)
	if !noCache && p.Exact {
		if e, ok, _ := ex.g.cache.Get(ex.r.Context(), key); ok {
			if served, err := ex.serveCached(&e); served {
				return true, err
			}
		}
	}
	if !noCache && p.Semantic {
		if done, err := ex.semanticLookup(c); done {
			return true, err
		}
	}
	if !noCache {
		ex.cacheResult = cacheMiss
	}
	if !noStore {
		c.key = key
		c.tap = &cacheTap{limit: p.MaxBytes}
		if ex.stream {
			c.tap.col = cache.NewCollector(proto, p.MaxBytes)
		}
		ex.tapped().cache = c.tap
	}
	return false, nil
}

// cacheControl reads the request directives the cache obeys: no-cache
// skips the lookup, no-store the write.
func cacheControl(v string) (noCache, noStore bool) {
	for d := range strings.SplitSeq(v, ",") {
		switch strings.ToLower(strings.TrimSpace(d)) {
		case "no-cache":
			noCache = true
		case "no-store":
			noStore = true
		}
	}
	return
}

// serveCached answers with a stored entry, as a plain body or a stream as
// the request asks, with a fresh id. It reports false, having written
// nothing, when the entry turns out not to decode.
func (ex *exchange) serveCached(e *cache.Entry) (bool, error) {
	c := ex.cache
	f := cache.Fresh{ID: "chatcmpl-" + ex.id[4:], Created: ex.g.now()}
	switch c.proto {
	case cache.Messages:
		f.ID = "msg_" + ex.id[4:]
	case cache.Responses:
		f.ID = "resp_" + ex.id[4:]
	}
	var out []byte
	if ex.stream {
		var err error
		if out, err = cache.Stream(nil, c.proto, e, f, c.req.IncludeUsage); err != nil {
			return false, nil
		}
	} else {
		out = cache.Plain(c.proto, e, f)
	}
	ex.cacheResult = cacheHit
	ex.savedTokens = e.Usage.Total()
	c.saved = e.Usage
	h := ex.w.Header()
	h.Set("X-Sluice-Cache", cacheHit)
	h.Set("X-Sluice-Cache-Saved-Tokens", strconv.FormatInt(ex.savedTokens, 10))
	if ex.stream {
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
	} else {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(out)))
	}
	ex.writeHeader(http.StatusOK)
	if _, err := ex.w.Write(out); err != nil {
		return true, fmt.Errorf("client went away: %w", err)
	}
	if ex.stream {
		http.NewResponseController(ex.w).Flush()
	}
	return true, nil
}

// cacheStore stores the answer just relayed when it was whole, successful
// and of a kind the policy keeps. It runs after the last byte is flushed.
func (ex *exchange) cacheStore() {
	c := ex.cache
	if c == nil || c.key == "" || ex.status != http.StatusOK || ex.tr == nil {
		return
	}
	var body []byte
	var finish string
	var ok bool
	if c.tap.col != nil {
		body, finish, ok = c.tap.col.Answer(ex.tr.Usage())
	} else if !c.tap.over {
		body = c.tap.body
		finish, ok = cache.Finish(c.proto, body)
	}
	if !ok || !cache.Storable(finish, c.policy.AllowLengthCut, c.policy.AllowToolCalls) {
		return
	}
	e := &cache.Entry{Stored: ex.g.now(), Model: ex.model, Body: body, Usage: ex.tr.Usage()}
	// The client has every byte by now; storing before the handler returns
	// means the next request on the same connection finds the answer, and
	// in Lambda that the sandbox is not frozen with the write unsent.
	ctx := context.WithoutCancel(ex.r.Context())
	if ex.g.cache.Set(ctx, c.key, e, c.policy.TTL) == nil { // failures are counted and logged by the store
		ex.semanticStore(ctx, c.key, c.policy.TTL)
	}
}

// cacheTap sees what the client is sent on a cache miss (through the
// exchange's tap): a plain body is kept (up to the policy's bound), a
// stream is added up by a collector.
type cacheTap struct {
	limit int
	body  []byte
	over  bool
	col   *cache.Collector
}

func (t *cacheTap) see(b []byte) {
	switch {
	case t.col != nil:
		t.col.Write(b)
	case !t.over && len(t.body)+len(b) <= t.limit:
		t.body = append(t.body, b...)
	default:
		t.over, t.body = true, nil
	}
}
