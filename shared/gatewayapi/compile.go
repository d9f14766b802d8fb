package gatewayapi

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluicegw/sluice/shared/route"
)

// providers Sluice can speak to, by an AIBackend's spec.provider.
var providers = map[string]bool{"openai": true}

// Check validates objects beyond their schema: values, and references
// between them. Every problem is returned, not just the first.
func Check(objs []*Object) []Problem {
	idx := index(objs)
	var probs []Problem
	seen := map[string]*Object{}
	for _, o := range objs {
		add := func(field, format string, args ...any) {
			probs = append(probs, Problem{File: o.File, Line: lineOf(o, field), Kind: o.Kind, Ref: o.Ref(), Field: field, Message: fmt.Sprintf(format, args...)})
		}
		if prev, dup := seen[o.Key()]; dup {
			add("metadata.name", "defined twice (also at %s:%d)", prev.File, prev.Line)
		}
		seen[o.Key()] = o
		switch v := o.Value.(type) {
		case *AIBackend:
			if !providers[v.Spec.Provider] {
				add("spec.provider", "unsupported provider %q (supported: openai)", v.Spec.Provider)
			}
			if u, err := url.Parse(v.Spec.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("spec.endpoint", "must be an http or https URL, got %q", v.Spec.Endpoint)
			}
			if v.Spec.CredentialRef != nil && v.Spec.CredentialRef.Name == "" {
				add("spec.credentialRef.name", "required")
			}
		case *gwv1.GatewayClass:
			if v.Spec.ControllerName != ControllerName {
				add("spec.controllerName", "Sluice serves controllerName %q, got %q", ControllerName, v.Spec.ControllerName)
			}
		case *gwv1.Gateway:
			if idx["GatewayClass/"+string(v.Spec.GatewayClassName)] == nil {
				add("spec.gatewayClassName", "GatewayClass %q not found", v.Spec.GatewayClassName)
			}
		case *gwv1.HTTPRoute:
			checkRoute(o, v, idx, add)
		}
	}
	return probs
}

func checkRoute(o *Object, r *gwv1.HTTPRoute, idx map[string]*Object, add func(field, format string, args ...any)) {
	for i, p := range r.Spec.ParentRefs {
		ns := o.Namespace
		if p.Namespace != nil {
			ns = string(*p.Namespace)
		}
		if (p.Kind == nil || *p.Kind == "Gateway") && idx["Gateway/"+ns+"/"+string(p.Name)] == nil {
			add(fmt.Sprintf("spec.parentRefs[%d].name", i), "Gateway %s/%s not found", ns, p.Name)
		}
	}
	for i, rule := range r.Spec.Rules {
		for j, m := range rule.Matches {
			field := fmt.Sprintf("spec.rules[%d].matches[%d]", i, j)
			if m.Path != nil && m.Path.Type != nil && *m.Path.Type == gwv1.PathMatchRegularExpression && m.Path.Value != nil {
				if _, err := regexp.Compile(*m.Path.Value); err != nil {
					add(field+".path.value", "invalid regular expression: %v", err)
				}
			}
			for k, h := range m.Headers {
				if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
					if _, err := regexp.Compile(h.Value); err != nil {
						add(fmt.Sprintf("%s.headers[%d].value", field, k), "invalid regular expression: %v", err)
					}
				}
			}
		}
		for j, b := range rule.BackendRefs {
			field := fmt.Sprintf("spec.rules[%d].backendRefs[%d]", i, j)
			if !isAIBackend(b.BackendRef) {
				add(field+".kind", "only sluice.dev AIBackend refs are supported so far, got %s/%s", group(b.Group), kindOf(b.Kind))
				continue
			}
			ns := o.Namespace
			if b.Namespace != nil && string(*b.Namespace) != ns {
				add(field+".namespace", "cross-namespace backend refs are not supported yet")
				continue
			}
			if idx["AIBackend/"+ns+"/"+string(b.Name)] == nil {
				add(field+".name", "AIBackend %s/%s not found", ns, b.Name)
			}
		}
	}
}

