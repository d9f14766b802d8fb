package conformance

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Gateway is the front door a runner serves the manifests on.
type Gateway struct {
	URL      string // http://host:port
	Backends *Backends
	// Exact says the gateway draws its random choices (a backend by
	// weight, whether to mirror) from a cycle over every value, so shares
	// come out exact over one round; otherwise they are checked within a
	// band of four standard deviations, which fails by chance about once
	// in fifteen thousand runs.
	Exact  bool
	client *http.Client
	h2c    *http.Client
}

// NewGateway returns a Gateway for the front door at url, whose clients
// never follow redirects.
func NewGateway(url string, b *Backends) *Gateway {
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	return &Gateway{
		URL: url, Backends: b,
		client: &http.Client{CheckRedirect: noRedirect},
		h2c:    &http.Client{CheckRedirect: noRedirect, Transport: h2c},
	}
}

// Run checks the test's Check and then each case, as subtests.
func (tt *Test) Run(t *testing.T, g *Gateway) {
	if tt.Check != nil {
		tt.Check(t, g)
	}
	for _, c := range tt.Cases {
		t.Run(c.String(), func(t *testing.T) { g.check(t, c) })
	}
}

// Do sends the case's request (Host gateway.test unless it says) and
// decodes the echo's answer when there is one.
func (g *Gateway) Do(t *testing.T, c Case) (*http.Response, Echoed) {
	t.Helper()
	method, host, path := c.Method, c.Host, c.Path
	if method == "" {
		method = "GET"
	}
	if host == "" {
		host = "gateway.test"
	}
	if c.UUID {
		var id [8]byte
		rand.Read(id[:])
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "uuid=" + hex.EncodeToString(id[:])
	}
	req, err := http.NewRequest(method, g.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range c.Header {
		req.Header[k] = []string{v} // as sent, not canonicalised
	}
	var set []string
	for _, k := range sortedKeys(c.SetResponse) {
		set = append(set, k+":"+c.SetResponse[k])
	}
	if len(set) > 0 {
		req.Header.Set("X-Echo-Set-Header", strings.Join(set, ","))
	}
	client := g.client
	if c.H2C {
		client = g.h2c
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e Echoed
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") == "application/json" {
		json.Unmarshal(b, &e)
	}
	return resp, e
}

func (g *Gateway) check(t *testing.T, c Case) {
	mirrored := map[string]int{}
	path, _, _ := strings.Cut(c.Path, "?")
	for _, m := range c.MirroredTo {
		mirrored[m] = g.echo(t, m).Count(path)
	}
	resp, e := g.Do(t, c)
	want := c.Status
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
	if c.Location != "" && resp.Header.Get("Location") != c.Location {
		t.Errorf("Location %q, want %q", resp.Header.Get("Location"), c.Location)
	}
	if c.Backend != "" && deployment(e) != c.Backend {
		t.Errorf("answered by %q, want %q", deployment(e), c.Backend)
	}
	if c.ReqPath != "" && e.Path != c.ReqPath {
		t.Errorf("backend saw path %q, want %q", e.Path, c.ReqPath)
	}
	if c.ReqHost != "" && e.Host != c.ReqHost {
		t.Errorf("backend saw Host %q, want %q", e.Host, c.ReqHost)
	}
	if c.ReqProto != "" && e.Proto != c.ReqProto {
		t.Errorf("backend saw %s, want %s", e.Proto, c.ReqProto)
	}
	for k, v := range c.ReqHeader {
		if got := strings.Join(e.Header.Values(k), ","); got != v {
			t.Errorf("backend saw %s: %q, want %q", k, got, v)
		}
	}
	for _, k := range c.ReqAbsent {
		if v := e.Header.Values(k); len(v) > 0 {
			t.Errorf("backend saw %s: %q, want none", k, v)
		}
	}
	for k, v := range c.RespHeader {
		if got := strings.Join(resp.Header.Values(k), ","); got != v {
			t.Errorf("response %s: %q, want %q", k, got, v)
		}
	}
	for _, k := range c.RespAbsent {
		if v := resp.Header.Values(k); len(v) > 0 {
			t.Errorf("response %s: %q, want none", k, v)
		}
	}
	for m, before := range mirrored {
		if !g.eventually(func() bool { return g.echo(t, m).Count(path) > before }) {
			t.Errorf("mirror %s got no copy of %s", m, path)
		}
	}
}

// deployment names the echo that answered as Case.Backend does.
func deployment(e Echoed) string {
	if e.Namespace == Infra || e.Namespace == "" {
		return e.Backend
	}
	return e.Namespace + "/" + e.Backend
}

func (g *Gateway) echo(t *testing.T, name string) *Echo {
	e := g.Backends.Echo(name)
	if e == nil {
		t.Fatalf("no pod stands for %s", name)
	}
	return e
}

// eventually polls cond for what the gateway does in the background
// (mirrors), giving up after a while.
func (g *Gateway) eventually(cond func() bool) bool {
	for range 500 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// share checks that n of total requests went one way, for an expected
// share p: exactly, when the gateway's draws cycle, else within four
// standard deviations.
func (g *Gateway) share(n, total int, p float64) bool {
	mean := float64(total) * p
	if g.Exact {
		return float64(n) == mean
	}
	band := 4 * math.Sqrt(float64(total)*p*(1-p))
	return math.Abs(float64(n)-mean) <= band
}

// rounds is how many requests a distribution check sends: one round of a
// cycle of draws (round, the sum of the choices' weights) when the gateway
// cycles, else enough for a statistical band.
func (g *Gateway) rounds(round, sample int) int {
	if g.Exact {
		return round
	}
	return sample
}

// weights: 70/30/0 between v1, v2 and v3; weight 0 gets nothing.
func weights(t *testing.T, g *Gateway) {
	total := g.rounds(100, 500)
	got := map[string]int{}
	for range total {
		resp, e := g.Do(t, Case{Path: "/"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		got[e.Backend]++
	}
	if got["infra-backend-v3"] != 0 || !g.share(got["infra-backend-v1"], total, 0.7) || got["infra-backend-v1"]+got["infra-backend-v2"] != total {
		t.Errorf("distribution %v over %d requests, want 70%% v1, 30%% v2, none to v3", got, total)
	}
}

// backendWeightFilters: each ref's own header modifier applies only when
// that ref is chosen.
func backendWeightFilters(t *testing.T, g *Gateway) {
	total := g.rounds(20, 100) // weights 10 and 10
	seen := map[string]int{}
	for range total {
		_, e := g.Do(t, Case{Path: "/"})
		if got := e.Header.Values("Backend"); len(got) != 1 || got[0] != e.Backend {
			t.Fatalf("backend %s saw Backend: %v", e.Backend, got)
		}
		seen[e.Backend]++
	}
	if !g.share(seen["infra-backend-v1"], total, 0.5) || seen["infra-backend-v1"]+seen["infra-backend-v2"] != total {
		t.Errorf("distribution %v over %d requests: want half each", seen, total)
	}
}

// percentageMirrors: a percent or a fraction of the requests is copied to
// v2; every request is answered by v1.
func percentageMirrors(t *testing.T, g *Gateway) {
	total := g.rounds(100, 400)
	v2 := g.echo(t, "infra-backend-v2")
	for _, m := range []struct {
		path  string
		share float64
	}{{"/percent-mirror", 0.20}, {"/percent-mirror-fraction", 0.50}, {"/percent-mirror-and-modify-headers", 0.35}} {
		before := v2.Count(m.path)
		for range total {
			resp, e := g.Do(t, Case{Path: m.path})
			if resp.StatusCode != http.StatusOK || e.Backend != "infra-backend-v1" {
				t.Fatalf("%s: status %d from %q", m.path, resp.StatusCode, e.Backend)
			}
		}
		// Mirrors are sent in the background: wait until the count has
		// rested for half a second.
		n, still := -1, 0
		for i := 0; still < 5 && i < 100; i++ {
			time.Sleep(100 * time.Millisecond)
			c := v2.Count(m.path) - before
			if c == n {
				still++
			} else {
				n, still = c, 0
			}
		}
		if !g.share(n, total, m.share) {
			t.Errorf("%s: %d of %d mirrored, want about %.0f", m.path, n, total, m.share*float64(total))
		}
	}
}

// webSocket upgrades a connection through the gateway and sends a text and
// a binary message (as raw frames: the proxy passes bytes through) and
// reads each back.
func webSocket(t *testing.T, g *Gateway) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: gateway.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	for _, msg := range [][]byte{
		{0x81, 18, 'W', 'e', 'b', 's', 'o', 'c', 'k', 'e', 't', ' ', 'S', 'u', 'p', 'p', 'o', 'r', 't', '!'}, // text frame
		{0x82, 7, 1, 2, 3, 4, 5, 6, 7}, // binary frame
	} {
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %q %v, want %q", got, err, msg)
		}
	}
}

// connectionErrors: every request reaches the healthy pod, retried past
// the one that refuses connections, ten in a row as upstream asks.
func connectionErrors(t *testing.T, g *Gateway) {
	for i := range 10 {
		resp, e := g.Do(t, Case{Path: "/retry-on-connection-errors"})
		if resp.StatusCode != http.StatusOK || e.Backend != "infra-backend-connection-error-healthy" {
			t.Fatalf("request %d: status %d from %q, want 200 from infra-backend-connection-error-healthy", i, resp.StatusCode, e.Backend)
		}
	}
}
