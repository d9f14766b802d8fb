package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/gatewayapi"
	"github.com/sluicegw/sluice/shared/ledger"
)

// command is one subcommand. Each has a flag set of its own, so its help
// lists only its flags and a flag of another command is an error.
type command struct {
	name     string // "validate", "keys create"
	synopsis string // what follows the name in the usage line
	summary  string
	// admin commands talk to the admin API and take --endpoint and
	// --admin-token.
	admin bool
	// args bounds the positional arguments.
	minArgs, maxArgs int
	// setup defines the command's flags on fs and returns what runs once
	// they are parsed.
	setup func(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error
}

// session is what a running command works with.
type session struct {
	out    io.Writer
	client client
}

// errUsage is a mistake in the command line: exit status 2, with a pointer
// to the command's help.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

var commands = []command{
	{name: "validate", synopsis: "-f PATH [--strict]", summary: "check manifests offline: refusals fail it, and conditions too with --strict",
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			file := fs.String("f", "", "the manifest file, or a `PATH` whose .yaml and .yml files (in every subfolder) are read")
			strict := fs.Bool("strict", false, "fail on conditions too (a ref that does not resolve, a listener or field Sluice does not serve)")
			return func(_ context.Context, s *session, _ []string) error {
				if *file == "" {
					return usagef("validate needs -f PATH")
				}
				return validate(*file, *strict, s.out)
			}
		}},
	{name: "apply", synopsis: "-f PATH [--dry-run]", summary: "apply manifests through the admin API", admin: true,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			file := fs.String("f", "", "the manifest file, or a `PATH` whose .yaml and .yml files (in every subfolder) are read")
			dryRun := fs.Bool("dry-run", false, "validate and compile on the server, and say what would be applied, without storing anything")
			return func(ctx context.Context, s *session, _ []string) error {
				if *file == "" {
					return usagef("apply needs -f PATH")
				}
				return s.client.apply(ctx, *file, *dryRun, s.out)
			}
		}},
	{name: "get", synopsis: "[KIND [NAME]] [-n NS]", summary: "list applied objects and their status; one object in full", admin: true, maxArgs: 2,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			namespace := fs.String("n", "", "only objects in this `NS` (namespace; default: every namespace)")
			return func(ctx context.Context, s *session, args []string) error {
				kind, name := "", ""
				if len(args) > 0 {
					k, err := s.client.kindOf(ctx, args[0])
					if err != nil {
						return err
					}
					kind = k
				}
				if len(args) > 1 {
					name = args[1]
				}
				return s.client.get(ctx, kind, name, *namespace, s.out)
			}
		}},
	{name: "delete", synopsis: "KIND NAME [-n NS]", summary: "delete an applied object", admin: true, minArgs: 2, maxArgs: 2,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			namespace := fs.String("n", "", "the object's namespace, `NS` (default \"default\"; none for GatewayClass)")
			return func(ctx context.Context, s *session, args []string) error {
				kind, err := s.client.kindOf(ctx, args[0])
				if err != nil {
					return err
				}
				return s.client.delete(ctx, kind, args[1], *namespace, s.out)
			}
		}},
	{name: "rollback", synopsis: "[--to VERSION]", summary: "restore the objects and routes of an earlier table version, as a new version", admin: true,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			to := fs.Int64("to", 0, "the table `VERSION` to restore (default: the one before the newest)")
			return func(ctx context.Context, s *session, _ []string) error {
				set := false
				fs.Visit(func(f *flag.Flag) { set = set || f.Name == "to" })
				if set && *to < 1 {
					return usagef("--to %d is not a table version: versions start at 1 (leave --to out for the one before the newest)", *to)
				}
				return s.client.rollback(ctx, *to, s.out)
			}
		}},
	{name: "keys create", synopsis: "--name NAME [--consumer TEAM] [limits]", summary: "create an API key (its secret is shown once)", admin: true,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			name := fs.String("name", "", "the key's `NAME` (required)")
			consumer := fs.String("consumer", "", "the `TEAM` or application the key belongs to; consumer limits and usage sum its keys")
			var lim ledger.Limits
			fs.Int64Var(&lim.RequestsPerMinute, "rpm", 0, "`N` requests per minute")
			fs.Int64Var(&lim.TokensPerMinute, "tpm", 0, "`N` tokens per minute")
			fs.Int64Var(&lim.TokensPerDay, "tpd", 0, "`N` tokens per UTC day")
			fs.Int64Var(&lim.TokensPerMonth, "tokens-per-month", 0, "`N` tokens per calendar month")
			fs.Float64Var(&lim.BudgetUSD, "budget-usd", 0, "spend budget per calendar month, `X` USD")
			fs.Func("model-limit", "limits for one model, `MODEL:rpm=N,tpm=N,tpd=N,tpmonth=N,usd=X` (repeatable)", func(v string) error {
				return parseModelLimit(&lim, v)
			})
			return func(ctx context.Context, s *session, _ []string) error {
				if *name == "" {
					return usagef("keys create needs --name")
				}
				if err := lim.Validate(); err != nil {
					return errUsage{err.Error()}
				}
				return s.client.createKey(ctx, admin.CreateKeyRequest{Name: *name, Consumer: *consumer, Limits: lim}, s.out)
			}
		}},
	{name: "keys list", summary: "list keys (never their secrets)", admin: true,
		setup: func(*flag.FlagSet) func(context.Context, *session, []string) error {
			return func(ctx context.Context, s *session, _ []string) error { return s.client.listKeys(ctx, s.out) }
		}},
	{name: "keys revoke", synopsis: "ID", summary: "revoke a key (gateways refuse it within their key cache bound, 30 s)", admin: true, minArgs: 1, maxArgs: 1,
		setup: func(*flag.FlagSet) func(context.Context, *session, []string) error {
			return func(ctx context.Context, s *session, args []string) error {
				return s.client.revokeKey(ctx, args[0], s.out)
			}
		}},
	{name: "keys rotate", synopsis: "ID [--grace 24h]", summary: "new secret, shown once; the old one works for the grace period", admin: true, minArgs: 1, maxArgs: 1,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			grace := fs.Duration("grace", 24*time.Hour, "how long the old secret keeps working, a `DURATION` such as 1h or 0s")
			return func(ctx context.Context, s *session, args []string) error {
				return s.client.rotateKey(ctx, args[0], *grace, s.out)
			}
		}},
	{name: "top", synopsis: "[--interval 2s] [--source metrics|live] [--window 5m]", summary: "live view of requests, tokens, latency and errors per route and backend, from the local process or a deployed admin API (Ctrl-C quits)", admin: true,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			interval := fs.Duration("interval", 0, "how often to redraw (default 2s from /metrics, 30s from CloudWatch, whose figures are per minute)")
			source := fs.String("source", "", "read `metrics` (a local process's /metrics) or live (a deployed admin API's figures from CloudWatch); default: metrics for a loopback endpoint, live otherwise")
			window := fs.Duration("window", 0, "the live figures' sliding window, 1m to 3h (default 5m)")
			return func(ctx context.Context, s *session, _ []string) error {
				if *interval < 0 {
					return usagef("--interval must be positive")
				}
				if *window != 0 && (*window < admin.LiveMinWindow || *window > admin.LiveMaxWindow) {
					return usagef("--window must be from %s to %s", admin.LiveMinWindow, admin.LiveMaxWindow)
				}
				return runTop(ctx, &s.client, topOptions{source: *source, interval: *interval, window: *window}, s.out)
			}
		}},
	{name: "usage", synopsis: "[--key ID | --consumer NAME] [--since 7d] [--by model|day]", summary: "requests, tokens and cost from the ledger", admin: true,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			key := fs.String("key", "", "one key's usage, by its `ID`")
			consumer := fs.String("consumer", "", "one consumer's usage, by its `NAME`")
			since := fs.String("since", "7d", "the `PERIOD`: 7d, 12h or a date (UTC days)")
			by := fs.String("by", "model", "group rows `BY` model, day or day,model")
			return func(ctx context.Context, s *session, _ []string) error {
				return s.client.usage(ctx, *key, *consumer, *since, *by, s.out)
			}
		}},
	{name: "ui", synopsis: "[--addr 127.0.0.1:8090]", summary: "serve the usage page on this machine, reading the admin API (SigV4 for a deployed one)", admin: true,
		setup: func(fs *flag.FlagSet) func(context.Context, *session, []string) error {
			addr := fs.String("addr", "127.0.0.1:8090", "the loopback `ADDRESS` to serve the page on (port 0: any free one)")
			return func(ctx context.Context, s *session, _ []string) error {
				return s.client.ui(ctx, *addr, s.out)
			}
		}},
}