func group(g *gwv1.Group) string {
	if g == nil || *g == "" {
		return "core"
	}
	return string(*g)
}

func kindOf(k *gwv1.Kind) string {
	if k == nil {
		return "Service"
	}
	return string(*k)
}

func isAIBackend(b gwv1.BackendRef) bool {
	return b.Group != nil && string(*b.Group) == SluiceGroup && b.Kind != nil && string(*b.Kind) == "AIBackend"
}

func index(objs []*Object) map[string]*Object {
	m := make(map[string]*Object, len(objs))
	for _, o := range objs {
		m[o.Key()] = o
	}
	return m
}

func lineOf(o *Object, field string) int {
	if n := lookup(o.node, field); n != nil {
		return n.Line
	}
	return o.Line
}

// Compile translates checked objects into a prepared route table. created
// gives each route's creation time, which breaks precedence ties.
func Compile(objs []*Object, version int64, now time.Time, created func(*Object) time.Time) (*route.Table, error) {
	t := &route.Table{Version: version, Created: now.UTC()}
	backendIdx := map[string]int{}
	idx := index(objs)
	for _, o := range objs {
		r, ok := o.Value.(*gwv1.HTTPRoute)
		if !ok {
			continue
		}
		var hosts []string
		for _, h := range r.Spec.Hostnames {
			hosts = append(hosts, string(h))
		}
		for i, rule := range r.Spec.Rules {
			cr := route.Rule{Route: o.Ref()}
			for _, b := range rule.BackendRefs {
				weight := int32(1)
				if b.Weight != nil {
					weight = *b.Weight
				}
				bi := -1
				key := "AIBackend/" + o.Namespace + "/" + string(b.Name)
				if ab, ok := idx[key]; ok && isAIBackend(b.BackendRef) {
					if i, ok := backendIdx[key]; ok {
						bi = i
					} else {
						bi = len(t.Backends)
						backendIdx[key] = bi
						t.Backends = append(t.Backends, backendOf(ab))
					}
				}
				cr.Backends = append(cr.Backends, route.BackendRef{Backend: bi, Weight: weight})
			}
			t.Rules = append(t.Rules, cr)
			matches := rule.Matches
			if len(matches) == 0 {
				matches = []gwv1.HTTPRouteMatch{{}}
			}
			for j, m := range matches {
				t.Entries = append(t.Entries, route.Entry{
					Hostnames: hosts, Match: matchOf(m), Rule: len(t.Rules) - 1,
					Created: created(o), RouteName: o.Ref(), RuleIndex: i, MatchIdx: j,
				})
			}
		}
	}
	if err := t.Prepare(); err != nil {
		return nil, fmt.Errorf("gatewayapi: compile: %w", err)
	}
	return t, nil
}

func backendOf(o *Object) route.Backend {
	ab := o.Value.(*AIBackend)
	b := route.Backend{
		Name: o.Ref(), Provider: ab.Spec.Provider, Endpoint: trimSlash(ab.Spec.Endpoint),
		Models: append([]string(nil), ab.Spec.Models...), ModelMap: ab.Spec.ModelMap,
	}
	sort.Strings(b.Models)
	if ab.Spec.CredentialRef != nil {
		b.Credential = ab.Spec.CredentialRef.Name
	}
	return b
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func matchOf(m gwv1.HTTPRouteMatch) route.Match {
	var out route.Match
	out.Path = route.PathMatch{Type: route.PathPrefix, Value: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.Path.Type = route.PathType(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.Path.Value = *m.Path.Value
		}
	}
	if m.Method != nil {
		out.Method = string(*m.Method)
	}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, route.ValueMatch{Name: string(h.Name), Value: h.Value,
			Regex: h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression})
	}
	for _, q := range m.QueryParams {
		out.Query = append(out.Query, route.ValueMatch{Name: string(q.Name), Value: q.Value,
			Regex: q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression})
	}
	return out
}
