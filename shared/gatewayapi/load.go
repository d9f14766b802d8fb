package gatewayapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Problem is one thing wrong with a manifest, located by file and line.
type Problem struct {
	File    string
	Line    int
	Kind    string
	Ref     string // namespace/name, or name for cluster-scoped kinds
	Field   string
	Message string
	// Reason is set for problems a Gateway API controller reports as a
	// status condition rather than a rejection (RefNotPermitted,
	// BackendNotFound, NoMatchingParent...). `sluice validate` prints them
	// all; the admin API stores such objects with their status.
	Reason string
}

// String formats the problem as "file:line: Kind/namespace/name: field:
// message", with the condition's reason before the message when it has one.
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	if p.Kind != "" {
		b.WriteString(p.Kind)
		if p.Ref != "" {
			b.WriteString("/" + p.Ref)
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	if p.Reason != "" {
		b.WriteString(p.Reason + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Object is one decoded manifest document.
type Object struct {
	File      string
	Line      int
	Kind      string
	Namespace string // empty for cluster-scoped kinds
	Name      string
	Value     any // *gwv1.HTTPRoute, *gwv1.Gateway, *corev1.Service, *AIBackend, ...
	node      *yaml.Node
}

// Ref is the object's namespace/name (name alone when cluster-scoped).
func (o *Object) Ref() string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}

// Key identifies the object among all others: Kind/namespace/name.
func (o *Object) Key() string { return o.Kind + "/" + o.Ref() }

type kindInfo struct {
	apiVersion string
	namespaced bool
	new        func() any
}

var kinds = map[string]kindInfo{
	"GatewayClass":       {"gateway.networking.k8s.io/v1", false, func() any { return new(gwv1.GatewayClass) }},
	"Gateway":            {"gateway.networking.k8s.io/v1", true, func() any { return new(gwv1.Gateway) }},
	"HTTPRoute":          {"gateway.networking.k8s.io/v1", true, func() any { return new(gwv1.HTTPRoute) }},
	"ReferenceGrant":     {"gateway.networking.k8s.io/v1", true, func() any { return new(gwv1.ReferenceGrant) }},
	"Service":            {"v1", true, func() any { return new(corev1.Service) }},
	"EndpointSlice":      {"discovery.k8s.io/v1", true, func() any { return new(discoveryv1.EndpointSlice) }},
	"AIBackend":          {SluiceAPIVersion, true, func() any { return new(AIBackend) }},
	"InferencePool":      {"inference.networking.k8s.io/v1", true, func() any { return new(InferencePool) }},
	"InferenceObjective": {InferenceObjectiveAPIs, true, func() any { return new(InferenceObjective) }},
	"TokenLimitPolicy":   {SluiceAPIVersion, true, func() any { return new(TokenLimitPolicy) }},
}

// supportedKinds is for messages.
const supportedKinds = "GatewayClass, Gateway, HTTPRoute, ReferenceGrant, Service, EndpointSlice, AIBackend, InferencePool, InferenceObjective, TokenLimitPolicy"

// ReadDir reads every .yaml and .yml file under path (a file or a directory).
func ReadDir(path string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[p] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gatewayapi: read %s: %w", path, err)
	}
	return files, nil
}

// Parse decodes the YAML documents of every file. Unknown kinds, unknown
// fields and wrong types are problems, reported with file and line.
func Parse(files map[string][]byte) ([]*Object, []Problem) {
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	var objs []*Object
	var probs []Problem
	for _, f := range names {
		dec := yaml.NewDecoder(bytes.NewReader(files[f]))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == io.EOF {
				break
			}
			if err != nil {
				probs = append(probs, Problem{File: f, Line: yamlErrLine(err), Message: "invalid YAML: " + err.Error()})
				break
			}
			if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
				continue // an empty document
			}
			o, p := decode(f, doc.Content[0])
			probs = append(probs, p...)
			if o != nil {
				objs = append(objs, o)
			}
		}
	}
	return objs, probs
}

func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	var line int
	fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line)
	return line
}

