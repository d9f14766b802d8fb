package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/sluicegw/sluice/shared/gatewayapi"
)

// readManifests reads the manifest files under path for validate and
// apply. A path that holds none is an error, said plainly; a file with no
// manifest in it (an unsaved buffer, a placeholder) is reported and left
// out, and is an error when it is all there is.
func readManifests(path string, out io.Writer) (map[string][]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files, err := gatewayapi.ReadDir(path)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: not a .yaml or .yml file", path)
		}
		return nil, fmt.Errorf("%s: no .yaml or .yml files in it", path)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) == 1 && !fi.IsDir() && empty(path, files[path]) {
		return nil, fmt.Errorf("%s: empty file: no manifests in it", path)
	}
	for _, name := range names {
		if empty(name, files[name]) {
			fmt.Fprintf(out, "%s:1: empty file: no manifests in it, left out\n", name)
			delete(files, name)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no manifests to read: every file is empty", path)
	}
	return files, nil
}

// empty reports whether a file holds no YAML document but empty ones
// (nothing, comments, "---").
func empty(name string, b []byte) bool {
	objs, probs := gatewayapi.Parse(map[string][]byte{name: b})
	return len(objs) == 0 && len(probs) == 0
}