// usage is the overview `sluice --help` prints.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: sluice COMMAND [flags]\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n      %s\n", strings.TrimSpace("sluice "+c.name+" "+c.synopsis), c.summary)
	}
	b.WriteString("\nCommands that talk to the admin API also take --endpoint URL ($SLUICE_ENDPOINT, default\n" +
		"the local process) and --admin-token TOKEN ($SLUICE_ADMIN_TOKEN, default the local process's\n" +
		".sluice/admin-token in this checkout). 'sluice COMMAND --help' lists a command's flags.\n")
	return b.String()
}

// run runs the command line args and returns the exit status: 0 done, 1
// failed (problems in manifests, an error from the admin API), 2 a mistake
// in the command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	if isHelp(args[0]) || args[0] == "help" && len(args) == 1 {
		fmt.Fprint(stdout, usage())
		return 0
	}
	if args[0] == "help" {
		args = append(args[1:], "--help") // sluice help apply: apply's help
	}
	if args[0] == "keys" && len(args) > 1 && isHelp(args[1]) {
		fmt.Fprintf(stdout, "usage: sluice keys COMMAND\n\ncommands: %s; 'sluice keys COMMAND --help' lists a command's flags\n", strings.Join(subcommands("keys"), ", "))
		return 0
	}
	cmd, rest, err := find(args)
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return 2
	}
	fs := flag.NewFlagSet("sluice "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed below
	runCmd := cmd.setup(fs)
	s := &session{out: stdout}
	if cmd.admin {
		fs.StringVar(&s.client.endpoint, "endpoint", envOr("SLUICE_ENDPOINT", defaultEndpoint), "the admin API's base `URL` ($SLUICE_ENDPOINT)")
		fs.StringVar(&s.client.token, "admin-token", "", "the local process's admin `TOKEN` ($SLUICE_ADMIN_TOKEN; default: the one in .sluice/admin-token of this checkout)")
	}
	pos, err := parseInterspersed(fs, rest)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, cmd.help(fs))
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "sluice %s: %v\nrun 'sluice %s --help' for its flags\n", cmd.name, err, cmd.name)
		return 2
	case len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs:
		fmt.Fprintf(stderr, "sluice %s: %s\nusage: sluice %s %s\n", cmd.name, cmd.argsProblem(pos), cmd.name, cmd.synopsis)
		return 2
	}
	if cmd.admin {
		if s.client.token != "" {
			s.client.tokenSource = "the token given by --admin-token"
		} else if v := os.Getenv("SLUICE_ADMIN_TOKEN"); v != "" {
			s.client.token, s.client.tokenSource = v, "the token in $SLUICE_ADMIN_TOKEN"
		}
	}
	err = runCmd(ctx, s, pos)
	var ue errUsage
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sluice %s: %v\nrun 'sluice %s --help' for its flags\n", cmd.name, err, cmd.name)
		return 2
	case errors.Is(err, errProblems):
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return 1
	}
	return 0
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// find picks the command args name, and returns the arguments after its
// name.
func find(args []string) (*command, []string, error) {
	name, rest := args[0], args[1:]
	if name == "keys" {
		if len(rest) == 0 {
			return nil, nil, errors.New("keys needs a command: " + strings.Join(subcommands("keys"), ", "))
		}
		name, rest = "keys "+rest[0], rest[1:]
	}
	for i := range commands {
		if commands[i].name == name {
			return &commands[i], rest, nil
		}
	}
	if sub, ok := strings.CutPrefix(name, "keys "); ok {
		return nil, nil, fmt.Errorf("unknown command \"keys %s\" (known: %s)", sub, strings.Join(subcommands("keys"), ", "))
	}
	return nil, nil, fmt.Errorf("unknown command %q (known: %s); run 'sluice --help'", name, strings.Join(subcommands(""), ", "))
}

