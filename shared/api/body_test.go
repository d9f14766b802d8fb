package api

import (
	"errors"
	"testing"
)

// The errors are produced by DecodeStrict itself, so a codec whose errors
// read differently fails here first.
func TestDecodeError(t *testing.T) {
	type inner struct {
		N int64 `json:"n"`
	}
	type request struct {
		Model string  `json:"model"`
		Inner *inner  `json:"inner"`
		Temp  float64 `json:"temperature"`
	}
	for _, tc := range []struct {
		name, body, param, msg string
	}{
		{"unknown field", `{"model":"m","speed":"fast"}`, "speed",
			"unknown field 'speed': it is not part of the Messages API Sluice speaks, so the gemini provider cannot honour it"},
		{"unknown nested field", `{"model":"m","inner":{"n":1,"k":2}}`, "k",
			"unknown field 'k': it is not part of the Messages API Sluice speaks, so the gemini provider cannot honour it"},
		{"wrong type", `{"model":1}`, "model", "invalid type for 'model': expected string"},
		{"wrong nested type", `{"model":"m","inner":{"n":"1"}}`, "inner.n", "invalid type for 'inner.n': expected int64"},
		{"not an object", `[1]`, "", "request body must be a JSON object"},
		{"trailing data", `{"model":"m"} {}`, "",
			"request body is not a valid Messages request: unexpected data after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r request
			err := DecodeStrict([]byte(tc.body), &r)
			if err == nil {
				t.Fatal("DecodeStrict accepted the body")
			}
			e := DecodeError(err, "Messages", "gemini")
			if e.Param != tc.param || e.Message != tc.msg || !errors.Is(e, ErrBadRequest) {
				t.Fatalf("got param %q message %q kind %v; want %q, %q", e.Param, e.Message, e.Kind, tc.param, tc.msg)
			}
		})
	}
}

func TestBadUpstreamBody(t *testing.T) {
	e := BadUpstreamBody("bedrock", "a messageStart event")
	if Status(e) != 502 || e.Message != "the bedrock backend sent a messageStart event that could not be read" {
		t.Fatalf("got %d %q", Status(e), e.Message)
	}
}

func TestSetModel(t *testing.T) {
	for _, tc := range []struct {
		name, body, model, want string
	}{
		{"renamed in place", `{"model":"a","messages":[{"model":"x"}]}`, "claude-opus",
			`{"model":"claude-opus","messages":[{"model":"x"}]}`},
		{"spacing kept", `{ "stream" : true , "model" : "a" }`, "b", `{ "stream" : true , "model" : "b" }`},
		{"first of duplicates", `{"model":"a","model":"b"}`, "c", `{"model":"c","model":"b"}`},
		{"escaped key", `{"\u006dodel":"a"}`, "b", `{"\u006dodel":"b"}`},
		{"escaped as encoding/json does", `{"model":"a"}`, "<m>\"é", `{"model":"\u003cm\u003e\"é"}`},
		{"no model", `{"messages":[]}`, "b", ""},
		{"model not a string", `{"model":7}`, "b", ""},
		{"not an object", `["model"]`, "b", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SetModel([]byte(tc.body), tc.model)
			if tc.want == "" {
				var e *Error
				if !errors.As(err, &e) || e.Param != "model" || Status(err) != 400 {
					t.Fatalf("got %s, %v; want a 400 naming model", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestParseDataURL(t *testing.T) {
	for _, tc := range []struct {
		name, url, media, data string
		ok                     bool
	}{
		{"image", "data:image/png;base64,iVBORw0K", "image/png", "iVBORw0K", true},
		{"parameters dropped", "data:text/plain;charset=utf-8;base64,aGk=", "text/plain", "aGk=", true},
		{"media type lower case", "data:Image/JPEG;base64,/9j/", "image/jpeg", "/9j/", true},
		{"empty data", "data:application/pdf;base64,", "application/pdf", "", true},
		{"comma in data kept", "data:image/png;base64,a,b", "image/png", "a,b", true},
		{"not base64", "data:text/plain,hello", "", "", false},
		{"base64 not last", "data:image/png;base64;x=y,AAAA", "", "", false},
		{"no media type", "data:;base64,AAAA", "", "", false},
		{"no comma", "data:image/png;base64", "", "", false},
		{"not a data URL", "https://example.com/cat.png", "", "", false},
		{"scheme in upper case", "DATA:image/png;base64,AAAA", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			media, data, ok := ParseDataURL(tc.url)
			if media != tc.media || data != tc.data || ok != tc.ok {
				t.Fatalf("got %q, %q, %v; want %q, %q, %v", media, data, ok, tc.media, tc.data, tc.ok)
			}
		})
	}
}
