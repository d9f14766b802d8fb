package gateway

import (
	"testing"

	"github.com/sluicegw/sluice/shared/route"
)

func TestReplacePath(t *testing.T) {
	tests := []struct{ prefix, repl, path, want string }{
		{"/foo", "/bar", "/foo", "/bar"},
		{"/foo", "/bar", "/foo/", "/bar/"},
		{"/foo", "/bar", "/foo/x", "/bar/x"},
		{"/foo", "/", "/foo", "/"},
		{"/foo", "/", "/foo/", "/"},
		{"/foo", "/", "/foo/x", "/x"},
		{"/foo", "/bar/", "/foo/x", "/bar/x"},
		{"/foo/", "/bar", "/foo/x", "/bar/x"},
		{"/", "/api", "/x", "/api/x"},
	}
	for _, tt := range tests {
		tab := &route.Table{Entries: []route.Entry{{Match: route.Match{Path: route.PathMatch{Type: route.PathPrefix, Value: tt.prefix}}}}, Rules: []route.Rule{{}}}
		tab.Prepare()
		got := replacePath(tt.path, &route.PathModifier{Type: "ReplacePrefixMatch", Value: tt.repl}, &tab.Entries[0])
		if got != tt.want {
			t.Errorf("prefix %s → %s on %s = %s, want %s", tt.prefix, tt.repl, tt.path, got, tt.want)
		}
	}
}
