package gatewayapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// maxRescanLines bounds the document yamlSyntaxError searches again: a
// longer one keeps the parser's own line.
const maxRescanLines = 2000

// yamlSyntaxError locates a YAML syntax error in a file and words it
// without the parser's line. The parser reports where the construct it was
// reading began (a block mapping several lines up, or one line early: its
// own count starts at 0 for most errors), not where reading failed. So the
// line is found again: the error is on the line after the longest start of
// its document that still parses (a start that ends inside an open quote or
// flow collection does not, so an unclosed one is found where it opens).
func yamlSyntaxError(data []byte, err error) (int, string) {
	msg := err.Error()
	var reported int
	if n, _ := fmt.Sscanf(strings.TrimPrefix(msg, "yaml: "), "line %d:", &reported); n == 1 {
		msg = msg[strings.Index(msg, ": line ")+len(": line "):]
		msg = strings.TrimLeft(msg, "0123456789")
		msg = strings.TrimPrefix(msg, ": ")
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	// The document holding the error: from the last "---" at or before the
	// reported line to the next one.
	start, end := 0, len(lines)
	for i := 0; i < len(lines); i++ {
		if !bytes.HasPrefix(lines[i], []byte("---")) {
			continue
		}
		if i < reported {
			start = i
		} else if i > start {
			end = i
			break
		}
	}
	if end-start > maxRescanLines {
		return reported, msg
	}
	for n := end - 1; n > start; n-- {
		if parses(bytes.Join(lines[start:n], nil)) {
			return n + 1, msg
		}
	}
	return start + 1, msg
}

// parses reports whether every document in data is well-formed YAML.
func parses(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// yamlTypeError locates a YAML error the parser found after reading a
// document (a key repeated in a mapping), which names its line in the
// message.
func yamlTypeError(err error) (line int, msg string, ok bool) {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return 0, "", false
	}
	first := te.Errors[0]
	if _, err := fmt.Sscanf(first, "line %d:", &line); err != nil {
		return 0, "", false
	}
	return line, strings.TrimSpace(first[strings.IndexByte(first, ':')+1:]), true
}
