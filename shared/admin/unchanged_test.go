package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/store"
)

// failingPuts is the in-memory store whose PutTable fails while fail is
// above zero, as a throttled DynamoDB would after the objects were stored.
type failingPuts struct {
	*memStore
	fail int
}

func (f *failingPuts) PutTable(ctx context.Context, t *route.Table, objs []store.Object) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("throttled")
	}
	return f.memStore.PutTable(ctx, t, objs)
}

const (
	classAndGateway = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: sluice.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: sluice
  listeners: [{name: http, protocol: HTTP, port: 80}]
`
	backend = `apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: openai, namespace: default}
spec: {provider: openai, endpoint: "https://api.openai.com/v1", models: [gpt-4o]}
`
	chatRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chat, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{group: sluice.dev, kind: AIBackend, name: openai}]
`
)

// TestReapplyMakesNoNewVersion: applying what is stored already changes
// nothing and answers the current version, however the YAML is written;
// any change in an object, a new object, or an earlier apply whose table
// failed to store makes a new version.
func TestReapplyMakesNoNewVersion(t *testing.T) {
	st := &failingPuts{memStore: newMemStore()}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	a := New(Config{Now: func() time.Time { now = now.Add(time.Minute); return now }}, st)
	steps := []struct {
		name      string
		files     map[string]string
		dryRun    bool
		failPut   bool // the table fails to store: the apply errs
		version   int64
		unchanged bool
	}{
		{name: "first apply", files: map[string]string{"a.yaml": classAndGateway + "---\n" + backend + "---\n" + chatRoute}, version: 1},
		{name: "the same files again", files: map[string]string{"a.yaml": classAndGateway + "---\n" + backend + "---\n" + chatRoute}, version: 1, unchanged: true},
		{name: "the same objects in other files, order and style", files: map[string]string{
			"route.yaml":   "# the chat route\n" + strings.ReplaceAll(chatRoute, "metadata: {name: chat, namespace: default}", "metadata:\n  namespace: default\n  name: chat"),
			"backend.yaml": backend, "platform.yaml": classAndGateway,
		}, version: 1, unchanged: true},
		{name: "a subset, unchanged", files: map[string]string{"b.yaml": backend}, version: 1, unchanged: true},
		{name: "status in a manifest is ignored", files: map[string]string{"r.yaml": chatRoute + "status: {parents: []}\n"}, version: 1, unchanged: true},
		{name: "nothing at all", files: map[string]string{}, version: 1, unchanged: true},
		{name: "a dry run of the same", files: map[string]string{"b.yaml": backend}, dryRun: true, version: 1, unchanged: true},
		{name: "a changed spec", files: map[string]string{"b.yaml": strings.Replace(backend, "[gpt-4o]", "[gpt-4o, gpt-4o-mini]", 1)}, version: 2},
		{name: "a dry run of a change", files: map[string]string{"b.yaml": backend}, dryRun: true, version: 3},
		{name: "a new object", files: map[string]string{"r.yaml": strings.ReplaceAll(chatRoute, "name: chat", "name: chat2")}, version: 3},
		{name: "a change whose table fails to store", files: map[string]string{"b.yaml": backend}, failPut: true},
		{name: "the same change again is stored", files: map[string]string{"b.yaml": backend}, version: 4},
		{name: "and then it is unchanged", files: map[string]string{"b.yaml": backend}, version: 4, unchanged: true},
	}
	for _, s := range steps {
		if s.failPut {
			st.fail = 1
		}
		resp, status, err := a.Apply(context.Background(), ApplyRequest{Files: s.files, DryRun: s.dryRun})
		if s.failPut {
			if err == nil {
				t.Fatalf("%s: the apply succeeded: %+v", s.name, resp)
			}
			continue
		}
		if err != nil || status != 200 {
			t.Fatalf("%s: %d %v %+v", s.name, status, err, resp)
		}
		if resp.Version != s.version || resp.Unchanged != s.unchanged || resp.DryRun != s.dryRun {
			t.Fatalf("%s: version %d, unchanged %v, dry run %v; want %d, %v, %v", s.name, resp.Version, resp.Unchanged, resp.DryRun, s.version, s.unchanged, s.dryRun)
		}
		latest, _ := st.LatestVersion(context.Background())
		if want := s.version; s.dryRun && !s.unchanged {
			want--
			if latest != want {
				t.Fatalf("%s: a dry run stored version %d", s.name, latest)
			}
		} else if latest != want {
			t.Fatalf("%s: newest stored version %d, want %d", s.name, latest, want)
		}
	}
}
