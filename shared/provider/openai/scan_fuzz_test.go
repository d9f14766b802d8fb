package openai

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzStreamFields checks the quick scan of withStreamUsage against
// json.Unmarshal of the whole body, which it replaced.
func FuzzStreamFields(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","stream":true,"messages":[]}`,
		`{"model":"m","stream":true,"stream_options":{"include_usage":false}}`,
		`{"stream":true,"stream_options":null}`,
		`{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"x":1}}`,
		`{"Stream":true}`, `{"stream":"yes"}`, `{"stream":true,"stream_options":5}`, `{"stream":true`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := streamFields(body)
		var want streamRequest
		wantOK := json.Unmarshal(body, &want) == nil
		if ok != wantOK || ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("streamFields(%q) = %+v, %v; want %+v, %v", body, got, ok, want, wantOK)
		}
	})
}

// FuzzReadUsage checks Response's usage scan against json.Unmarshal of
// the whole body.
func FuzzReadUsage(f *testing.F) {
	for _, s := range []string{
		`{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":1}}}`,
		`{"usage":null}`, `{"usage":{"prompt_tokens":"x"}}`, `{"usage":{"prompt_tokens":1},"usage":{"completion_tokens":2}}`,
		`{"USAGE":{"prompt_tokens":1}}`, `[]`, `{"usage":{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got *wireUsage
		ok := readUsage(body, &got)
		var want struct {
			Usage *wireUsage `json:"usage"`
		}
		wantOK := json.Unmarshal(body, &want) == nil
		if ok != wantOK || ok && !reflect.DeepEqual(got, want.Usage) {
			t.Fatalf("readUsage(%q) = %+v, %v; want %+v, %v", body, got, ok, want.Usage, wantOK)
		}
	})
}
