package main

import (
	"bytes"
	"io"

	yaml "go.yaml.in/yaml/v3"

	"github.com/sluicegw/sluice/shared/gateway"
)

// mockBackends rewrites the AIBackends in a manifest file whose credential
// is not configured so they point at the mock provider of their protocol
// (mockURL maps spec.provider to its mock's base URL), and marks them with
// an annotation saying so. Files without such backends come back unchanged.
func mockBackends(file []byte, mockURL func(provider string) string, creds gateway.Credentials) ([]byte, []string, error) {
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
		if cred == "" {
			continue
		}
		if _, ok := creds.Credential(cred); ok {
			continue
		}
		set(spec, "endpoint", mockURL(str(get(spec, "provider"))))
		deleteKey(spec, "credentialRef")
		meta := get(root, "metadata")
		ann := get(meta, "annotations")
		if ann == nil && meta != nil {
			ann = &yaml.Node{Kind: yaml.MappingNode}
			meta.Content = append(meta.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "annotations"}, ann)
		}
		set(ann, "sluice.dev/mocked", "credential "+cred+" is not set ("+gateway.CredentialEnvName(cred)+"); served by the local mock provider")
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
