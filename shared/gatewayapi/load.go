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
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Level says what a problem does to the manifests it is found in.
type Level uint8

const (
	// Refused: the manifests are refused whole (malformed YAML, unknown
	// fields, wrong types, bad values such as a regular expression that
	// does not compile).
	Refused Level = iota
	// Condition: the objects are applied and the problem is reported as a
	// status condition with a standard reason (a ref that does not resolve,
	// a listener protocol Sluice does not serve, a route no listener takes).
	Condition
	// Notice: the object is kept as written and not served (a Deployment,
	// a kind of another group), or a fact worth knowing about the set.
	Notice
)

// Problem is one thing wrong with a manifest, located by file and line.
type Problem struct {
	File    string
	Line    int
	Kind    string
	Ref     string // namespace/name, or name for cluster-scoped kinds
	Field   string
	Message string
	// Reason is the condition's reason when Level is Condition
	// (RefNotPermitted, BackendNotFound, UnsupportedProtocol...).
	Reason string
	Level  Level
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

// Printed is the problem as `sluice validate` and `sluice apply` print
// it: a refusal as String has it, a condition or a notice after
// "condition: " or "note: ".
func (p Problem) Printed() string {
	switch p.Level {
	case Condition:
		return "condition: " + p.String()
	case Notice:
		return "note: " + p.String()
	}
	return p.String()
}

// Object is one decoded manifest document.
type Object struct {
	File      string
	Line      int
	Kind      string // the kind, with its group after a dot for kinds Sluice does not know ("Widget.example.com")
	Namespace string // empty for cluster-scoped kinds
	Name      string
	// Value is the decoded object: *gwv1.HTTPRoute, *gwv1.Gateway,
	// *Service, *AIBackend... for the kinds Sluice knows, and the
	// document as a map[string]any for the kinds it keeps without reading.
	Value any
	node  *yaml.Node
}

// Served reports whether Sluice acts on the object; the others are kept as
// written and reported.
func (o *Object) Served() bool { return Served(o.Kind) }

// Served reports whether Sluice acts on objects of a kind (as Object.Kind
// names it).
func Served(kind string) bool { return kinds[kind].served }

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
	// served kinds are acted on; the others are decoded (so their schema
	// is checked) and kept, with a status saying Sluice does not serve them.
	served bool
	// also is another apiVersion the same schema is accepted under.
	also string
}

const gwv1API = "gateway.networking.k8s.io/v1"

var kinds = map[string]kindInfo{
	"GatewayClass":       {gwv1API, false, func() any { return new(gwv1.GatewayClass) }, true, "gateway.networking.k8s.io/v1beta1"},
	"Gateway":            {gwv1API, true, func() any { return new(gwv1.Gateway) }, true, "gateway.networking.k8s.io/v1beta1"},
	"HTTPRoute":          {gwv1API, true, func() any { return new(gwv1.HTTPRoute) }, true, "gateway.networking.k8s.io/v1beta1"},
	"ReferenceGrant":     {gwv1API, true, func() any { return new(gwv1.ReferenceGrant) }, true, "gateway.networking.k8s.io/v1beta1"},
	"ListenerSet":        {gwv1API, true, func() any { return new(gwv1.ListenerSet) }, true, ""},
	"Namespace":          {"v1", false, func() any { return new(Namespace) }, true, ""},
	"Service":            {"v1", true, func() any { return new(Service) }, true, ""},
	"EndpointSlice":      {"discovery.k8s.io/v1", true, func() any { return new(EndpointSlice) }, true, ""},
	"AIBackend":          {SluiceAPIVersion, true, func() any { return new(AIBackend) }, true, ""},
	"InferencePool":      {"inference.networking.k8s.io/v1", true, func() any { return new(InferencePool) }, true, ""},
	"InferenceObjective": {InferenceObjectiveAPIs, true, func() any { return new(InferenceObjective) }, true, ""},
	"TokenLimitPolicy":   {SluiceAPIVersion, true, func() any { return new(TokenLimitPolicy) }, true, ""},
	"BackendPolicy":      {SluiceAPIVersion, true, func() any { return new(BackendPolicy) }, true, ""},
	"CachePolicy":        {SluiceAPIVersion, true, func() any { return new(CachePolicy) }, true, ""},
	"AccessLogPolicy":    {SluiceAPIVersion, true, func() any { return new(AccessLogPolicy) }, true, ""},
	// Gateway API kinds Sluice does not serve: their routes get a status
	// saying no listener takes them.
	"GRPCRoute":        {gwv1API, true, func() any { return new(gwv1.GRPCRoute) }, false, ""},
	"TLSRoute":         {gwv1API, true, func() any { return new(gwv1.TLSRoute) }, false, ""},
	"TCPRoute":         {gwv1API, true, func() any { return new(gwv1.TCPRoute) }, false, ""},
	"UDPRoute":         {gwv1API, true, func() any { return new(gwv1.UDPRoute) }, false, ""},
	"BackendTLSPolicy": {gwv1API, true, func() any { return new(gwv1.BackendTLSPolicy) }, false, ""},
}

// ownGroups are the API groups whose kinds Sluice knows by name: a kind of
// these groups it does not know is a mistake, not another controller's.
var ownGroups = map[string]bool{
	"gateway.networking.k8s.io": true, SluiceGroup: true, InferenceGroup: true, "inference.networking.x-k8s.io": true,
}

