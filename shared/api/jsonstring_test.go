package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "line\nbreak\r\ttab\x01", "<a href='x'>&</a>",
		"ünïcødé 漢字 🙂", "bad \xff utf8", "sep\u2028\u2029"} {
		for _, html := range []bool{true, false} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			enc.Encode(s)
			if got := string(AppendJSONString(nil, s, html)); got != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
				t.Errorf("AppendJSONString(%q, html=%v) = %s, want %s", s, html, got, want.Bytes())
			}
		}
	}
}
