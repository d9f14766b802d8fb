package gatewayapi

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicegw/sluice/shared/redact"
	"github.com/sluicegw/sluice/shared/route"
)

// AccessLogPolicy (sluice.dev/v1alpha1) puts the prompt and the answer's
// text of the requests through the HTTPRoutes or Gateways it targets into
// their access log lines, redacted. Without one nothing a user wrote is
// logged. As with the other policies, a route's beats its Gateway's (so a
// route's policy logging neither turns a Gateway's off), and between two
// on one target the older wins.
type AccessLogPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AccessLogPolicySpec `json:"spec"`
	Status            PolicyStatus        `json:"status,omitempty"`
}

// AccessLogPolicySpec is the desired state of an AccessLogPolicy.
type AccessLogPolicySpec struct {
	TargetRefs []PolicyTargetRef `json:"targetRefs"`
	// Prompt logs the request's message texts; Answer the text the client
	// was sent, streamed or not.
	Prompt bool `json:"prompt,omitempty"`
	Answer bool `json:"answer,omitempty"`
	// MaxLength bounds each logged text in bytes (default 4096).
	MaxLength int `json:"maxLength,omitempty"`
	// Redaction adds patterns to, or turns off, the built-in ones.
	Redaction *Redaction `json:"redaction,omitempty"`
}

// Redaction says what is hidden in logged texts: the built-in patterns
// (apiKey, bearerToken, email, cardNumber) unless disabled, and Patterns.
type Redaction struct {
	DisableBuiltins []string           `json:"disableBuiltins,omitempty"`
	Patterns        []RedactionPattern `json:"patterns,omitempty"`
}

// RedactionPattern is an RE2 expression whose matches are replaced by a
// mark that shows Name.
type RedactionPattern struct {
	Name  string `json:"name"`
	Regex string `json:"regex"`
}

// AccessLogPolicy bounds.
const (
	DefaultLogLength  = 4096
	MaxLogLength      = 64 << 10
	accessLogKindName = "AccessLogPolicy"
)

func (a *analysis) checkAccessLogPolicy(o *Object, p *AccessLogPolicy) {
	a.checkTargetRefs(o, p.Spec.TargetRefs)
	s := &p.Spec
	if s.MaxLength < 0 || s.MaxLength > MaxLogLength {
		a.add(o, "spec.maxLength", "", "must be between 1 and %d bytes, got %d", MaxLogLength, s.MaxLength)
	}
	if s.Redaction == nil {
		return
	}
	for i, name := range s.Redaction.DisableBuiltins {
		if !redact.IsBuiltin(name) {
			a.add(o, fmt.Sprintf("spec.redaction.disableBuiltins[%d]", i), "", "must be one of %s, got %q", strings.Join(redact.Builtins(), ", "), name)
		}
	}
	names := map[string]bool{}
	for i, pt := range s.Redaction.Patterns {
		field := fmt.Sprintf("spec.redaction.patterns[%d]", i)
		switch {
		case pt.Name == "":
			a.add(o, field+".name", "", "required: it names the pattern in the mark that replaces a match")
		case names[pt.Name] || redact.IsBuiltin(pt.Name):
			a.add(o, field+".name", "", "%q is already a pattern's name", pt.Name)
		}
		names[pt.Name] = true
		if _, err := redact.Compile(pt.Regex); err != nil {
			a.add(o, field+".regex", "", "%v", err)
		}
	}
}

// accessLogFor returns the compiled AccessLogPolicy of a route: its own,
// else that of its first accepting parent Gateway that has one; nil when
// none applies or the one in force logs nothing.
func (ri *routeInfo) accessLogFor(byTarget map[string]*Object) *route.AccessLog {
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
	s := &o.Value.(*AccessLogPolicy).Spec
	if !s.Prompt && !s.Answer {
		return nil
	}
	c := &route.AccessLog{Policy: o.Ref(), Prompt: s.Prompt, Answer: s.Answer, MaxBytes: DefaultLogLength}
	if s.MaxLength > 0 {
		c.MaxBytes = s.MaxLength
	}
	if r := s.Redaction; r != nil {
		c.BuiltinOff = r.DisableBuiltins
		for _, p := range r.Patterns {
			c.Redact = append(c.Redact, redact.Pattern{Name: p.Name, Expr: p.Regex})
		}
	}
	return c
}
