package gatewayapi

import "testing"

// TestYAMLErrorLines: a YAML mistake is reported on the line it is on, not
// where the parser's construct began nor one line early, in any document
// of a file.
func TestYAMLErrorLines(t *testing.T) {
	const head = "apiVersion: v1\nkind: Service\n" // lines 1 and 2
	tests := []struct {
		name, text string
		want       string
	}{
		{"a tab for indentation", head + "metadata:\n\tname: x\n",
			"f.yaml:4: invalid YAML: found character that cannot start any token"},
		{"a key indented one space short", head + "metadata:\n  name: x\n namespace: y\n",
			"f.yaml:5: invalid YAML: did not find expected key"},
		{"a key indented wrong deep in a list", head + "metadata:\n  name: a\nspec:\n  ports:\n  - port: 80\n    name: x\n  - port: 81\n   name: y\n",
			"f.yaml:10: invalid YAML: did not find expected key"},
		{"a colon in a plain value", head + "metadata:\n  name: a: b\n",
			"f.yaml:4: invalid YAML: mapping values are not allowed in this context"},
		{"an unclosed flow mapping, where it opens", head + "metadata: {name: a\nspec: {}\n",
			"f.yaml:3: invalid YAML: did not find expected ',' or '}'"},
		{"an unclosed quote, where it opens", head + "metadata:\n  name: 'x\n  namespace: y\nspec: {}\n",
			"f.yaml:4: invalid YAML: found unexpected end of stream"},
		{"a mistake after a flow mapping over two lines", head + "metadata: {name: a,\n  namespace: b}\nspec:\n  x: y: z\n",
			"f.yaml:6: invalid YAML: mapping values are not allowed in this context"},
		{"in the second document", head + "metadata: {name: a}\n---\n" + head + "metadata:\n  name: b\n  labels: {a: b\n",
			"f.yaml:9: invalid YAML: did not find expected ',' or '}'"},
		{"a repeated key", head + "kind: Service\nmetadata: {name: a}\n",
			"f.yaml:3: invalid YAML: mapping key \"kind\" already defined at line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Parse(map[string][]byte{"f.yaml": []byte(tt.text)})
			if len(probs) != 1 || probs[0].String() != tt.want {
				t.Fatalf("problems %q\nwant %q", probs, tt.want)
			}
		})
	}
}
