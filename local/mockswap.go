package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"

	yaml "go.yaml.in/yaml/v3"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider/preset"
)

// mockPaths is where the mock server serves each provider protocol, under
// its URL; other providers get the OpenAI mock at /v1.
var mockPaths = map[string]string{
	preset.Anthropic: "/anthropic/v1",
	preset.Gemini:    "/gemini/v1beta",
	preset.VertexAI:  "/gemini/v1/projects/mock/locations/us-central1/publishers/google",
}

// mockProviders serves every mock provider on one server, at mockPaths.
func mockProviders() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/anthropic/", http.StripPrefix("/anthropic", &mock.Anthropic{}))
	mux.Handle("/gemini/", http.StripPrefix("/gemini", &mock.Gemini{}))
	mux.Handle("/model/", &mock.Bedrock{}) // Bedrock Runtime paths start at the root
	// Azure's deployment paths end as OpenAI's do: the OpenAI mock serves them.
	mux.Handle("/", &mock.OpenAI{})
	return mux
}

// mockBackends rewrites the AIBackends in a manifest file whose credential
// is not configured so they point at the mock provider of their protocol
// (served under mockURL, see mockPaths), and marks them with an annotation
// saying so. A bedrock backend is mocked when it has no Bedrock API key
// configured and no AWS credentials are (see awsCredentials). Files without
// such backends come back unchanged.
func mockBackends(file []byte, mockURL string, creds gateway.Credentials) ([]byte, []string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(file))
	var docs []*yaml.Node
	var mocked []string
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			return file, nil, nil // the admin API reports the YAML error with its line
		}
		docs = append(docs, &doc)
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if str(get(root, "kind")) != "AIBackend" {
			continue
		}
		spec := get(root, "spec")
		cred := str(get(get(spec, "credentialRef"), "name"))
		why := "credential " + cred + " is not set (" + gateway.CredentialEnvName(cred) + ")"
		endpoint := mockURL + "/v1"
		if str(get(spec, "provider")) == preset.Bedrock {
			if _, ok := creds.Credential(cred); (cred != "" && ok) || awsCredentials() {
				continue
			}
			why, endpoint = "no AWS credentials are configured", mockURL
			if str(get(spec, "region")) == "" {
				set(spec, "region", "us-east-1") // the mock signs for some region
			}
		} else {
			if cred == "" {
				continue
			}
			if _, ok := creds.Credential(cred); ok {
				continue
			}
		}
		if path, ok := mockPaths[str(get(spec, "provider"))]; ok {
			endpoint = mockURL + path
		}
		set(spec, "endpoint", endpoint)
		deleteKey(spec, "credentialRef")
		meta := get(root, "metadata")
		ann := get(meta, "annotations")
		if ann == nil && meta != nil {
			ann = &yaml.Node{Kind: yaml.MappingNode}
			meta.Content = append(meta.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "annotations"}, ann)
		}
		set(ann, "sluice.dev/mocked", why+"; served by the local mock provider")
		ns := str(get(meta, "namespace"))
		if ns == "" {
			ns = "default"
		}
		mocked = append(mocked, ns+"/"+str(get(meta, "name")))
	}
	if len(mocked) == 0 {
		return file, nil, nil
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, nil, err
		}
	}
	enc.Close()
	return out.Bytes(), mocked, nil
}

// awsCredentials reports whether the SDK's default chain has something to
// load locally: env keys, a profile, web identity or a shared file.
func awsCredentials() bool {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	for _, f := range []string{os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), filepath.Join(home, ".aws", "credentials"), filepath.Join(home, ".aws", "config")} {
		if _, err := os.Stat(f); f != "" && err == nil {
			return true
		}
	}
	return false
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func str(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

func set(n *yaml.Node, key, value string) {
	if n == nil {
		return
	}
	if v := get(n, key); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Value: value}
		return
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}

func deleteKey(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return
		}
	}
}
