package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/sluicegw/sluice/shared/admin"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/setting"
)

// The settings only the local process reads.
var (
	addrVar = setting.Var{Env: "SLUICE_ADDR", Flag: "addr", Default: "127.0.0.1:8080",
		Doc: "address to serve the gateway and admin API on"}
	manifestsVar = setting.Var{Env: "SLUICE_MANIFESTS", Flag: "manifests", Default: "examples",
		Doc: "file or folder of manifests to apply at start; empty applies none"}
	dataDirVar = setting.Var{Env: "SLUICE_DATA_DIR", Flag: "data-dir", Default: ".sluice",
		Doc: "where DynamoDB Local data, the API key and the admin token live"}
	lambdaVar = setting.Var{Env: "SLUICE_LAMBDA", Flag: "lambda",
		Doc: "serve the gateway by running this Lambda bootstrap under the built-in emulator"}
	mockVar = setting.Var{Env: "SLUICE_MOCK_PROVIDERS", Flag: "mock-providers", Kind: setting.Choice, Choices: []string{"auto", "off"},
		Default: "auto", Doc: "auto: serve backends whose credential is not set from a mock provider; off: never"}
	dynamoDBJarVar = setting.Var{Env: "SLUICE_DYNAMODB_JAR", Flag: "dynamodb-jar",
		Doc: "the DynamoDBLocal.jar to run; empty: the one make tools installs"}
	apiKeyVar = setting.Var{Env: "SLUICE_API_KEY", Flag: "api-key",
		Doc: "a whole API key (sk-sluice-<id>-<secret>) to create, or keep, instead of a random one"}
	pprofVar = setting.Var{Env: "SLUICE_PPROF", Flag: "pprof",
		Doc: "serve net/http/pprof on this address, apart from the gateway's port (builds with -tags pprof)"}
)

// config is the local process's settings: the gateway's and the admin
// API's (the same settings as in Lambda), and its own.
type config struct {
	gateway     gateway.Config
	admin       admin.Config
	addr        string
	manifests   string // empty: apply none
	dataDir     string
	lambda      string // a Lambda bootstrap to serve the gateway with
	mock        string // auto or off
	dynamoDBJar string
	apiKey      string // a key to seed
	pprof       string
	given       map[string]string // the settings given, flags or environment, by variable
	progress    *progress         // nil: no progress lines
}

func localFrom(r *setting.Reader) config {
	return config{
		addr:        r.String(addrVar),
		manifests:   r.String(manifestsVar),
		dataDir:     r.String(dataDirVar),
		lambda:      r.String(lambdaVar),
		mock:        r.Choice(mockVar),
		dynamoDBJar: r.String(dynamoDBJarVar),
		apiKey:      r.String(apiKeyVar),
		pprof:       r.String(pprofVar),
	}
}

// settings lists every variable the local process reads: the gateway's,
// then the admin API's and its own, each once.
func settings() []setting.Var {
	r := setting.NewReader(func(string) string { return "" })
	localFrom(r)
	vars := gateway.Settings()
	seen := map[string]bool{}
	for _, v := range vars {
		seen[v.Env] = true
	}
	for _, v := range append(admin.Settings(), r.Vars()...) {
		if !seen[v.Env] {
			seen[v.Env] = true
			vars = append(vars, v)
		}
	}
	return vars
}

// errUsage is a command line the flag package refused (and has said why).
var errUsage = errors.New("usage")

// loadConfig reads the settings from the command line's flags and, for
// those not given there, from the environment through lookup. A flag's
// bad value is refused naming the flag (the flag package prints it and the
// usage to output), an environment variable's naming the variable.
func loadConfig(args []string, lookup func(string) (string, bool), output io.Writer) (config, error) {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(output)
	flags := map[string]string{}
	vars := settings()
	for _, v := range vars {
		if v.Flag != "" {
			fs.Var(&flagValue{v: v, set: flags}, v.Flag, v.Doc+" ($"+v.Env+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, errUsage
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (settings are flags: -h lists them)", fs.Arg(0))
	}
	lookup = withFlags(flags, lookup)
	getenv := func(name string) string { v, _ := lookup(name); return v }
	r := setting.NewLookupReader(lookup)
	c := localFrom(r)
	c.given = map[string]string{}
	for _, v := range vars {
		if s, ok := lookup(v.Env); ok {
			c.given[v.Env] = s
		}
	}
	var gerr, aerr error
	c.gateway, gerr = gateway.ConfigFromEnv(getenv)
	c.admin, aerr = admin.ConfigFromEnv(getenv)
	// The admin API's settings the gateway reads too: their errors are the
	// gateway's already.
	if err := errors.Join(gerr, r.Err()); err != nil {
		return config{}, err
	}
	return c, aerr
}

// withFlags looks names up in the flags given first, then through lookup.
func withFlags(flags map[string]string, lookup func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := flags[name]; ok {
			return v, true
		}
		return lookup(name)
	}
}

// flagValue is a setting's flag: it checks its value as the variable's
// would be, and records it under the variable's name.
type flagValue struct {
	v   setting.Var
	set map[string]string
}

func (f *flagValue) String() string {
	if f == nil || f.set == nil {
		return ""
	}
	if s, ok := f.set[f.v.Env]; ok {
		return s
	}
	return f.v.Default
}

func (f *flagValue) Set(s string) error {
	if err := f.v.Check(s); err != nil {
		return err
	}
	f.set[f.v.Env] = s
	return nil
}

func (f *flagValue) IsBoolFlag() bool { return f.v.Kind == setting.Bool }
