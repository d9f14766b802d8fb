package admin

import "github.com/sluicegw/sluice/shared/setting"

var tokenVar = setting.Var{Env: "SLUICE_ADMIN_TOKEN", Flag: "admin-token",
	Doc: "bearer token the admin API asks for; locally, empty makes one and keeps it in DATA-DIR/admin-token"}

// ConfigFromEnv reads the settings of the admin API's entrypoints through
// getenv: os.Getenv in the Lambda main, a lookup that lets flags win in the
// local process. An unset or empty variable means its default; a value
// that does not parse is an error naming the variable (all such values
// are reported together).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	return setting.Read(getenv, configFrom)
}

// Settings lists the variables ConfigFromEnv reads, in the order it reads
// them.
func Settings() []setting.Var {
	return setting.VarsOf(configFrom)
}

func configFrom(r *setting.Reader) Config {
	return Config{
		RoutesTable:      r.String(setting.RoutesTable),
		LedgerTable:      r.String(setting.LedgerTable),
		DynamoDBEndpoint: r.String(setting.DynamoDBEndpoint),
		Token:            r.String(tokenVar),
		LambdaStream:     r.Bool(setting.LambdaStream),
		LogLevel:         r.Level(setting.LogLevel),
	}
}
