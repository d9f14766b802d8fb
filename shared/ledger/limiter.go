package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

// DefaultMaxTokens is reserved for the output of a request that sets no
// max tokens, unless the policy or the limiter's config says otherwise.
const DefaultMaxTokens = 4096

// DefaultSettleTimeout bounds how long a settle keeps retrying a failing
// store before it gives up and logs the lost debit.
const DefaultSettleTimeout = 30 * time.Second

// LimiterConfig holds a Limiter's settings; zero values mean the defaults.
type LimiterConfig struct {
	// FailClosed refuses requests (503) when the window store (Redis) or
	// the budget store fails; the default is to admit them and log.
	FailClosed bool
	// DefaultMaxTokens is reserved for requests that set no max tokens
	// (default DefaultMaxTokens); a policy's value wins.
	DefaultMaxTokens int64
	// Prices are the default prices (nil: DefaultPrices); a policy's
	// prices override them per model.
	Prices map[string]Price
	// SettleTimeout bounds a settle's retries (default DefaultSettleTimeout).
	SettleTimeout time.Duration
	// BatchUsage, when set and the budget store is a BatchStore, sums the
	// usage of requests that reserved nothing and writes it this often,
	// instead of one write per request (the local process, where DynamoDB
	// Local is slow). Call Close to write the last batch. Zero (Lambda):
	// every request is settled on its own before its response ends.
	BatchUsage time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Limiter admits requests against their key's and policy's limits and
// settles what they cost. It is safe for concurrent use.
type Limiter struct {
	cfg     LimiterConfig
	windows WindowStore
	budgets BudgetStore
	log     *slog.Logger
	now     func() time.Time

	lastWarn atomic.Int64 // unix nanoseconds of the last fail-open warning
	batch    *batcher
}

// NewLimiter returns a Limiter. A nil windows store leaves per-minute
// limits unenforced; a nil budgets store leaves durable limits unenforced
// and records no usage.
func NewLimiter(cfg LimiterConfig, windows WindowStore, budgets BudgetStore) *Limiter {
	if cfg.DefaultMaxTokens <= 0 {
		cfg.DefaultMaxTokens = DefaultMaxTokens
	}
	if cfg.Prices == nil {
		cfg.Prices = DefaultPrices
	}
	if cfg.SettleTimeout <= 0 {
		cfg.SettleTimeout = DefaultSettleTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limiter{cfg: cfg, windows: windows, budgets: budgets, log: cfg.Logger, now: cfg.Now}
	if bs, ok := budgets.(BatchStore); ok && cfg.BatchUsage > 0 {
		l.batch = newBatcher(l, bs, cfg.BatchUsage)
	}
	return l
}

func (l *Limiter) batchClosed() bool {
	select {
	case <-l.batch.stop:
		return true
	default:
		return false
	}
}

// Close writes the usage still batched in memory; settles after it are
// written one by one.
func (l *Limiter) Close() {
	if b := l.batch; b != nil {
		b.close()
	}
}

// Request is what admission needs to know of one request.
type Request struct {
	ID     string // the request id: settles are idempotent per id
	Key    Key
	Model  string
	Body   []byte
	Policy *Policy // the route's TokenLimitPolicy, if any
	// NoOutput is set for operations that generate no tokens (embeddings):
	// nothing is reserved for output then.
	NoOutput bool
	// Route is the route the request matched (namespace/name), counted
	// under RoutesSubject when it settles.
	Route string
}

// Refusal is a request that does not fit a limit: 429 for the client.
type Refusal struct {
	Message    string
	RetryAfter time.Duration
	rate       rateState // the limits as they stand, for the headers
}

func (r *Refusal) Error() string { return r.Message }

// TooLarge is a request whose worst case is larger than a limit itself: no
// amount of waiting admits it, so it must not look like a refusal to retry
// (400 for the client, where a Refusal is 429 with Retry-After).
type TooLarge struct {
	Message string
}

func (e *TooLarge) Error() string { return e.Message }

// ErrUnavailable means a store failed and the limiter fails closed.
var ErrUnavailable = errors.New("ledger: limits cannot be checked")

type metric uint8

const (
	mRequests metric = iota // per minute, window
	mTokensMinute
	mTokensDay
	mTokensMonth
	mSpendMonth
)

var metricNames = [...]string{"requests", "tokens", "tokens-day", "tokens-month", "spend-month"}

// limitNames are the metrics as messages name them.
var limitNames = [...]string{"requests per minute", "tokens per minute", "tokens per day", "tokens per month", "USD per month"}

func (m metric) window() bool { return m <= mTokensMinute }
func (m metric) tokens() bool { return m != mRequests && m != mSpendMonth }

// check is one limit that applies to a request.
type check struct {
	subject string // key#<id> or consumer#<name>
	model   string // "" for all models
	metric  metric
	limit   int64
}

// Ticket is an admitted request's reservation, to be settled once.
type Ticket struct {
	l      *Limiter
	req    Request
	at     time.Time
	est    Estimate
	price  Price
	tokens int64  // reserved tokens (worst case)
	cost   Micros // reserved spend

	windows []takenWindow
	holds   []Hold // reserved buckets, Delta = the reserved amount
	rate    rateState
	settled atomic.Bool
	run     string
}

func newRun() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type takenWindow struct {
	subject string
	keys    []string
	costs   []int64
	metrics []metric
}

// rateState is what the x-ratelimit-* headers say: the tightest limit of
// each kind, as it stands after this request's reservation.
type rateState struct {
	reqLimit, reqRemaining, tokLimit, tokRemaining int64
	reqReset, tokReset                             time.Duration
	haveReq, haveTok                               bool
}

func (r *rateState) note(m metric, limit, count int64, reset time.Duration) {
	rem := max(limit-count, 0)
	if m == mRequests {
		if !r.haveReq || rem < r.reqRemaining {
			r.reqLimit, r.reqRemaining, r.reqReset, r.haveReq = limit, rem, reset, true
		}
		return
	}
	if m.tokens() && (!r.haveTok || rem < r.tokRemaining) {
		r.tokLimit, r.tokRemaining, r.tokReset, r.haveTok = limit, rem, reset, true
	}
}

func (l *Limiter) checks(req *Request) []check {
	var out []check
	add := func(subject string, lim *Limits) {
		if lim == nil {
			return
		}
		one := func(model string, x *Limits) {
			for m, v := range [...]int64{x.RequestsPerMinute, x.TokensPerMinute, x.TokensPerDay, x.TokensPerMonth, int64(MicrosOf(x.BudgetUSD))} {
				if v <= 0 {
					continue
				}
				c := check{subject: subject, model: model, metric: metric(m), limit: v}
				dup := false
				for i := range out {
					if out[i].subject == c.subject && out[i].model == c.model && out[i].metric == c.metric {
						out[i].limit, dup = min(out[i].limit, c.limit), true
					}
				}
				if !dup {
					out = append(out, c)
				}
			}
		}
		one("", lim)
		if ml, ok := lim.Models[req.Model]; ok {
			one(req.Model, &ml)
		}
	}
	keySubject := "key#" + req.Key.ID
	add(keySubject, &req.Key.Limits)
	if p := req.Policy; p != nil {
		add(keySubject, &p.Key)
		if req.Key.Consumer != "" {
			add("consumer#"+req.Key.Consumer, &p.Consumer)
		}
	}
	return out
}

// PriceOf is the price of model: the policy's, else the configured table's.
func (l *Limiter) PriceOf(p *Policy, model string) Price {
	if p != nil {
		if pr, ok := p.Prices[model]; ok {
			return pr
		}
	}
	return l.cfg.Prices[model]
}

// Admit reserves the request's worst case against every limit that
// applies, or refuses it with a *Refusal (nothing stays reserved then).
// With a store down it fails open (admits, logs) or closed
// (ErrUnavailable), as configured.
func (l *Limiter) Admit(ctx context.Context, req Request) (*Ticket, error) {
	t := &Ticket{l: l, req: req, at: l.now(), price: l.PriceOf(req.Policy, req.Model), run: newRun()}
	checks := l.checks(&req)
	if len(checks) == 0 {
		return t, nil
	}
	t.est = EstimateBody(req.Body)
	maxOut := t.est.MaxOutput
	if maxOut == 0 && !req.NoOutput {
		maxOut = l.cfg.DefaultMaxTokens
		if req.Policy != nil && req.Policy.DefaultMaxTokens > 0 {
			maxOut = req.Policy.DefaultMaxTokens
		}
	}
	t.tokens = t.est.Input + maxOut
	t.cost = t.price.Cost(t.est.Input, 0, maxOut)
	for _, c := range checks {
		enforced := c.metric.window() && l.windows != nil || !c.metric.window() && l.budgets != nil
		if enforced && t.amount(c.metric) > c.limit {
			return nil, &TooLarge{Message: tooLargeMessage(c, t.est.Input, maxOut, t.amount(c.metric))}
		}
	}
	if err := t.takeWindows(ctx, checks); err != nil {
		return nil, err
	}
	if err := t.reserveBudgets(ctx, checks); err != nil {
		t.undoWindows(ctx)
		return nil, err
	}
	return t, nil
}

func (t *Ticket) amount(m metric) int64 {
	switch m {
	case mRequests:
		return 1
	case mSpendMonth:
		return int64(t.cost)
	}
	return t.tokens
}

func (t *Ticket) takeWindows(ctx context.Context, checks []check) error {
	l := t.l
	if l.windows == nil {
		return nil
	}
	start := t.at.Truncate(time.Minute)
	reset := start.Add(time.Minute).Sub(t.at)
	suffix := ":" + strconv.FormatInt(start.Unix(), 10)
	// One Take per subject, so a store may keep a subject's counters together.
	for len(checks) > 0 {
		subject := ""
		var w takenWindow
		var limits []int64
		var rest []check
		for _, c := range checks {
			if !c.metric.window() {
				continue
			}
			if subject == "" {
				subject = c.subject
			}
			if c.subject != subject {
				rest = append(rest, c)
				continue
			}
			model := c.model
			if model == "" {
				model = "*"
			}
			w.keys = append(w.keys, "sluice:rl:{"+c.subject+"}:"+model+":"+metricNames[c.metric]+suffix)
			w.costs = append(w.costs, t.amount(c.metric))
			w.metrics = append(w.metrics, c.metric)
			limits = append(limits, c.limit)
		}
		if subject == "" {
			return nil
		}
		w.subject = subject
		checks = rest
		ok, counts, err := l.windows.Take(ctx, w.keys, limits, w.costs, 2*time.Minute)
		if err != nil {
			if l.cfg.FailClosed {
				t.undoWindows(ctx)
				l.log.Error("rate windows unavailable; refusing (fail closed)", "request_id", t.req.ID, "error", err)
				return fmt.Errorf("%w: rate windows: %w", ErrUnavailable, err)
			}
			l.warnOpen("rate windows unavailable; admitting without per-minute limits (fail open)", err)
			continue
		}
		if !ok {
			t.undoWindows(ctx)
			ref := &Refusal{RetryAfter: reset, Message: "rate limit reached", rate: t.rate}
			for i, m := range w.metrics {
				ref.rate.note(m, limits[i], counts[i], reset)
			}
			for i, m := range w.metrics {
				if counts[i]+w.costs[i] > limits[i] {
					ref.Message = refusalMessage(subject, m, limits[i], counts[i], w.costs[i])
					break
				}
			}
			return ref
		}
		t.windows = append(t.windows, w)
		for i, m := range w.metrics {
			t.rate.note(m, limits[i], counts[i], reset)
		}
	}
	return nil
}

func (t *Ticket) undoWindows(ctx context.Context) {
	for _, w := range t.windows {
		neg := make([]int64, len(w.costs))
		for i, c := range w.costs {
			neg[i] = -c
		}
		if err := t.l.windows.Add(context.WithoutCancel(ctx), w.keys, neg, 2*time.Minute); err != nil {
			t.l.log.Warn("rate window undo failed", "request_id", t.req.ID, "error", err)
		}
	}
	t.windows = nil
}

func whoOf(subject string) string {
	if len(subject) > 9 && subject[:9] == "consumer#" {
		return "the consumer " + subject[9:]
	}
	return "this API key"
}

// tooLargeMessage gives the figures of a request larger than a limit, and
// what the client can change.
func tooLargeMessage(c check, input, maxOut, amount int64) string {
	scope := ""
	if c.model != "" {
		scope = " for " + c.model
	}
	if c.metric == mSpendMonth {
		return fmt.Sprintf("request too large: its worst case costs $%.4f (%d input tokens, estimated, and %d output tokens at most), more than the monthly budget of $%.2f%s of %s; it can never be admitted: lower max_tokens or shorten the input",
			Micros(amount).USD(), input, maxOut, Micros(c.limit).USD(), scope, whoOf(c.subject))
	}
	return fmt.Sprintf("request too large: it may need %d tokens (%d input, estimated, and %d output at most), more than the limit of %d %s%s of %s; it can never be admitted: lower max_tokens or shorten the input",
		amount, input, maxOut, c.limit, limitNames[c.metric], scope, whoOf(c.subject))
}

func refusalMessage(subject string, m metric, limit, count, cost int64) string {
	who := whoOf(subject)
	switch m {
	case mRequests:
		return fmt.Sprintf("rate limit reached for %s: %d requests per minute", who, limit)
	case mTokensMinute:
		return fmt.Sprintf("rate limit reached for %s: %d tokens per minute (used %d, this request may need %d)", who, limit, count, cost)
	case mTokensDay:
		return fmt.Sprintf("daily token quota reached for %s: %d tokens per day (used or reserved %d, this request may need %d)", who, limit, count, cost)
	case mTokensMonth:
		return fmt.Sprintf("monthly token quota reached for %s: %d tokens per month (used or reserved %d, this request may need %d)", who, limit, count, cost)
	}
	return fmt.Sprintf("monthly budget reached for %s: $%.2f (spent or reserved $%.4f, this request may cost $%.4f)",
		who, Micros(limit).USD(), Micros(count).USD(), Micros(cost).USD())
}

func (t *Ticket) reserveBudgets(ctx context.Context, checks []check) error {
	l := t.l
	if l.budgets == nil {
		return nil
	}
	day, month := Day(t.at), Month(t.at)
	y, mo, d := t.at.UTC().Date()
	dayEnd := time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC).Sub(t.at)
	monthEnd := time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC).Sub(t.at)
	for _, c := range checks {
		if c.metric.window() {
			continue
		}
		model := c.model
		if model == "" {
			model = "*"
		}
		period, reset := month, monthEnd
		if c.metric == mTokensDay {
			period, reset = day, dayEnd
		}
		b := Bucket{Subject: c.subject, Name: metricNames[c.metric] + "#" + period + "#" + model}
		amount := t.amount(c.metric)
		ok, held, err := l.budgets.Reserve(ctx, b, c.limit, amount)
		if err != nil {
			if l.cfg.FailClosed {
				t.releaseHolds(ctx)
				l.log.Error("budget store unavailable; refusing (fail closed)", "request_id", t.req.ID, "error", err)
				return fmt.Errorf("%w: budgets: %w", ErrUnavailable, err)
			}
			l.warnOpen("budget store unavailable; admitting without this budget (fail open)", err)
			continue
		}
		if !ok {
			t.releaseHolds(ctx)
			ref := &Refusal{RetryAfter: reset, Message: refusalMessage(c.subject, c.metric, c.limit, held, amount), rate: t.rate}
			ref.rate.note(c.metric, c.limit, held, reset)
			return ref
		}
		t.holds = append(t.holds, Hold{Bucket: b, Delta: amount})
		t.rate.note(c.metric, c.limit, held, reset)
	}
	return nil
}

