package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/api"
)

// memWindows is an in-memory WindowStore.
type memWindows struct {
	mu     sync.Mutex
	counts map[string]int64
	err    error
}

func (m *memWindows) Take(_ context.Context, keys []string, limits, costs []int64, _ time.Duration) (bool, []int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, nil, m.err
	}
	out := make([]int64, len(keys))
	ok := true
	for i, k := range keys {
		out[i] = m.counts[k]
		if out[i]+costs[i] > limits[i] {
			ok = false
		}
	}
	if !ok {
		return false, out, nil
	}
	for i, k := range keys {
		m.counts[k] += costs[i]
		out[i] = m.counts[k]
	}
	return true, out, nil
}

func (m *memWindows) Add(_ context.Context, keys []string, deltas []int64, _ time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range keys {
		m.counts[k] += deltas[i]
	}
	return m.err
}

// memBudgets is an in-memory BudgetStore.
type memBudgets struct {
	mu      sync.Mutex
	held    map[Bucket]int64
	settled map[string]Settlement
	err     error
}

func (m *memBudgets) Reserve(_ context.Context, b Bucket, limit, amount int64) (bool, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, 0, m.err
	}
	if m.held[b]+amount > limit {
		return false, m.held[b], nil
	}
	m.held[b] += amount
	return true, m.held[b], nil
}

func (m *memBudgets) Release(_ context.Context, b Bucket, amount int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held[b] -= amount
	return nil
}

func (m *memBudgets) Settle(_ context.Context, s Settlement) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.settled[s.RequestID]; ok {
		return prev.Run != s.Run, nil
	}
	m.settled[s.RequestID] = s
	for _, h := range s.Holds {
		m.held[h.Bucket] += h.Delta
	}
	return false, nil
}

func newTestLimiter(now time.Time) (*Limiter, *memWindows, *memBudgets) {
	w := &memWindows{counts: map[string]int64{}}
	b := &memBudgets{held: map[Bucket]int64{}, settled: map[string]Settlement{}}
	l := NewLimiter(LimiterConfig{Now: func() time.Time { return now }}, w, b)
	return l, w, b
}

