package gateway

import "strings"

// CredentialMap holds provider credentials by name.
type CredentialMap map[string]string

// Credential returns the named credential.
func (m CredentialMap) Credential(name string) (string, bool) {
	v, ok := m[name]
	return v, ok && v != ""
}

// CredentialEnvPrefix starts the environment variables that carry
// credentials to the local process: SLUICE_CREDENTIAL_<NAME>, where NAME is
// the credential's name upper-cased with every other character than A-Z and
// 0-9 turned into "_" (credential "openai" is SLUICE_CREDENTIAL_OPENAI).
const CredentialEnvPrefix = "SLUICE_CREDENTIAL_"

// CredentialEnvName is the environment variable for a credential name.
func CredentialEnvName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return CredentialEnvPrefix + string(b)
}

// CredentialsFromEnv reads credentials from environment entries ("K=V"); the
// names it knows them by are lower-cased, so SLUICE_CREDENTIAL_OPENAI
// serves credentialRef "openai" and "OpenAI" alike through Credential.
func CredentialsFromEnv(environ []string) EnvCredentials {
	m := EnvCredentials{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, CredentialEnvPrefix) && v != "" {
			m[k] = v
		}
	}
	return m
}

// EnvCredentials are credentials read from the environment.
type EnvCredentials map[string]string

func (e EnvCredentials) Credential(name string) (string, bool) {
	v, ok := e[CredentialEnvName(name)]
	return v, ok
}