func (t *Ticket) releaseHolds(ctx context.Context) {
	for _, h := range t.holds {
		if err := t.l.budgets.Release(context.WithoutCancel(ctx), h.Bucket, h.Delta); err != nil {
			t.l.log.Error("budget release failed", "request_id", t.req.ID, "bucket", h.Bucket.Subject+"/"+h.Bucket.Name, "error", err)
		}
	}
	t.holds = nil
}

func (l *Limiter) warnOpen(msg string, err error) {
	now := l.now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(10*time.Second) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn(msg, "error", err)
}

// SetHeaders writes the x-ratelimit-* headers: the tightest request and
// token limits that applied, and what remains of them after this request's
// reservation.
func (t *Ticket) SetHeaders(h http.Header) {
	if t != nil {
		t.rate.setHeaders(h)
	}
}

// SetHeaders writes Retry-After (whole seconds, at least 1) and the
// x-ratelimit-* headers as the limits stand.
func (r *Refusal) SetHeaders(h http.Header) {
	s := int64((r.RetryAfter + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.FormatInt(max(s, 1), 10))
	r.rate.setHeaders(h)
}

func (r *rateState) setHeaders(h http.Header) {
	if r.haveReq {
		h.Set("X-Ratelimit-Limit-Requests", strconv.FormatInt(r.reqLimit, 10))
		h.Set("X-Ratelimit-Remaining-Requests", strconv.FormatInt(r.reqRemaining, 10))
		h.Set("X-Ratelimit-Reset-Requests", resetString(r.reqReset))
	}
	if r.haveTok {
		h.Set("X-Ratelimit-Limit-Tokens", strconv.FormatInt(r.tokLimit, 10))
		h.Set("X-Ratelimit-Remaining-Tokens", strconv.FormatInt(r.tokRemaining, 10))
		h.Set("X-Ratelimit-Reset-Tokens", resetString(r.tokReset))
	}
}

// resetString is OpenAI's format for reset headers: "12s", "6m0s".
func resetString(d time.Duration) string {
	return ((d + time.Second - 1) / time.Second * time.Second).String()
}

// Outcome is how an exchange ended, for Settle.
type Outcome struct {
	// Usage is what the provider reported (Reported false: nothing).
	Usage api.Usage
	// Started is true once response bytes reached the client.
	Started bool
	// Streamed counts the generated text streamed before a cut.
	Streamed *TextCounter
	// ErrorKind names how the exchange failed (the OpenAI error code);
	// empty when it did not.
	ErrorKind string
	// Saved is the usage of the stored answer a cache hit replayed: what
	// the request would have cost, recorded as savings, never as spend.
	Saved api.Usage
}

// SettlesInMemory reports whether Settle would only add to the usage
// batch: no rate window to move, no reservation to adjust, no store write.
// A caller that settles in the background may then settle inline, which
// costs less than starting a goroutine.
func (t *Ticket) SettlesInMemory() bool {
	if t == nil {
		return true
	}
	l := t.l
	return len(t.windows) == 0 && (l.budgets == nil || l.batch != nil && len(t.holds) == 0 && !l.batchClosed())
}

// Settle records what the request cost, once: the provider's figures, or,
// when it reported none after tokens flowed, an estimate marked as such;
// a request that failed before any token costs nothing. Reservations are
// adjusted to the settled amounts. It retries a failing store with backoff
// for up to the configured timeout, whatever ctx says, and returns the
// error that finally stopped it.
func (t *Ticket) Settle(ctx context.Context, o Outcome) error {
	if t == nil || !t.settled.CompareAndSwap(false, true) {
		return nil
	}
	l := t.l
	s := Settlement{RequestID: t.req.ID, Run: t.run, KeyID: t.req.Key.ID, Consumer: t.req.Key.Consumer, Model: t.req.Model, At: t.at,
		Route: t.req.Route, ErrorKind: o.ErrorKind}
	switch {
	case o.Usage.Reported:
		s.Usage = o.Usage
	case o.Started:
		est := t.est
		if t.tokens == 0 { // no limits: the body was not estimated at admission
			est = EstimateBody(t.req.Body)
		}
		s.Usage = api.Usage{InputTokens: est.Input}
		if o.Streamed != nil {
			s.Usage.OutputTokens = o.Streamed.Tokens()
		}
		s.Estimated = true
	default:
		s.NoUsage = true
	}
	s.Cost = t.price.Cost(s.Usage.InputTokens, s.Usage.CachedTokens, s.Usage.OutputTokens)
	if o.Saved.Total() > 0 {
		s.Saved = o.Saved
		s.SavedCost = t.price.Cost(o.Saved.InputTokens, o.Saved.CachedTokens, o.Saved.OutputTokens)
	}
	total := s.Usage.Total()
	// Per-minute token windows move to the settled figure.
	if l.windows != nil {
		for _, w := range t.windows {
			var keys []string
			var deltas []int64
			for i, m := range w.metrics {
				if m == mTokensMinute && total != w.costs[i] {
					keys = append(keys, w.keys[i])
					deltas = append(deltas, total-w.costs[i])
				}
			}
			if len(keys) > 0 {
				if err := l.windows.Add(context.WithoutCancel(ctx), keys, deltas, 2*time.Minute); err != nil {
					l.warnOpen("rate window settle failed", err)
				}
			}
		}
	}
	if l.budgets == nil {
		return nil
	}
	if l.batch != nil && len(t.holds) == 0 && !l.batchClosed() {
		if !s.NoUsage || s.Route != "" || s.ErrorKind != "" {
			l.batch.add(s)
		}
		return nil
	}
	for _, h := range t.holds {
		settled := total
		if strings.HasPrefix(h.Bucket.Name, metricNames[mSpendMonth]) {
			settled = int64(s.Cost)
		}
		s.Holds = append(s.Holds, Hold{Bucket: h.Bucket, Delta: settled - h.Delta})
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.SettleTimeout)
	defer cancel()
	already, err := l.budgets.Settle(ctx, s)
	if err != nil {
		l.log.Error("ledger: debit lost", "request_id", s.RequestID, "key_id", s.KeyID, "model", s.Model,
			"input_tokens", s.Usage.InputTokens, "output_tokens", s.Usage.OutputTokens, "cost_micros", int64(s.Cost), "error", err)
		return fmt.Errorf("ledger: settle %s: %w", s.RequestID, err)
	}
	if already {
		// A retry of a request that was settled before (a retried Lambda):
		// the first settle stands, and this run's reservations go back.
		l.log.Info("ledger: request already settled; releasing this run's reservations", "request_id", s.RequestID)
		t.releaseHolds(ctx)
	}
	return nil
}
