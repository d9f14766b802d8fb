package route

import (
	"fmt"

	"github.com/sluicegw/sluice/shared/redact"
)

// AccessLog is the AccessLogPolicy in force on a rule, compiled: which
// texts the access log line carries, how long each may be, and what is
// hidden in them. Without one, prompts and answers are never logged.
type AccessLog struct {
	Policy string `json:"policy"` // namespace/name of the AccessLogPolicy
	Prompt bool   `json:"prompt,omitempty"`
	Answer bool   `json:"answer,omitempty"`
	// MaxBytes bounds each logged text; the rest is cut with a note.
	MaxBytes int `json:"maxBytes"`
	// BuiltinOff names built-in redaction patterns turned off; Redact
	// holds the policy's own.
	BuiltinOff []string         `json:"builtinOff,omitempty"`
	Redact     []redact.Pattern `json:"redact,omitempty"`

	redactor *redact.Redactor
}

// Redactor is the compiled redaction of the policy, nil before Prepare.
func (a *AccessLog) Redactor() *redact.Redactor { return a.redactor }

// Prepare compiles the redaction; Table.Prepare calls it for every rule.
func (a *AccessLog) Prepare() error {
	r, err := redact.New(a.BuiltinOff, a.Redact)
	if err != nil {
		return fmt.Errorf("access log policy %s: %w", a.Policy, err)
	}
	a.redactor = r
	return nil
}
