package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Backends stand for the pods of the Deployments in the manifests: one echo
// server per Deployment whose container serves HTTP (the upstream
// echo-basic image's port 3000, and its h2c port 3001), and a port that
// refuses connections for one that does not. EndpointSlices points the
// Services that select them at these, as Kubernetes' EndpointSlice
// controller would point them at the pods.
type Backends struct {
	t    testing.TB
	fake bool // addresses only, no servers (for tests that only compile)

	mu    sync.Mutex
	pods  map[string]*Echo // by namespace/deployment
	next  int
	close []func()
}

// StartBackends returns Backends whose echo servers start as the manifests
// need them and stop when the test ends.
func StartBackends(t testing.TB) *Backends {
	b := &Backends{t: t, pods: map[string]*Echo{}}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.close {
			c()
		}
	})
	return b
}

// FakeBackends returns Backends that hand out made-up loopback addresses and
// start nothing, for tests that compile the manifests without sending
// requests.
func FakeBackends() *Backends {
	return &Backends{fake: true, pods: map[string]*Echo{}}
}

// Echo is one pod standing in for a Deployment: it answers every request
// with what it saw, as JSON (see Echoed).
type Echo struct {
	Name      string // the Deployment's name
	Namespace string
	// HTTPPort serves HTTP/1.1 (the pod's port 3000), H2CPort HTTP/2 with
	// prior knowledge only (port 3001). For a pod that refuses HTTP both
	// are a closed port.
	HTTPPort, H2CPort int

	mu      sync.Mutex
	hits    map[string]int
	retries map[string]int
}

// Echoed is what an echo answers.
type Echoed struct {
	Backend   string      `json:"backend"`
	Namespace string      `json:"namespace"`
	Method    string      `json:"method"`
	Path      string      `json:"path"`
	Query     string      `json:"query"`
	Host      string      `json:"host"`
	Proto     string      `json:"proto"`
	Header    http.Header `json:"header"`
	Body      string      `json:"body"`
}

// Count returns how many requests for path the echo has had.
func (e *Echo) Count(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits[path]
}

// Pod returns the echo standing for a Deployment, starting it on first use.
// refuse makes a pod whose ports refuse connections (a Deployment whose
// container does not serve HTTP where its Services send traffic).
func (b *Backends) Pod(ns, name string, refuse bool) *Echo {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := ns + "/" + name
	if e, ok := b.pods[key]; ok {
		return e
	}
	e := &Echo{Name: name, Namespace: ns, hits: map[string]int{}, retries: map[string]int{}}
	switch {
	case b.fake:
		b.next++
		e.HTTPPort, e.H2CPort = 20000+2*b.next, 20001+2*b.next
	case refuse:
		e.HTTPPort = closedPort(b.t)
		e.H2CPort = e.HTTPPort
	default:
		h1 := httptest.NewUnstartedServer(e)
		h1.Start()
		h2 := httptest.NewUnstartedServer(e)
		h2.Config.Protocols = new(http.Protocols)
		h2.Config.Protocols.SetUnencryptedHTTP2(true)
		h2.Start()
		b.close = append(b.close, h1.Close, h2.Close)
		e.HTTPPort, e.H2CPort = portOf(h1.URL), portOf(h2.URL)
	}
	b.pods[key] = e
	return e
}

// Echo returns a started pod by Deployment name (namespace/name, or name
// in gateway-conformance-infra), or nil.
func (b *Backends) Echo(name string) *Echo {
	if !strings.Contains(name, "/") {
		name = Infra + "/" + name
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pods[name]
}

func portOf(url string) int {
	p, _ := strconv.Atoi(url[strings.LastIndexByte(url, ':')+1:])
	return p
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// ServeHTTP answers with what the request was. Query parameters steer it:
// delay waits before answering; responseCode and succeedAfter make the
// first succeedAfter requests carrying the same uuid answer responseCode,
// and delayRetry delays every request of a uuid after its first (the retry
// simulation of upstream's echo server). X-Echo-Set-Header ("Name:value,
// ...") adds response headers. An Upgrade: websocket request is switched
// and echoed byte for byte.
func (e *Echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.mu.Lock()
	e.hits[r.URL.Path]++
	try := 0
	if id := q.Get("uuid"); id != "" {
		e.retries[id]++
		try = e.retries[id]
	}
	e.mu.Unlock()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		echoUpgraded(w)
		return
	}
	delay, _ := time.ParseDuration(q.Get("delay"))
	if try > 1 {
		d, _ := time.ParseDuration(q.Get("delayRetry"))
		delay += d
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if code, _ := strconv.Atoi(q.Get("responseCode")); code != 0 && try > 0 {
		if after, _ := strconv.Atoi(q.Get("succeedAfter")); try <= after {
			w.WriteHeader(code)
			return
		}
	}
	for _, kv := range strings.Split(r.Header.Get("X-Echo-Set-Header"), ",") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			w.Header().Add(k, v)
		}
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Echoed{e.Name, e.Namespace, r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Proto, r.Header, string(body)})
}

