package vectorindex

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicegw/sluice/shared/servertest"
)

var env servertest.Env

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &env)) }

// newIndex opens an LSH index on the shared redis-server under a prefix of
// the test's own.
func newIndex(t testing.TB, cfg Config) (*Index, *redis.Client) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: env.Redis(t)})
	t.Cleanup(func() { c.Close() })
	cfg.Prefix = "test:" + t.Name()
	x, err := Open(context.Background(), c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if x.Mode() != "lsh" {
		t.Fatalf("mode %s on redis-server, want lsh", x.Mode())
	}
	return x, c
}

func randomVector(r *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	u, _ := normalized(v)
	return u
}

// near returns a unit vector whose cosine with the unit vector v is about
// cos: v turned towards a random direction orthogonal to it.
func near(r *rand.Rand, v []float32, cos float64) []float32 {
	w := randomVector(r, len(v))
	d := dot(w, v)
	for i := range w {
		w[i] -= d * v[i]
	}
	w, _ = normalized(w)
	sin := math.Sqrt(1 - cos*cos)
	out := make([]float32, len(v))
	for i := range v {
		out[i] = float32(cos)*v[i] + float32(sin)*w[i]
	}
	return out
}

func TestNearest(t *testing.T) {
	x, _ := newIndex(t, Config{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	const dims = 256
	stored := make([][]float32, 50)
	for i := range stored {
		stored[i] = randomVector(r, dims)
		if err := x.Add(ctx, "tenant-a", stored[i], fmt.Sprintf("entry-%d", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	scaled := make([]float32, dims)
	for i, v := range stored[7] {
		scaled[i] = 3 * v
	}
	cases := []struct {
		name      string
		scope     string
		vec       []float32
		threshold float32
		want      string
	}{
		{"the same vector", "tenant-a", stored[3], 0.95, "entry-3"},
		{"the same direction, another length", "tenant-a", scaled, 0.95, "entry-7"},
		{"a paraphrase at 0.98", "tenant-a", near(r, stored[11], 0.98), 0.95, "entry-11"},
		{"a paraphrase at 0.96", "tenant-a", near(r, stored[12], 0.96), 0.95, "entry-12"},
		{"a near miss at 0.90", "tenant-a", near(r, stored[13], 0.90), 0.95, ""},
		{"a raised threshold refuses 0.96", "tenant-a", near(r, stored[14], 0.96), 0.99, ""},
		{"an unrelated question", "tenant-a", randomVector(r, dims), 0.95, ""},
		{"another scope never sees it", "tenant-b", stored[3], 0.5, ""},
		{"another vector size never mixes", "tenant-a", stored[3][:128], 0, ""},
		{"a zero vector finds nothing", "tenant-a", make([]float32, dims), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, sim, err := x.Nearest(ctx, c.scope, c.vec, c.threshold)
			if err != nil || got != c.want {
				t.Fatalf("got %q (%.3f), %v; want %q", got, sim, err, c.want)
			}
			if got != "" && (sim < c.threshold || sim > 1) {
				t.Fatalf("similarity %.4f outside [%v, 1]", sim, c.threshold)
			}
		})
	}
}

// TestParaphraseRecall: across many stored questions, paraphrases at the
// default threshold's neighbourhood are found nearly always.
func TestParaphraseRecall(t *testing.T) {
	x, _ := newIndex(t, Config{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	const n = 300
	stored := make([][]float32, n)
	for i := range stored {
		stored[i] = randomVector(r, 256)
		if err := x.Add(ctx, "s", stored[i], fmt.Sprintf("e%d", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	found := 0
	for i := range stored {
		got, _, err := x.Nearest(ctx, "s", near(r, stored[i], 0.97), 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if got == fmt.Sprintf("e%d", i) {
			found++
		} else if got != "" {
			t.Fatalf("paraphrase of e%d found %s", i, got)
		}
	}
	if found < n*95/100 {
		t.Fatalf("found %d of %d paraphrases at cosine 0.97", found, n)
	}
}

func TestKeysHashScopeAndExpire(t *testing.T) {
	x, c := newIndex(t, Config{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	const scope = "route=default/chat consumer=acme"
	if err := x.Add(ctx, scope, randomVector(r, 64), "secret-entry", time.Minute); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, x.cfg.Prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1+x.cfg.Tables {
		t.Fatalf("%d keys, want a vector and %d buckets: %q", len(keys), x.cfg.Tables, keys)
	}
	for _, k := range keys {
		if strings.Contains(k, "acme") || strings.Contains(k, "default/chat") || !strings.Contains(k, "{"+scopeHash(scope)+"}") {
			t.Errorf("key %q does not hide the scope behind its hash tag", k)
		}
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
	}
}

func TestCorruptRecordIsAMiss(t *testing.T) {
	x, c := newIndex(t, Config{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	v := randomVector(r, 64)
	if err := x.Add(ctx, "s", v, "good", time.Minute); err != nil {
		t.Fatal(err)
	}
	key := vectorKey(x.cfg.Prefix, scopeHash("s"), 64, entryID("good"))
	for name, val := range map[string]string{
		"truncated":     string(encodeRecord(v, "good")[:100]),
		"wrong version": "\x09" + string(encodeRecord(v, "good")[1:]),
		"not a record":  "hello",
	} {
		c.Set(ctx, key, val, time.Minute)
		got, _, err := x.Nearest(ctx, "s", v, 0.5)
		if err != nil || got != "" {
			t.Errorf("%s: got %q, %v; want a miss", name, got, err)
		}
	}
}

// TestExpiredMembersLeaveBuckets: a bucket never serves an id past its
// expiry, and drops it when the next entry comes.
func TestExpiredMembersLeaveBuckets(t *testing.T) {
	x, c := newIndex(t, Config{Tables: 1, Bits: 1})
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	x.now = func() time.Time { return now }
	v := []float32{1, 0, 0, 0}
	if err := x.Add(ctx, "s", v, "old", time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if got, _, _ := x.Nearest(ctx, "s", v, 0.5); got != "" {
		t.Fatalf("expired entry served: %q", got)
	}
	if err := x.Add(ctx, "s", v, "new", time.Hour); err != nil {
		t.Fatal(err)
	}
	bk := x.lsh.bucketKey(x.cfg.Prefix, scopeHash("s"), 4, 0, x.lsh.buckets(v)[0])
	if m := c.ZRange(ctx, bk, 0, -1).Val(); len(m) != 1 || m[0] != entryID("new") {
		t.Fatalf("bucket holds %q", m)
	}
}

func TestBucketsAndCandidatesAreBounded(t *testing.T) {
	x, c := newIndex(t, Config{Tables: 2, Bits: 1, MaxBucket: 20, PerBucket: 5, MaxCandidates: 3})
	ctx := context.Background()
	v := []float32{1, 1, 1, 1}
	for i := range 30 {
		if err := x.Add(ctx, "s", v, fmt.Sprintf("e%d", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	bk := x.lsh.bucketKey(x.cfg.Prefix, scopeHash("s"), 4, 0, x.lsh.buckets(v)[0])
	if n := c.ZCard(ctx, bk).Val(); n != 20 {
		t.Fatalf("bucket holds %d ids, want 20", n)
	}
	if got, _, err := x.Nearest(ctx, "s", v, 0.99); err != nil || got == "" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestAddRefusesBadInput(t *testing.T) {
	x, _ := newIndex(t, Config{})
	ctx := context.Background()
	nan := float32(math.NaN())
	for name, add := range map[string]func() error{
		"empty vector": func() error { return x.Add(ctx, "s", nil, "e", time.Minute) },
		"zero vector":  func() error { return x.Add(ctx, "s", make([]float32, 8), "e", time.Minute) },
		"NaN":          func() error { return x.Add(ctx, "s", []float32{1, nan}, "e", time.Minute) },
		"no TTL":       func() error { return x.Add(ctx, "s", []float32{1, 0}, "e", 0) },
		"no entry":     func() error { return x.Add(ctx, "s", []float32{1, 0}, "", time.Minute) },
	} {
		if add() == nil {
			t.Errorf("%s: added", name)
		}
	}
}

func TestOpenDetectsVectorSearch(t *testing.T) {
	ctx := context.Background()
	t.Run("redis-server has none: LSH", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: env.Redis(t)})
		defer c.Close()
		x, err := Open(ctx, c, Config{})
		if err != nil || x.Mode() != "lsh" {
			t.Fatalf("mode %s, %v", x.Mode(), err)
		}
	})
	t.Run("a server that answers FT._LIST: valkey-search", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: fakeSearchServer(t), Protocol: 2})
		defer c.Close()
		x, err := Open(ctx, c, Config{})
		if err != nil || x.Mode() != "valkey-search" {
			t.Fatalf("mode %s, %v", x.Mode(), err)
		}
		x, err = Open(ctx, c, Config{Search: "lsh"})
		if err != nil || x.Mode() != "lsh" {
			t.Fatalf("forced: mode %s, %v", x.Mode(), err)
		}
	})
	t.Run("a server that cannot be asked: LSH and the error", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer c.Close()
		x, err := Open(ctx, c, Config{})
		if err == nil || x == nil || x.Mode() != "lsh" {
			t.Fatalf("mode %v, %v", x, err)
		}
	})
	t.Run("an unknown choice is refused", func(t *testing.T) {
		if _, err := Open(ctx, nil, Config{Search: "hnsw"}); err == nil {
			t.Fatal("accepted")
		}
	})
}

// fakeSearchServer speaks just enough RESP2 to stand for a server with
// vector search: FT._LIST, FT.CREATE, HSET, PEXPIRE, and an FT.SEARCH that
// answers every hash of the queried scope tag in the reply shape
// valkey-search documents (the nearest-first ordering is not faked: the
// index checks every candidate itself). Other commands are errors.
func fakeSearchServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	hashes := map[string]map[string]string{}
	bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				rd := bufio.NewReader(conn)
				for {
					args, err := readCommand(rd)
					if err != nil {
						return
					}
					mu.Lock()
					switch strings.ToUpper(args[0]) {
					case "FT._LIST":
						fmt.Fprint(conn, "*0\r\n")
					case "CLIENT", "FT.CREATE":
						fmt.Fprint(conn, "+OK\r\n")
					case "HSET":
						h := map[string]string{}
						for i := 2; i+1 < len(args); i += 2 {
							h[args[i]] = args[i+1]
						}
						hashes[args[1]] = h
						fmt.Fprintf(conn, ":%d\r\n", len(h))
					case "PEXPIRE":
						fmt.Fprint(conn, ":1\r\n")
					case "FT.SEARCH":
						scope, _, _ := strings.Cut(strings.TrimPrefix(args[2], "@scope:{"), "}")
						var docs []string
						for k, h := range hashes {
							if h["scope"] == scope {
								docs = append(docs, bulk(k)+"*4\r\n"+bulk("entry")+bulk(h["entry"])+bulk("vec")+bulk(h["vec"]))
							}
						}
						fmt.Fprintf(conn, "*%d\r\n:%d\r\n%s", 1+2*len(docs), len(docs), strings.Join(docs, ""))
					default:
						fmt.Fprintf(conn, "-ERR unknown command '%s'\r\n", args[0])
					}
					mu.Unlock()
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestSearchPathOverTheWire adds and looks up through the vector-search
// path against fakeSearchServer, so that what is sent and how the reply
// is read go through go-redis as they would against Valkey.
func TestSearchPathOverTheWire(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: fakeSearchServer(t), Protocol: 2})
	defer c.Close()
	ctx := context.Background()
	x, err := Open(ctx, c, Config{})
	if err != nil || x.Mode() != "valkey-search" {
		t.Fatalf("mode %s, %v", x.Mode(), err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	a, b := randomVector(r, 32), randomVector(r, 32)
	for entry, v := range map[string][]float32{"A": a, "B": b} {
		if err := x.Add(ctx, "s", v, entry, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		scope string
		vec   []float32
		want  string
	}{
		{"near a", "s", near(r, a, 0.97), "A"},
		{"near b", "s", near(r, b, 0.98), "B"},
		{"near neither", "s", randomVector(r, 32), ""},
		{"another scope", "t", a, ""},
	}
	for _, tc := range cases {
		got, sim, err := x.Nearest(ctx, tc.scope, tc.vec, 0.95)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q (%.3f), %v; want %q", tc.name, got, sim, err, tc.want)
		}
	}
}

func readCommand(rd *bufio.Reader) ([]string, error) {
	var n int
	if _, err := fmt.Fscanf(rd, "*%d\r\n", &n); err != nil {
		return nil, err
	}
	args := make([]string, n)
	for i := range args {
		var size int
		if _, err := fmt.Fscanf(rd, "$%d\r\n", &size); err != nil {
			return nil, err
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(rd, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// TestSearchCommands pins what the vector-search path sends and how it
// reads replies. redis-server here has no vector search, so the commands
// themselves are not run against a server in these tests.
func TestSearchCommands(t *testing.T) {
	s := newSearch("p")
	create := fmt.Sprint(s.createArgs(3))
	if create != "[FT.CREATE p:idx:3 ON HASH PREFIX 1 p:s:3: SCHEMA scope TAG vec VECTOR HNSW 6 TYPE FLOAT32 DIM 3 DISTANCE_METRIC COSINE]" {
		t.Errorf("create: %s", create)
	}
	args := s.searchArgs("abc", []float32{1, 0, 0})
	if args[2] != "@scope:{abc}=>[KNN 4 @vec $v]" || len(args[6].(string)) != 12 || fmt.Sprint(args[7:]) != "[RETURN 3 entry vec __vec_score DIALECT 2]" {
		t.Errorf("search: %q", args)
	}
	vec := string(appendVector(nil, []float32{0, 1, 0}))
	resp2 := []any{int64(1), "p:s:3:{abc}:x", []any{"vec", vec, "entry", "E"}}
	resp3 := map[any]any{"total_results": int64(1), "results": []any{
		map[any]any{"id": "p:s:3:{abc}:x", "extra_attributes": map[any]any{"vec": vec, "entry": "E"}}}}
	for name, reply := range map[string]any{"RESP2": resp2, "RESP3": resp3} {
		docs := searchDocs(reply)
		if len(docs) != 1 || docs[0]["entry"] != "E" || docs[0]["vec"] != vec {
			t.Errorf("%s: %v", name, docs)
		}
	}
	if docs := searchDocs([]any{int64(1), "k", []any{"entry", "F", "__vec_score", "0.02"}}); len(docs) != 1 || docs[0]["__vec_score"] != "0.02" {
		t.Errorf("score only: %v", docs)
	}
	if docs := searchDocs("garbage"); docs != nil {
		t.Errorf("garbage: %v", docs)
	}
}
