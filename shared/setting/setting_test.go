package setting

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestKinds(t *testing.T) {
	var (
		str    = Var{Env: "S", Default: "def"}
		boolv  = Var{Env: "B", Kind: Bool, Default: "true"}
		intv   = Var{Env: "I", Kind: Int, Default: "8"}
		dur    = Var{Env: "D", Kind: Duration, Default: "30s"}
		level  = Var{Env: "L", Kind: Level, Default: "info"}
		choice = Var{Env: "C", Kind: Choice, Choices: []string{"open", "closed"}, Default: "open"}
	)
	read := func(v Var) func(*Reader) any {
		switch v.Kind {
		case Bool:
			return func(r *Reader) any { return r.Bool(v) }
		case Int:
			return func(r *Reader) any { return r.Int(v) }
		case Duration:
			return func(r *Reader) any { return r.Duration(v) }
		case Level:
			return func(r *Reader) any { return r.Level(v) }
		case Choice:
			return func(r *Reader) any { return r.Choice(v) }
		}
		return func(r *Reader) any { return r.String(v) }
	}
	tests := []struct {
		name    string
		v       Var
		value   string // "" is unset
		want    any
		wantErr string // what the error says after `ENV="value": `
	}{
		{"string", str, "x", "x", ""},
		{"string default", str, "", "def", ""},
		{"bool", boolv, "false", false, ""},
		{"bool 0", boolv, "0", false, ""},
		{"bool default", boolv, "", true, ""},
		{"bool yes", boolv, "yes", nil, "want true or false"},
		{"int", intv, "1024", int64(1024), ""},
		{"int default", intv, "", int64(8), ""},
		{"int letters", intv, "abc", nil, "want a whole number above zero"},
		{"int zero", intv, "0", nil, "want a whole number above zero"},
		{"int negative", intv, "-1", nil, "want a whole number above zero"},
		{"int with unit", intv, "8MiB", nil, "want a whole number above zero"},
		{"duration", dur, "1m30s", 90 * time.Second, ""},
		{"duration default", dur, "", 30 * time.Second, ""},
		{"duration without unit", dur, "5", nil, "want a duration with its unit, such as 30s or 500ms"},
		{"duration zero", dur, "0s", nil, "want a duration above zero"},
		{"duration negative", dur, "-5s", nil, "want a duration above zero"},
		{"level", level, "debug", slog.LevelDebug, ""},
		{"level upper case", level, "WARN", slog.LevelWarn, ""},
		{"level default", level, "", slog.LevelInfo, ""},
		{"level loud", level, "loud", nil, "want debug, info, warn or error"},
		{"choice", choice, "closed", "closed", ""},
		{"choice default", choice, "", "open", ""},
		{"choice maybe", choice, "maybe", nil, "want open or closed"},
		{"choice case", choice, "Closed", nil, "want open or closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(env(map[string]string{tt.v.Env: tt.value}))
			got := read(tt.v)(r)
			err := r.Err()
			if tt.wantErr != "" {
				want := tt.v.Env + `="` + tt.value + `": ` + tt.wantErr
				if err == nil || err.Error() != want {
					t.Fatalf("error %v, want %s", err, want)
				}
				var se *Error
				if !errors.As(err, &se) || se.Env != tt.v.Env || se.Value != tt.value {
					t.Errorf("error %#v is not an *Error naming %s=%q", err, tt.v.Env, tt.value)
				}
				if tt.v.Check(tt.value) == nil {
					t.Errorf("Check(%q) accepts what the reader refuses", tt.value)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v (%T), want %v (%T)", got, got, tt.want, tt.want)
			}
			if err := tt.v.Check(tt.value); err != nil {
				t.Errorf("Check(%q) = %v, but the reader accepts it", tt.value, err)
			}
		})
	}
}

// TestEmpty: through getenv an empty value is unset (the default); through
// a lookup, a String setting set to "" is "", any other kind the default.
func TestEmpty(t *testing.T) {
	s := Var{Env: "S", Default: "def"}
	d := Var{Env: "D", Kind: Duration, Default: "30s"}
	r := NewReader(env(map[string]string{"S": "", "D": ""}))
	if got := r.String(s); got != "def" {
		t.Errorf("getenv: String = %q, want the default", got)
	}
	if got := r.Duration(d); got != 30*time.Second {
		t.Errorf("getenv: Duration = %v, want the default", got)
	}
	r = NewLookupReader(func(k string) (string, bool) { return "", true })
	if got := r.String(s); got != "" {
		t.Errorf("lookup: String = %q, want empty", got)
	}
	if got := r.Duration(d); got != 30*time.Second {
		t.Errorf("lookup: Duration = %v, want the default", got)
	}
	if err := r.Err(); err != nil {
		t.Error(err)
	}
}

// TestEveryBadValue: all the bad values are reported at once.
func TestEveryBadValue(t *testing.T) {
	r := NewReader(env(map[string]string{"A": "abc", "B": "5", "C": "ok"}))
	r.Int(Var{Env: "A", Kind: Int})
	r.Duration(Var{Env: "B", Kind: Duration})
	r.String(Var{Env: "C"})
	err := r.Err()
	if err == nil || !strings.Contains(err.Error(), `A="abc"`) || !strings.Contains(err.Error(), `B="5"`) || strings.Contains(err.Error(), "C=") {
		t.Errorf("error %v does not name A and B (only)", err)
	}
}

func TestVars(t *testing.T) {
	a, b := Var{Env: "A"}, Var{Env: "B", Kind: Bool}
	r := NewReader(env(nil))
	r.String(a)
	r.Bool(b)
	r.String(a)
	if got := r.Vars(); !reflect.DeepEqual(got, []Var{a, b}) {
		t.Errorf("Vars = %v, want A then B, once each", got)
	}
}

// TestKindMismatch: reading a setting as another kind than its own is a
// programming error, reported rather than read as a zero value.
func TestKindMismatch(t *testing.T) {
	r := NewReader(env(map[string]string{"D": "30s"}))
	r.String(Var{Env: "D", Kind: Duration})
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "D") {
		t.Errorf("error %v, want one naming D", err)
	}
}

// TestCommonDefaults: the defaults of the shared settings are valid values.
func TestCommonDefaults(t *testing.T) {
	for _, v := range []Var{RoutesTable, LedgerTable, DynamoDBEndpoint, LogLevel, LambdaStream} {
		if err := v.Check(v.Default); err != nil {
			t.Errorf("%s: default %q: %v", v.Env, v.Default, err)
		}
	}
}