func TestAdmitAndSettle(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	body := []byte(`{"model":"gpt-4o","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]}`)
	est := EstimateBody(body)
	worst := est.Input + 100
	reported := api.Usage{InputTokens: 5, OutputTokens: 20, CachedTokens: 2, Reported: true}
	tests := []struct {
		name         string
		key          Limits
		policy       *Policy
		outcome      Outcome
		wantTooLarge string
		wantHeld     map[string]int64 // bucket name → held after settle
		wantEst      bool
		wantNone     bool
	}{
		{name: "no limits: usage only", outcome: Outcome{Usage: reported, Started: true}},
		{name: "daily tokens settle to the reported figures", key: Limits{TokensPerDay: 1000},
			outcome: Outcome{Usage: reported, Started: true}, wantHeld: map[string]int64{"tokens-day#2026-11-27#*": 25}},
		{name: "a request larger than the quota is too large", key: Limits{TokensPerDay: worst - 1},
			wantTooLarge: "tokens per day"},
		{name: "per-model monthly quota", key: Limits{Models: map[string]Limits{"gpt-4o": {TokensPerMonth: 1000}}},
			outcome: Outcome{Usage: reported, Started: true}, wantHeld: map[string]int64{"tokens-month#2026-11#gpt-4o": 25}},
		{name: "spend from the policy's prices", policy: &Policy{Key: Limits{BudgetUSD: 1}, Prices: map[string]Price{"gpt-4o": {Input: 1000, Output: 2000, Cached: 500}}},
			outcome: Outcome{Usage: reported, Started: true}, wantHeld: map[string]int64{"spend-month#2026-11#*": 3*1000 + 2*500 + 20*2000}},
		{name: "a budget the worst case does not fit is too large", policy: &Policy{Key: Limits{BudgetUSD: 0.0001}, Prices: map[string]Price{"gpt-4o": {Input: 1000, Output: 1000}}},
			wantTooLarge: "monthly budget"},
		{name: "failed before any token: released", key: Limits{TokensPerDay: 1000},
			outcome: Outcome{}, wantHeld: map[string]int64{"tokens-day#2026-11-27#*": 0}, wantNone: true},
		{name: "cut stream: estimated", key: Limits{TokensPerDay: 1000},
			outcome:  Outcome{Started: true, Streamed: counted(`{"choices":[{"delta":{"content":"twelve bytes"}}]}`)},
			wantHeld: map[string]int64{"tokens-day#2026-11-27#*": est.Input + 3}, wantEst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, b := newTestLimiter(now)
			k := Key{ID: "k1", Consumer: "team", Limits: tt.key}
			tk, err := l.Admit(context.Background(), Request{ID: "req_1", Key: k, Model: "gpt-4o", Body: body, Policy: tt.policy})
			if tt.wantTooLarge != "" {
				var tl *TooLarge
				if !errors.As(err, &tl) || !strings.Contains(tl.Message, tt.wantTooLarge) {
					t.Fatalf("Admit = %v, want too large with %q", err, tt.wantTooLarge)
				}
				for bk, v := range b.held {
					if v != 0 {
						t.Fatalf("refused, but %v holds %d", bk, v)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tk.Settle(context.Background(), tt.outcome); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.wantHeld {
				if got := b.held[Bucket{Subject: "key#k1", Name: name}]; got != want {
					t.Errorf("held %s = %d, want %d (all: %v)", name, got, want, b.held)
				}
			}
			s := b.settled["req_1"]
			if s.Estimated != tt.wantEst || s.NoUsage != tt.wantNone || s.Consumer != "team" {
				t.Errorf("settlement %+v", s)
			}
		})
	}
}

// TestTooLargeIsNotARefusal: a request whose worst case is larger than a
// limit itself can never be admitted, so it is TooLarge (400 at the edge),
// with the figures; one that fits the limit but not what is left of it is a
// Refusal (429 with Retry-After).
func TestTooLargeIsNotARefusal(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	body := []byte(`{"model":"gpt-4o","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]}`)
	input := EstimateBody(body).Input
	worst := input + 100
	noMax := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}`)
	tests := []struct {
		name      string
		key       Limits
		policy    *Policy
		body      []byte
		used      int64 // tokens already in this minute's window of the key
		noWindows bool
		want      string // "" admitted, "refused", or the TooLarge message's part
	}{
		{name: "tokens per minute below the worst case", key: Limits{TokensPerMinute: worst - 1},
			want: fmt.Sprintf("request too large: it may need %d tokens (%d input, estimated, and 100 output at most), more than the limit of %d tokens per minute of this API key; it can never be admitted", worst, input, worst-1)},
		{name: "tokens per minute equal to the worst case", key: Limits{TokensPerMinute: worst}},
		{name: "the default max tokens counts when the body sets none", body: noMax, key: Limits{TokensPerMinute: 4096},
			want: fmt.Sprintf("it may need %d tokens (%d input, estimated, and 4096 output at most)", input+4096, input)},
		{name: "a per-model limit", key: Limits{Models: map[string]Limits{"gpt-4o": {TokensPerMinute: 10}}},
			want: "more than the limit of 10 tokens per minute for gpt-4o of this API key"},
		{name: "a consumer's limit from a policy", policy: &Policy{Consumer: Limits{TokensPerMinute: 10}},
			want: "more than the limit of 10 tokens per minute of the consumer team"},
		{name: "fits the limit but not what is left of it", key: Limits{TokensPerMinute: worst}, used: 1, want: "refused"},
		{name: "per-minute limits unenforced without a window store", key: Limits{TokensPerMinute: 1}, noWindows: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &memWindows{counts: map[string]int64{}}
			b := &memBudgets{held: map[Bucket]int64{}, settled: map[string]Settlement{}}
			var ws WindowStore = w
			if tt.noWindows {
				ws = nil
			}
			l := NewLimiter(LimiterConfig{Now: func() time.Time { return now }}, ws, b)
			if tt.used > 0 {
				w.counts["sluice:rl:{key#k1}:*:tokens:"+strconv.FormatInt(now.Truncate(time.Minute).Unix(), 10)] = tt.used
			}
			reqBody := body
			if tt.body != nil {
				reqBody = tt.body
			}
			_, err := l.Admit(context.Background(), Request{ID: "r", Key: Key{ID: "k1", Consumer: "team", Limits: tt.key}, Model: "gpt-4o", Body: reqBody, Policy: tt.policy})
			var tl *TooLarge
			var ref *Refusal
			switch {
			case tt.want == "":
				if err != nil {
					t.Fatalf("Admit = %v, want admitted", err)
				}
			case tt.want == "refused":
				if !errors.As(err, &ref) || errors.As(err, &tl) {
					t.Fatalf("Admit = %v, want a refusal", err)
				}
			default:
				if !errors.As(err, &tl) || !strings.Contains(tl.Message, tt.want) {
					t.Fatalf("Admit = %v,\nwant too large with %q", err, tt.want)
				}
				if errors.As(err, &ref) {
					t.Fatalf("too large is also a refusal: %v", err)
				}
				for k, v := range w.counts {
					if v != tt.used && !strings.Contains(k, ":requests:") {
						t.Fatalf("too large, but window %s holds %d", k, v)
					}
				}
			}
		})
	}
}

func counted(data string) *TextCounter {
	var c TextCounter
	c.Add([]byte(data))
	return &c
}

func TestWindowsAndHeaders(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	l, w, _ := newTestLimiter(now)
	k := Key{ID: "k1", Limits: Limits{RequestsPerMinute: 2, TokensPerMinute: 10000}}
	body := []byte(`{"model":"m","max_tokens":10,"messages":[]}`)
	for i, want := range []string{"1", "0"} {
		tk, err := l.Admit(context.Background(), Request{ID: "r", Key: k, Model: "m", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		tk.SetHeaders(h)
		if h.Get("X-Ratelimit-Remaining-Requests") != want || h.Get("X-Ratelimit-Reset-Requests") != "45s" {
			t.Fatalf("request %d: %v", i, h)
		}
		tk.Settle(context.Background(), Outcome{Usage: api.Usage{InputTokens: 1, OutputTokens: 2, Reported: true}, Started: true})
	}
	_, err := l.Admit(context.Background(), Request{ID: "r", Key: k, Model: "m", Body: body})
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("third: %v", err)
	}
	h := http.Header{}
	r.SetHeaders(h)
	if h.Get("Retry-After") != "45" || h.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Fatalf("refusal headers %v", h)
	}
	// The token window holds the settled figures: 2 requests of 3 tokens.
	for key, v := range w.counts {
		if strings.Contains(key, ":tokens:") && v != 6 {
			t.Fatalf("token window %s = %d, want 6", key, v)
		}
	}
}

func TestFailOpenAndClosed(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	for _, closed := range []bool{false, true} {
		w := &memWindows{counts: map[string]int64{}, err: errors.New("connection refused")}
		b := &memBudgets{held: map[Bucket]int64{}, settled: map[string]Settlement{}}
		l := NewLimiter(LimiterConfig{FailClosed: closed, Now: func() time.Time { return now }}, w, b)
		_, err := l.Admit(context.Background(), Request{ID: "r", Key: Key{ID: "k", Limits: Limits{RequestsPerMinute: 1, TokensPerDay: 100000}}, Model: "m", Body: []byte(`{}`)})
		if closed != errors.Is(err, ErrUnavailable) || !closed && err != nil {
			t.Fatalf("closed=%v: %v", closed, err)
		}
		if closed && len(b.held) != 0 && b.held[Bucket{Subject: "key#k", Name: "tokens-day#2026-11-27#*"}] != 0 {
			t.Fatalf("fail closed left a reservation: %v", b.held)
		}
	}
}

func TestRetriedRunReleasesItsReservation(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	l, _, b := newTestLimiter(now)
	req := Request{ID: "req_same", Key: Key{ID: "k", Limits: Limits{TokensPerDay: 100000}}, Model: "m", Body: []byte(`{"max_tokens":10}`)}
	u := Outcome{Usage: api.Usage{InputTokens: 3, OutputTokens: 4, Reported: true}, Started: true}
	for range 2 {
		tk, err := l.Admit(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		tk.Settle(context.Background(), u)
	}
	if got := b.held[Bucket{Subject: "key#k", Name: "tokens-day#2026-11-27#*"}]; got != 7 {
		t.Fatalf("held %d, want 7", got)
	}
}

func TestEstimateBody(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantInput int64
		wantMax   int64
	}{
		{"openai", `{"model":"m","max_tokens":7,"messages":[{"role":"user","content":"abc"}]}`, 11, 7},
		{"max_completion_tokens wins", `{"max_completion_tokens":9,"max_tokens":7,"messages":[]}`, 1, 9},
		{"anthropic system", `{"system":"be brief","messages":[],"max_tokens":3}`, 4, 3},
		{"embeddings", `{"input":["a","b"]}`, 3, 0},
		{"not json", `xxxxxxx`, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := EstimateBody([]byte(tt.body))
			if e.Input != tt.wantInput || e.MaxOutput != tt.wantMax {
				t.Fatalf("EstimateBody = %+v, want input %d, max %d", e, tt.wantInput, tt.wantMax)
			}
		})
	}
}

func TestTextCounter(t *testing.T) {
	var c TextCounter
	c.Add([]byte(`{"choices":[{"delta":{"content":"Hi \"you\""}}]}`))
	c.Add([]byte(`{"type":"content_block_delta","delta":{"type":"text_delta","text":"abcd"}}`))
	c.Add([]byte(`{"choices":[{"delta":{"role":"assistant"}}]}`))
	if c.Bytes() != 14 || c.Tokens() != 4 {
		t.Fatalf("counted %d bytes, %d tokens", c.Bytes(), c.Tokens())
	}
}

func TestPriceCost(t *testing.T) {
	p := Price{Input: 2.5, Output: 10, Cached: 1.25}
	if got := p.Cost(1_000_000, 0, 0); got != MicrosOf(2.5) {
		t.Fatalf("a million input tokens cost %d", got)
	}
	if got := p.Cost(1000, 1000, 100); got != 1250+1000 {
		t.Fatalf("cached input and output cost %d", got)
	}
	if got := (Price{Input: 1}).Cost(10, 10, 0); got != 10 {
		t.Fatalf("cached without a cached price costs the input price: %d", got)
	}
}

func TestRotateKeepsOldSecretForGrace(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	old, k := NewKey("app", "", now)
	_, oldSecret, _ := ParseKey(old)
	fresh := k.Rotate(time.Hour, now)
	_, newSecret, _ := ParseKey(fresh)
	if err := k.Verify(newSecret, now); err != nil {
		t.Fatalf("new secret: %v", err)
	}
	if err := k.Verify(oldSecret, now.Add(59*time.Minute)); err != nil {
		t.Fatalf("old secret within grace: %v", err)
	}
	if err := k.Verify(oldSecret, now.Add(time.Hour)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old secret after grace: %v", err)
	}
}

// batchBudgets is a memBudgets that also takes batches.
type batchBudgets struct {
	memBudgets
	batches [][]BatchRow
	fail    int
}

func (b *batchBudgets) SettleBatch(_ context.Context, _ string, rows []BatchRow) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail > 0 {
		b.fail--
		return errors.New("throttled for good")
	}
	b.batches = append(b.batches, append([]BatchRow(nil), rows...))
	return nil
}

func TestBatchedUsage(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	b := &batchBudgets{memBudgets: memBudgets{held: map[Bucket]int64{}, settled: map[string]Settlement{}}, fail: 1}
	l := NewLimiter(LimiterConfig{Now: func() time.Time { return now }, BatchUsage: time.Hour}, nil, b)
	u := Outcome{Usage: api.Usage{InputTokens: 3, OutputTokens: 4, Reported: true}, Started: true}
	for i := range 5 {
		tk, err := l.Admit(context.Background(), Request{ID: "r" + string(rune('0'+i)), Key: Key{ID: "k", Consumer: "c"}, Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if !tk.SettlesInMemory() {
			t.Fatal("a key without limits does not settle in memory")
		}
		tk.Settle(context.Background(), u)
	}
	// A key with a quota settles on its own, idempotently.
	tk, _ := l.Admit(context.Background(), Request{ID: "q", Key: Key{ID: "k2", Limits: Limits{TokensPerDay: 100}}, Model: "m", Body: []byte(`{"max_tokens":5}`)})
	if tk.SettlesInMemory() {
		t.Fatal("a key with a quota settles in memory")
	}
	tk.Settle(context.Background(), u)
	if _, ok := b.settled["q"]; !ok || len(b.settled) != 1 {
		t.Fatalf("settled one by one: %v", b.settled)
	}
	l.batch.flush(context.Background()) // fails: kept
	if len(b.batches) != 0 {
		t.Fatal("a failed batch was counted")
	}
	l.Close()
	if len(b.batches) != 1 || len(b.batches[0]) != 3 {
		t.Fatalf("batches %v", b.batches)
	}
	for _, r := range b.batches[0] {
		if r.Usage.Requests != 5 || r.Usage.InputTokens != 15 || r.Usage.OutputTokens != 20 || r.Usage.Day != "2026-11-27" {
			t.Fatalf("row %+v", r)
		}
	}
}

func TestEmbeddingsReserveNoOutput(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 15, 0, time.UTC)
	l, _, b := newTestLimiter(now)
	body := []byte(`{"model":"e","input":["some text to embed"]}`)
	_, err := l.Admit(context.Background(), Request{ID: "r", Key: Key{ID: "k", Limits: Limits{TokensPerDay: 1000}}, Model: "e", Body: body, NoOutput: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.held[Bucket{Subject: "key#k", Name: "tokens-day#2026-11-27#*"}], EstimateBody(body).Input; got != want {
		t.Fatalf("reserved %d, want the input estimate %d alone", got, want)
	}
}

// textCountReference is TextCounter.Add as six separate searches.
func textCountReference(data []byte) int64 {
	var total int64
	for _, k := range textKeys {
		rest := data
		for {
			i := bytes.Index(rest, k)
			if i < 0 {
				break
			}
			rest = rest[i+len(k):]
			n := stringLen(rest)
			total += int64(n)
			rest = rest[n:]
		}
	}
	return total
}

func FuzzTextCounter(f *testing.F) {
	for _, s := range []string{
		`{"choices":[{"delta":{"content":"Hello \"there\""}}]}`,
		`{"content":"text":"x"}`, `{"content":"a"content":"b"}`, `"text":"`, `"`, `""`,
		`{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"hm"}}`,
		`{"arguments":"{\"a\":1}","partial_json":"{\"b\"","reasoning_content":"r"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c TextCounter
		c.Add(data)
		if want := textCountReference(data); c.Bytes() != want {
			t.Fatalf("Add(%q) counted %d, want %d", data, c.Bytes(), want)
		}
	})
}

func BenchmarkTextCounter(b *testing.B) {
	data := []byte(`{"choices":[{"delta":{"content":" five"},"finish_reason":null,"index":0,"logprobs":null}],"created":1795797106,"id":"chatcmpl-mock91p68b","model":"mock-gpt","object":"chat.completion.chunk","service_tier":"default","system_fingerprint":"fp_sluice_mock","usage":null}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var c TextCounter
		c.Add(data)
	}
}
