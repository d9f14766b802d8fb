package gatewayapi

import (
	"fmt"
	"math"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicegw/sluice/shared/route"
)

// CachePolicy (sluice.dev/v1alpha1) turns the response cache on for the
// HTTPRoutes or Gateways it targets. As with TokenLimitPolicy, a policy on
// a route wins over one on its Gateway, and between two on one target the
// older wins; the loser gets Accepted=False, Conflicted.
type CachePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CachePolicySpec `json:"spec"`
	Status            PolicyStatus    `json:"status,omitempty"`
}

// CachePolicySpec is the desired state of a CachePolicy.
type CachePolicySpec struct {
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// Mode is exact (default), semantic or both.
	Mode string `json:"mode,omitempty"`
	// TTL is how long an answer is kept, as a Go duration (default 1h).
	TTL string `json:"ttl,omitempty"`
	// MaxEntryBytes bounds a stored answer (default 256 KiB, at most 4 MiB).
	MaxEntryBytes int `json:"maxEntryBytes,omitempty"`
	// Scope is route (default: every key of the route shares answers),
	// consumer or key.
	Scope string `json:"scope,omitempty"`
	// CacheTemperature caches requests sampled above temperature zero
	// (a request that sets none samples at the provider's default, 1).
	CacheTemperature bool `json:"cacheTemperature,omitempty"`
	// CacheLengthCut stores answers cut at the token limit.
	CacheLengthCut bool `json:"cacheLengthCut,omitempty"`
	// CacheToolCalls stores answers that call tools.
	CacheToolCalls bool `json:"cacheToolCalls,omitempty"`
	// Semantic holds the settings of modes semantic and both.
	Semantic *SemanticCache `json:"semantic,omitempty"`
}

// SemanticCache configures the "similar question" lookup.
type SemanticCache struct {
	// Threshold is the cosine similarity a hit needs (default 0.95).
	Threshold *float64 `json:"threshold,omitempty"`
	// EmbeddingBackend is the AIBackend, in the policy's namespace, that
	// serves /v1/embeddings; EmbeddingModel the model asked of it.
	EmbeddingBackend string `json:"embeddingBackend"`
	EmbeddingModel   string `json:"embeddingModel,omitempty"`
	// Text is lastUserTurn (default) or conversation, the last Turns
	// messages (default 4).
	Text  string `json:"text,omitempty"`
	Turns int    `json:"turns,omitempty"`
	// EmbeddingBudget is the longest the embedding call may delay a
	// request, as a Go duration (default 150ms).
	EmbeddingBudget string `json:"embeddingBudget,omitempty"`
}

// CachePolicy defaults.
const (
	DefaultCacheTTL          = time.Hour
	DefaultCacheEntryBytes   = 256 << 10
	MaxCacheEntryBytes       = 4 << 20
	DefaultCacheThreshold    = 0.95
	DefaultCacheTurns        = 4
	DefaultEmbeddingBudget   = 150 * time.Millisecond
	cacheKindName            = "CachePolicy"
	lastUserTurn, wholeTurns = "lastUserTurn", "conversation"
)

func (a *analysis) checkCachePolicy(o *Object, p *CachePolicy) {
	a.checkTargetRefs(o, p.Spec.TargetRefs)
	s := &p.Spec
	switch s.Mode {
	case "", "exact", "semantic", "both":
	default:
		a.add(o, "spec.mode", "", "must be exact, semantic or both, got %q", s.Mode)
	}
	if s.TTL != "" {
		if d, err := time.ParseDuration(s.TTL); err != nil || d <= 0 {
			a.add(o, "spec.ttl", "", "must be a positive duration such as 10m or 24h, got %q", s.TTL)
		}
	}
	if s.MaxEntryBytes < 0 || s.MaxEntryBytes > MaxCacheEntryBytes {
		a.add(o, "spec.maxEntryBytes", "", "must be between 1 and %d, got %d", MaxCacheEntryBytes, s.MaxEntryBytes)
	}
	switch s.Scope {
	case "", "route", "consumer", "key":
	default:
		a.add(o, "spec.scope", "", "must be route, consumer or key, got %q", s.Scope)
	}
	semantic := s.Mode == "semantic" || s.Mode == "both"
	if semantic && s.Semantic == nil {
		a.add(o, "spec.semantic", "", "required when mode is %s: name at least the embeddingBackend", s.Mode)
	}
	if s.Semantic == nil {
		return
	}
	m := s.Semantic
	if t := m.Threshold; t != nil && (math.IsNaN(*t) || *t <= 0 || *t > 1) {
		a.add(o, "spec.semantic.threshold", "", "must be a cosine similarity in (0, 1], got %v", *t)
	}
	switch {
	case m.EmbeddingBackend == "":
		if semantic {
			a.add(o, "spec.semantic.embeddingBackend", "", "required: the AIBackend that serves /v1/embeddings")
		}
	case a.idx["AIBackend/"+o.Namespace+"/"+m.EmbeddingBackend] == nil:
		a.add(o, "spec.semantic.embeddingBackend", "", "%s", a.missing("AIBackend", o.Namespace, m.EmbeddingBackend))
	}
	switch m.Text {
	case "", lastUserTurn, wholeTurns:
	default:
		a.add(o, "spec.semantic.text", "", "must be %s or %s, got %q", lastUserTurn, wholeTurns, m.Text)
	}
	if m.Turns < 0 || (m.Turns > 0 && m.Text != wholeTurns) {
		a.add(o, "spec.semantic.turns", "", "must be a positive number of messages, and only with text: %s; got %d", wholeTurns, m.Turns)
	}
	if m.EmbeddingBudget != "" {
		if d, err := time.ParseDuration(m.EmbeddingBudget); err != nil || d <= 0 {
			a.add(o, "spec.semantic.embeddingBudget", "", "must be a positive duration such as 150ms, got %q", m.EmbeddingBudget)
		}
	}
}

