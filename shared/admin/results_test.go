package admin

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestApplyResults: apply says of each object it was given whether it
// created, configured or left it unchanged, for a dry run too, and the
// version that holds them.
func TestApplyResults(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	a := New(Config{Now: func() time.Time { now = now.Add(time.Minute); return now }}, newMemStore())
	const (
		class   = "GatewayClass/sluice"
		gw      = "Gateway/default/gw"
		be      = "AIBackend/default/openai"
		chat    = "HTTPRoute/default/chat"
		chat2   = "HTTPRoute/default/chat2"
		created = ResultCreated
		config  = ResultConfigured
		same    = ResultUnchanged
	)
	changedBackend := strings.Replace(backend, "[gpt-4o]", "[gpt-4o, gpt-4o-mini]", 1)
	steps := []struct {
		name    string
		files   map[string]string
		dryRun  bool
		version int64
		want    []string // object=result
	}{
		{"first apply", map[string]string{"a.yaml": classAndGateway + "---\n" + backend + "---\n" + chatRoute}, false, 1,
			[]string{be + "=" + created, gw + "=" + created, class + "=" + created, chat + "=" + created}},
		{"all again", map[string]string{"a.yaml": classAndGateway + "---\n" + backend + "---\n" + chatRoute}, false, 1,
			[]string{be + "=" + same, gw + "=" + same, class + "=" + same, chat + "=" + same}},
		{"a dry run of a change", map[string]string{"b.yaml": changedBackend}, true, 2, []string{be + "=" + config}},
		{"a change and a new route", map[string]string{"b.yaml": changedBackend, "r.yaml": chatRoute + "---\n" + strings.ReplaceAll(chatRoute, "name: chat", "name: chat2")}, false, 2,
			[]string{be + "=" + config, chat + "=" + same, chat2 + "=" + created}},
	}
	for _, s := range steps {
		resp, status, err := a.Apply(context.Background(), ApplyRequest{Files: s.files, DryRun: s.dryRun})
		if err != nil || status != 200 {
			t.Fatalf("%s: %d %v %+v", s.name, status, err, resp)
		}
		var got []string
		for _, r := range resp.Results {
			got = append(got, r.Object+"="+r.Result)
		}
		if !reflect.DeepEqual(got, s.want) || resp.Version != s.version {
			t.Errorf("%s: results %v at version %d, want %v at %d", s.name, got, resp.Version, s.want, s.version)
		}
	}
	// A refused apply says nothing of its objects.
	resp, status, _ := a.Apply(context.Background(), ApplyRequest{Files: map[string]string{"x.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: x\n"}})
	if status != 400 || len(resp.Results) != 0 {
		t.Errorf("refused: %d, results %v", status, resp.Results)
	}
}