func decode(file string, n *yaml.Node) (*Object, []Problem) {
	at := func(field string, node *yaml.Node, msg string) Problem {
		line := n.Line
		if node != nil {
			line = node.Line
		}
		return Problem{File: file, Line: line, Field: field, Message: msg}
	}
	if n.Kind != yaml.MappingNode {
		return nil, []Problem{at("", nil, "a manifest must be a YAML mapping")}
	}
	var raw any
	if err := n.Decode(&raw); err != nil {
		return nil, []Problem{at("", nil, err.Error())}
	}
	m, _ := raw.(map[string]any)
	kind, _ := m["kind"].(string)
	apiVersion, _ := m["apiVersion"].(string)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	info, ok := kinds[kind]
	o := &Object{File: file, Line: n.Line, Kind: kind, Name: name, node: n}
	if info.namespaced {
		if ns == "" {
			ns = "default"
		}
		o.Namespace = ns
	}
	problem := func(field string, msg string) Problem {
		p := at(field, lookup(n, field), msg)
		p.Kind, p.Ref = kind, o.Ref()
		return p
	}
	switch {
	case kind == "":
		return nil, []Problem{at("kind", nil, "missing kind")}
	case !ok:
		return nil, []Problem{problem("kind", fmt.Sprintf("unsupported kind %q (supported: %s)", kind, supportedKinds))}
	case apiVersion != info.apiVersion && !(kind == "ReferenceGrant" && apiVersion == "gateway.networking.k8s.io/v1beta1"):
		return nil, []Problem{problem("apiVersion", fmt.Sprintf("%s must be %q, got %q", kind, info.apiVersion, apiVersion))}
	case name == "":
		return nil, []Problem{problem("metadata.name", "required")}
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, []Problem{problem("", err.Error())}
	}
	v := info.new()
	jd := json.NewDecoder(bytes.NewReader(js))
	jd.DisallowUnknownFields()
	if err := jd.Decode(v); err != nil {
		field, msg := jsonErrField(err)
		if msg == "unknown field" {
			if path := pathOf(n, field, ""); path != "" {
				field = path
			}
		}
		return nil, []Problem{problem(field, msg)}
	}
	o.Value = v
	return o, nil
}

// jsonErrField turns a decoding error into a field path and message.
func jsonErrField(err error) (string, string) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field, "expected " + te.Type.String() + ", got a " + te.Value
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return strings.Trim(f, `"`), "unknown field"
	}
	return "", msg
}

// lookup finds the node of a dotted field path ("spec.rules"), falling back
// to the nearest ancestor found, or to a key of that last name anywhere.
func lookup(n *yaml.Node, path string) *yaml.Node {
	if path == "" {
		return nil
	}
	parts := strings.Split(path, ".")
	cur := n
	for _, p := range parts {
		name, idx := p, -1
		if i := strings.IndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
			name = p[:i]
			fmt.Sscanf(p[i+1:len(p)-1], "%d", &idx)
		}
		next := value(cur, name)
		if next != nil && idx >= 0 {
			if next.Kind == yaml.SequenceNode && idx < len(next.Content) {
				next = next.Content[idx]
			} else {
				next = nil
			}
		}
		if next == nil {
			if found := findKey(n, name); found != nil && cur == n {
				return found
			}
			return cur
		}
		cur = next
	}
	return cur
}

// value returns the value node under key in a mapping.
func value(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// pathOf returns the dotted path of the first key named key under n.
func pathOf(n *yaml.Node, key, prefix string) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if k == key {
				return p
			}
			if found := pathOf(n.Content[i+1], key, p); found != "" {
				return found
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if found := pathOf(c, key, fmt.Sprintf("%s[%d]", prefix, i)); found != "" {
				return found
			}
		}
	}
	return ""
}

// Validate parses and checks the files: every problem, in file and line order.
func Validate(files map[string][]byte) ([]*Object, []Problem) {
	objs, probs := Parse(files)
	probs = append(probs, Check(objs)...)
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].File != probs[j].File {
			return probs[i].File < probs[j].File
		}
		return probs[i].Line < probs[j].Line
	})
	return objs, probs
}

func findKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i]
			}
		}
	}
	for _, c := range n.Content {
		if f := findKey(c, key); f != nil {
			return f
		}
	}
	return nil
}
