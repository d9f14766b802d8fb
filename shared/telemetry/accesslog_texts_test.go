package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/sluicegw/sluice/shared/telemetry"
)

// TestAccessLogTexts: the prompt and answer keys are written only when the
// record carries them (a route's AccessLogPolicy put them there), after
// the fixed keys, which stay as they are.
func TestAccessLogTexts(t *testing.T) {
	tests := []struct {
		name           string
		prompt, answer string
	}{
		{"none", "", ""},
		{"prompt", "user: hi", ""},
		{"answer", "", "Hello."},
		{"both", "user: hi", "Hello."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sample()
			rec.Prompt, rec.Answer = tt.prompt, tt.answer
			var buf bytes.Buffer
			telemetry.NewAccessLog(slog.New(slog.NewJSONHandler(&buf, nil))).Request(context.Background(), rec)
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			for k, want := range map[string]string{"prompt": tt.prompt, "answer": tt.answer} {
				v, ok := got[k]
				if ok != (want != "") || ok && v != want {
					t.Errorf("%s = %v (present %v), want %q: %s", k, v, ok, want, buf.String())
				}
			}
			if got["request_id"] != "req_1" || got["skipped_events"] != 3.0 {
				t.Errorf("fixed keys changed: %s", buf.String())
			}
		})
	}
}
