// Package setting reads an entrypoint's settings from environment variables
// (and, in the local process, from the flags that override them), so that
// each setting has one name, one default and one parser, and a bad value
// stops the start with an error naming the variable instead of quietly
// becoming the default.
//
// Entrypoints read their settings once, at start, through a Reader; the
// packages they configure take values and never read the environment. A
// Reader remembers the settings it was asked for, which is how an
// entrypoint lists what it reads (the README's configuration table is
// checked against that list).
package setting

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a setting's value.
type Kind uint8

const (
	String   Kind = iota // any text
	Bool                 // true or false (as strconv.ParseBool reads them)
	Int                  // a whole number above zero
	Duration             // a time.Duration with its unit ("30s"), above zero
	Level                // a log/slog level: debug, info, warn or error
	Choice               // one of the setting's Choices
)

// Var is one setting.
type Var struct {
	Env     string   // its environment variable
	Flag    string   // the local process's flag for it; empty when only a Lambda function reads it
	Kind    Kind     // how its value is parsed
	Choices []string // the values a Choice accepts
	Default string   // its value when unset, in the form a user would write it
	Doc     string   // what it means, in a line (the local flag's usage)
}

// Check reports why s is not a valid value of v; the empty string is
// valid, and means the default.
func (v Var) Check(s string) error {
	_, err := v.parse(s)
	return err
}

// parse reads s as v's kind; empty s is the default.
func (v Var) parse(s string) (any, error) {
	if s == "" && v.Kind != String {
		s = v.Default
	}
	switch v.Kind {
	case String:
		return s, nil
	case Bool:
		if s == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errors.New("want true or false")
		}
		return b, nil
	case Int:
		if s == "" {
			return int64(0), nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return nil, errors.New("want a whole number above zero")
		}
		return n, nil
	case Duration:
		if s == "" {
			return time.Duration(0), nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, errors.New("want a duration with its unit, such as 30s or 500ms")
		}
		if d <= 0 {
			return nil, errors.New("want a duration above zero")
		}
		return d, nil
	case Level:
		var l slog.Level
		if s == "" {
			return l, nil
		}
		if err := l.UnmarshalText([]byte(s)); err != nil {
			return nil, errors.New("want debug, info, warn or error")
		}
		return l, nil
	case Choice:
		for _, c := range v.Choices {
			if s == c {
				return s, nil
			}
		}
		return nil, fmt.Errorf("want %s", strings.Join(v.Choices, " or "))
	}
	return nil, fmt.Errorf("setting: %s has no kind %d", v.Env, v.Kind)
}

// Error is a setting's bad value.
type Error struct {
	Env   string // the variable
	Value string // what it was set to
	Err   error  // why that is not a valid value
}

func (e *Error) Error() string { return fmt.Sprintf("%s=%q: %v", e.Env, e.Value, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Reader reads settings through a lookup function, keeping every bad value
// for Err and every setting asked for for Vars.
type Reader struct {
	lookup func(string) (string, bool)
	vars   []Var
	seen   map[string]bool
	errs   []error
}

// NewReader reads settings through getenv (os.Getenv, or a map's lookup in
// tests); an empty value means the default.
func NewReader(getenv func(string) string) *Reader {
	return NewLookupReader(func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	})
}

// NewLookupReader reads settings through lookup (os.LookupEnv), which tells
// a String setting set to "" (kept as "") from one not set at all (its
// default). For the other kinds an empty value means the default.
func NewLookupReader(lookup func(string) (string, bool)) *Reader {
	return &Reader{lookup: lookup, seen: map[string]bool{}}
}

// value is v's parsed value, or its zero value when the value is bad or
// not of kind k.
func (r *Reader) value(v Var, k Kind) any {
	if !r.seen[v.Env] {
		r.seen[v.Env] = true
		r.vars = append(r.vars, v)
	}
	if v.Kind != k {
		r.errs = append(r.errs, fmt.Errorf("setting: %s is not read as its kind", v.Env))
		return nil
	}
	s, ok := r.lookup(v.Env)
	if !ok {
		s = v.Default
	}
	x, err := v.parse(s)
	if err != nil {
		r.errs = append(r.errs, &Error{Env: v.Env, Value: s, Err: err})
	}
	return x
}

// String returns a String setting.
func (r *Reader) String(v Var) string { s, _ := r.value(v, String).(string); return s }

// Bool returns a Bool setting.
func (r *Reader) Bool(v Var) bool { b, _ := r.value(v, Bool).(bool); return b }

// Int returns an Int setting.
func (r *Reader) Int(v Var) int64 { n, _ := r.value(v, Int).(int64); return n }

// Duration returns a Duration setting.
func (r *Reader) Duration(v Var) time.Duration {
	d, _ := r.value(v, Duration).(time.Duration)
	return d
}

// Level returns a Level setting.
func (r *Reader) Level(v Var) slog.Level { l, _ := r.value(v, Level).(slog.Level); return l }

// Choice returns a Choice setting.
func (r *Reader) Choice(v Var) string { s, _ := r.value(v, Choice).(string); return s }

// Err returns every bad value read so far, joined; nil when there was none.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Vars returns the settings read so far, each once, in the order first read.
func (r *Reader) Vars() []Var { return r.vars }

// Read runs an entrypoint's configuration reader over getenv and returns
// what it built, or every value that did not parse, so that a typo stops
// the start instead of quietly becoming the default.
func Read[T any](getenv func(string) string, from func(*Reader) T) (T, error) {
	r := NewReader(getenv)
	cfg := from(r)
	if err := r.Err(); err != nil {
		var zero T
		return zero, err
	}
	return cfg, nil
}

// VarsOf lists the variables a configuration reader reads, in its order.
func VarsOf[T any](from func(*Reader) T) []Var {
	r := NewReader(func(string) string { return "" })
	from(r)
	return r.Vars()
}