// subcommands lists the names of the commands under parent ("" for the
// top level, "keys"), once each.
func subcommands(parent string) []string {
	var out []string
	for _, c := range commands {
		name := c.name
		if parent != "" {
			var ok bool
			if name, ok = strings.CutPrefix(name, parent+" "); !ok {
				continue
			}
		} else {
			name, _, _ = strings.Cut(name, " ")
		}
		if len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	return out
}

// help is the command's --help: its usage line, what it does, its flags
// (the admin API's two last), spelled as the usage lines spell them.
func (c *command) help(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\n%s.\n", strings.TrimSpace("sluice "+c.name+" "+c.synopsis), strings.ToUpper(c.summary[:1])+c.summary[1:])
	var own, common []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "endpoint" || f.Name == "admin-token" {
			common = append(common, f)
		} else {
			own = append(own, f)
		}
	})
	for _, group := range []struct {
		title string
		flags []*flag.Flag
	}{{"flags", own}, {"admin API", common}} {
		if len(group.flags) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", group.title)
		for _, f := range group.flags {
			name, text := flag.UnquoteUsage(f)
			dashes := "--"
			if len(f.Name) == 1 {
				dashes = "-"
			}
			line := "  " + dashes + f.Name
			if name != "" && name != "value" {
				line += " " + name
			}
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "[]" {
				text += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			if len(line) > 27 {
				line += "\n" + strings.Repeat(" ", 28)
			}
			fmt.Fprintf(&b, "%-28s %s\n", line, text)
		}
	}
	return b.String()
}