// checkTargetRefs checks a policy's targetRefs: HTTPRoutes or Gateways of
// the Gateway API group, in the policy's namespace.
func (a *analysis) checkTargetRefs(o *Object, refs []PolicyTargetRef) {
	if len(refs) == 0 {
		a.add(o, "spec.targetRefs", "", "at least one target is required")
	}
	for i, t := range refs {
		field := fmt.Sprintf("spec.targetRefs[%d]", i)
		switch {
		case t.Group != GatewayGroup:
			a.add(o, field+".group", "", "must be %q, got %q", GatewayGroup, t.Group)
		case t.Kind != "HTTPRoute" && t.Kind != "Gateway":
			a.add(o, field+".kind", "", "must be HTTPRoute or Gateway, got %q", t.Kind)
		case t.Name == "":
			a.add(o, field+".name", "", "required")
		case a.idx[t.Kind+"/"+o.Namespace+"/"+t.Name] == nil:
			a.add(o, field+".name", PolicyReasonTargetNotFound, "%s", a.missing(t.Kind, o.Namespace, t.Name))
		}
	}
}

// cacheFor returns the compiled CachePolicy of a route's rule i: the
// route's own, else that of its first accepting parent Gateway that has
// one; nil when none applies.
func (ri *routeInfo) cacheFor(byTarget map[string]*Object, i int) *route.Cache {
	o := byTarget["HTTPRoute/"+ri.obj.Ref()]
	if o == nil {
		for _, p := range ri.parents {
			if p.accepted {
				if o = byTarget[p.gateway.obj.Key()]; o != nil {
					break
				}
			}
		}
	}
	if o == nil {
		return nil
	}
	return compileCache(o, ri.obj.Ref()+"/"+strconv.Itoa(i))
}

func compileCache(o *Object, scope string) *route.Cache {
	s := &o.Value.(*CachePolicy).Spec
	c := &route.Cache{Policy: o.Ref(), Scope: scope, TTL: DefaultCacheTTL, MaxBytes: DefaultCacheEntryBytes,
		Exact: s.Mode != "semantic", Semantic: s.Mode == "semantic" || s.Mode == "both",
		PerConsumer: s.Scope == "consumer", PerKey: s.Scope == "key",
		AllowTemperature: s.CacheTemperature, AllowLengthCut: s.CacheLengthCut, AllowToolCalls: s.CacheToolCalls}
	if d, err := time.ParseDuration(s.TTL); err == nil && d > 0 {
		c.TTL = d
	}
	if s.MaxEntryBytes > 0 {
		c.MaxBytes = s.MaxEntryBytes
	}
	if m := s.Semantic; m != nil {
		c.Threshold, c.EmbeddingBudget = DefaultCacheThreshold, DefaultEmbeddingBudget
		if m.Threshold != nil {
			c.Threshold = *m.Threshold
		}
		c.EmbeddingBackend, c.EmbeddingModel = m.EmbeddingBackend, m.EmbeddingModel
		if m.Text == wholeTurns {
			c.Turns = DefaultCacheTurns
			if m.Turns > 0 {
				c.Turns = m.Turns
			}
		}
		if d, err := time.ParseDuration(m.EmbeddingBudget); err == nil && d > 0 {
			c.EmbeddingBudget = d
		}
	}
	return c
}