// knownKinds is for messages.
const knownKinds = "GatewayClass, Gateway, ListenerSet, HTTPRoute, ReferenceGrant, GRPCRoute, TLSRoute, TCPRoute, UDPRoute, BackendTLSPolicy, AIBackend, TokenLimitPolicy, CachePolicy, BackendPolicy, AccessLogPolicy, InferencePool, InferenceObjective"

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
				line, msg := yamlSyntaxError(files[f], err)
				probs = append(probs, Problem{File: f, Line: line, Message: "invalid YAML: " + msg})
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
		if line, msg, ok := yamlTypeError(err); ok {
			return nil, []Problem{{File: file, Line: line, Message: "invalid YAML: " + msg}}
		}
		return nil, []Problem{at("", nil, err.Error())}
	}
	m, _ := raw.(map[string]any)
	kind, _ := m["kind"].(string)
	apiVersion, _ := m["apiVersion"].(string)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.Contains(apiVersion, "/") {
		group = "" // core: "v1"
	}
	info, known := kinds[kind]
	if known && apiVersionGroup(info.apiVersion) != group {
		known = false // a kind of the same name in another group
	}
	o := &Object{File: file, Line: n.Line, Kind: kind, Name: name, node: n}
	switch {
	case known && info.namespaced:
		if ns == "" {
			ns = "default"
		}
		o.Namespace = ns
	case !known:
		o.Namespace = ns // Sluice does not know the kind's scope: as written
	}
	if !known && strings.Contains(group, ".") && !strings.HasSuffix(group, ".k8s.io") {
		o.Kind = kind + "." + group // another project's kind: its group keeps it apart
	}
	problem := func(field string, msg string) Problem {
		p := at(field, lookup(n, field), msg)
		p.Kind, p.Ref = o.Kind, o.Ref()
		return p
	}
	switch {
	case kind == "":
		return nil, []Problem{at("kind", nil, "missing kind")}
	case apiVersion == "":
		return nil, []Problem{problem("apiVersion", "missing apiVersion")}
	case !known && ownGroups[group]:
		return nil, []Problem{problem("kind", fmt.Sprintf("unknown kind %q in %s (known: %s)", kind, group, knownKinds))}
	case known && apiVersion != info.apiVersion && apiVersion != info.also && info.served:
		return nil, []Problem{problem("apiVersion", fmt.Sprintf("%s must be %q, got %q", kind, info.apiVersion, apiVersion))}
	case name == "":
		return nil, []Problem{problem("metadata.name", "required")}
	case !known || apiVersion != info.apiVersion && apiVersion != info.also:
		// Kept as written: another group's kind, or a version whose schema
		// Sluice does not have.
		o.Value = m
		return o, nil
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

func apiVersionGroup(apiVersion string) string {
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		return g
	}
	return ""
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

// Validate parses and checks the files on their own, as `sluice validate`
// does: every problem, in file and line order. It judges them as an apply
// of these files alone would, so a reference to an object that is not
// among them is a condition saying so, not a refusal.
func Validate(files map[string][]byte) ([]*Object, []Problem) {
	objs, probs := Parse(files)
	all, dups := Merge(nil, objs)
	probs = append(probs, dups...)
	probs = append(probs, analyze(all, true).problems...)
	SortProblems(probs)
	return objs, probs
}

// Merge returns the set as applied: the objects already applied, with the
// incoming ones in their place, in key order; and a refusal for each
// incoming object defined twice. Validate and the admin API's apply both
// judge manifests through it, so they agree on every file.
func Merge(applied, incoming []*Object) ([]*Object, []Problem) {
	var probs []Problem
	byKey := make(map[string]*Object, len(applied)+len(incoming))
	for _, o := range applied {
		byKey[o.Key()] = o
	}
	seen := map[string]*Object{}
	for _, o := range incoming {
		if prev, dup := seen[o.Key()]; dup {
			probs = append(probs, Problem{File: o.File, Line: lineOf(o, "metadata.name"), Kind: o.Kind, Ref: o.Ref(),
				Field: "metadata.name", Message: fmt.Sprintf("defined twice (also at %s:%d)", prev.File, prev.Line)})
		}
		seen[o.Key()] = o
		byKey[o.Key()] = o
	}
	all := make([]*Object, 0, len(byKey))
	for _, o := range byKey {
		all = append(all, o)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key() < all[j].Key() })
	return all, probs
}

// SortProblems orders problems by file and line, keeping the order of
// those on one line.
func SortProblems(probs []Problem) {
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].File != probs[j].File {
			return probs[i].File < probs[j].File
		}
		return probs[i].Line < probs[j].Line
	})
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

// generational is what an object with a metadata.generation offers.
type generational interface {
	GetGeneration() int64
	SetGeneration(int64)
}

// SetGenerations gives each incoming object the metadata.generation an API
// server would: 1 when it is new, the applied object's when only metadata
// or status changed, one more when anything else did. Status conditions
// carry it as their observedGeneration.
func SetGenerations(applied, incoming []*Object) {
	byKey := make(map[string]*Object, len(applied))
	for _, o := range applied {
		byKey[o.Key()] = o
	}
	for _, o := range incoming {
		g, ok := o.Value.(generational)
		if !ok {
			continue
		}
		prev, found := byKey[o.Key()]
		pg, _ := valueOf(prev).(generational)
		switch {
		case !found || pg == nil || pg.GetGeneration() == 0:
			g.SetGeneration(1)
		case sameSpec(prev.Value, o.Value):
			g.SetGeneration(pg.GetGeneration())
		default:
			g.SetGeneration(pg.GetGeneration() + 1)
		}
	}
}

func valueOf(o *Object) any {
	if o == nil {
		return nil
	}
	return o.Value
}

// sameSpec reports whether two objects differ in nothing but metadata and
// status.
func sameSpec(a, b any) bool {
	return bytes.Equal(specJSON(a), specJSON(b))
}

func specJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	delete(m, "metadata")
	delete(m, "status")
	out, _ := json.Marshal(m) // map keys come out sorted
	return out
}