// echoUpgraded switches protocols and sends back every byte it gets.
func echoUpgraded(w http.ResponseWriter) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	brw.Flush()
	buf := make([]byte, 512)
	for {
		n, err := brw.Read(buf)
		if n > 0 {
			conn.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// manifest is the part of a Service or Deployment the EndpointSlice
// controller reads.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Selector yaml.Node `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Image string `yaml:"image"`
					Env   []struct {
						Name string `yaml:"name"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// endpointSlices returns the EndpointSlices Kubernetes would make for the
// Services with a selector in services, over the Deployments in
// deployments: for each Deployment a Service selects, a slice listing that
// Deployment's pod. Pods serve HTTP on port
// 3000 and h2c on 3001 (other target ports get no endpoints); a Deployment
// whose echo container serves gRPC, TCP, UDP or TLS instead gets a pod that
// refuses connections.
func (b *Backends) endpointSlices(servicesFrom []byte, deploymentsFrom ...[]byte) []byte {
	services := manifestsOf("Service", servicesFrom)
	deployments := manifestsOf("Deployment", deploymentsFrom...)
	var out bytes.Buffer
	for _, s := range services {
		var selector map[string]string
		if s.Spec.Selector.Decode(&selector) != nil || len(selector) == 0 {
			continue
		}
		for _, d := range deployments {
			if d.Metadata.Namespace != s.Metadata.Namespace || !matches(selector, d.Spec.Template.Metadata.Labels) {
				continue
			}
			pod := b.Pod(d.Metadata.Namespace, d.Metadata.Name, !servesHTTP(d))
			var ports []string
			for _, p := range s.Spec.Ports {
				target := p.Port
				if n, ok := p.TargetPort.(int); ok {
					target = n
				}
				port := map[int]int{3000: pod.HTTPPort, 3001: pod.H2CPort}[target]
				if port == 0 {
					continue
				}
				ports = append(ports, fmt.Sprintf("{name: %q, port: %d}", p.Name, port))
			}
			if len(ports) == 0 {
				continue
			}
			fmt.Fprintf(&out, "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"+
				"metadata: {name: %s-%s, namespace: %s, labels: {kubernetes.io/service-name: %s}}\n"+
				"addressType: IPv4\nports: [%s]\nendpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]\n",
				s.Metadata.Name, d.Metadata.Name, s.Metadata.Namespace, s.Metadata.Name, strings.Join(ports, ", "))
		}
	}
	return out.Bytes()
}

// manifestsOf decodes the documents of one kind.
func manifestsOf(kind string, files ...[]byte) []manifest {
	var out []manifest
	for _, f := range files {
		dec := yaml.NewDecoder(bytes.NewReader(f))
		for {
			var doc manifest
			err := dec.Decode(&doc)
			var te *yaml.TypeError
			if err != nil && !errors.As(err, &te) {
				break // the end, or YAML the code under test reports
			}
			if err != nil || doc.Kind != kind {
				continue
			}
			if doc.Metadata.Namespace == "" {
				doc.Metadata.Namespace = "default"
			}
			out = append(out, doc)
		}
	}
	return out
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// servesHTTP reports whether a Deployment's echo container serves HTTP on
// its port 3000: upstream's echo image does unless told to be a gRPC, TCP,
// UDP or TLS server.
func servesHTTP(d manifest) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		if !strings.Contains(c.Image, "echo-basic") {
			return false
		}
		for _, e := range c.Env {
			switch e.Name {
			case "GRPC_ECHO_SERVER", "TCP_ECHO_SERVER", "UDP_ECHO_SERVER", "TLS_SERVER_CERT":
				return false
			}
		}
	}
	return len(d.Spec.Template.Spec.Containers) > 0
}

// render fills a retold manifest's placeholders: the GatewayClass name, and
// {{port NAME}} / {{address NAME}} with the HTTP port and address of the
// pod standing for Deployment NAME in gateway-conformance-infra.
func (b *Backends) render(m []byte, class string) []byte {
	s := strings.ReplaceAll(string(m), "{GATEWAY_CLASS_NAME}", class)
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		verb, name, _ := strings.Cut(s[i+2:i+j], " ")
		val := "127.0.0.1"
		if verb == "port" {
			val = strconv.Itoa(b.Pod(Infra, name, false).HTTPPort)
		}
		s = s[:i] + val + s[i+j+2:]
	}
	return []byte(s)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
