package ledger

import (
	"reflect"
	"testing"
)

func TestSummarize(t *testing.T) {
	rows := []UsageRow{
		{Day: "2026-11-24", Model: "b", Requests: 1, InputTokens: 10},
		{Day: "2026-11-24", Model: "a", Requests: 2, InputTokens: 20},
		{Day: "2026-11-25", Model: "a", Requests: 4, InputTokens: 40},
	}
	tests := []struct {
		by   string
		want []UsageRow
	}{
		{"", []UsageRow{{Model: "a", Requests: 6, InputTokens: 60}, {Model: "b", Requests: 1, InputTokens: 10}}},
		{"model", []UsageRow{{Model: "a", Requests: 6, InputTokens: 60}, {Model: "b", Requests: 1, InputTokens: 10}}},
		{"day", []UsageRow{{Day: "2026-11-24", Requests: 3, InputTokens: 30}, {Day: "2026-11-25", Requests: 4, InputTokens: 40}}},
		{"day,model", []UsageRow{rows[1], rows[0], rows[2]}},
		{"model,day", []UsageRow{rows[1], rows[0], rows[2]}},
	}
	for _, tt := range tests {
		got, total, err := Summarize(rows, tt.by)
		if err != nil || !reflect.DeepEqual(got, tt.want) || total != (UsageRow{Requests: 7, InputTokens: 70}) {
			t.Errorf("by %q: %v, total %v, %v", tt.by, got, total, err)
		}
	}
	// A bad grouping is refused whether or not there is usage to group.
	for _, r := range [][]UsageRow{rows, nil} {
		if _, _, err := Summarize(r, "week"); err == nil {
			t.Errorf("by week over %d rows: no error", len(r))
		}
	}
}