func (c *command) argsProblem(pos []string) string {
	switch {
	case c.maxArgs == 0 && len(pos) == 1 && strings.HasPrefix(c.synopsis, "-f "):
		return fmt.Sprintf("takes no arguments, got %q (did you mean -f %s?)", pos[0], pos[0])
	case c.maxArgs == 0:
		return fmt.Sprintf("takes no arguments, got %q", strings.Join(pos, " "))
	case len(pos) < c.minArgs:
		return fmt.Sprintf("needs %s", c.synopsis[:strings.Index(c.synopsis+" [", " [")])
	}
	return fmt.Sprintf("too many arguments: %q", strings.Join(pos[c.maxArgs:], " "))
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments (`sluice get HTTPRoute -n team-a`), which flag.Parse alone does
// not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

const defaultEndpoint = "http://127.0.0.1:8080"

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// kindOf is the kind a command line names, as the admin API spells it:
// in any case, singular or plural ("httproutes"), a kind Sluice reads or
// one among the applied objects (Sluice keeps kinds it does not serve, a
// Deployment say). Kinds of other API groups are named with their group
// ("Widget.example.com") and taken as given.
func (c *client) kindOf(ctx context.Context, arg string) (string, error) {
	if strings.Contains(arg, ".") {
		return arg, nil
	}
	known := gatewayapi.Kinds()
	if k, ok := matchKind(arg, known); ok {
		return k, nil
	}
	var applied []string
	if items, err := c.objects(ctx); err == nil {
		for _, raw := range items {
			var o object
			if json.Unmarshal(raw, &o) == nil && !slices.Contains(known, o.Kind) && !slices.Contains(applied, o.Kind) {
				applied = append(applied, o.Kind)
			}
		}
		if k, ok := matchKind(arg, applied); ok {
			return k, nil
		}
	}
	also := ""
	if len(applied) > 0 {
		slices.Sort(applied)
		also = "; applied besides: " + strings.Join(applied, ", ")
	}
	return "", usagef("unknown kind %q (known: %s%s)", arg, strings.Join(known, ", "), also)
}

// matchKind finds arg among kinds, in any case, singular or plural.
func matchKind(arg string, kinds []string) (string, bool) {
	for _, k := range kinds {
		plural := k + "s"
		switch {
		case strings.HasSuffix(k, "y"):
			plural = k[:len(k)-1] + "ies"
		case strings.HasSuffix(k, "s"):
			plural = k + "es"
		}
		if strings.EqualFold(arg, k) || strings.EqualFold(arg, plural) {
			return k, true
		}
	}
	return "", false
}
