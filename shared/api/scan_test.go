package api

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sluicegw/sluice/shared/json"
)

// peekReference is PeekBody without peekFast: the typed decoding of the
// whole body through the seam. The fast path must agree with it on every
// input.
func peekReference(body []byte) (Peek, error) {
	var p Peek
	if len(body) == 0 {
		return Peek{}, Errorf(ErrBadRequest, "request body is empty; expected a JSON object")
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return Peek{}, Errorf(ErrBadRequest, "request body must be a JSON object")
		}
		if errors.As(err, &typeErr) {
			return Peek{}, &Error{Kind: ErrBadRequest, Param: typeErr.Field,
				Message: "invalid type for '" + typeErr.Field + "': expected " + typeErr.Type.String()}
		}
		return Peek{}, Errorf(ErrBadRequest, "request body is not valid JSON: %v", err)
	}
	if p.Model == "" {
		return Peek{}, &Error{Kind: ErrBadRequest, Param: "model", Message: "you must provide a model parameter"}
	}
	return p, nil
}

var peekSeeds = []string{
	`{"model":"gpt-4o","stream":true,"messages":[]}`,
	`{"messages":[{"role":"user","content":"hi \"model\": x"}],"model":"m"}`,
	` { "model" : "m" , "stream" : false } `,
	`{"model":"a","model":"b","stream":true,"stream":null}`,
	`{"model":"a","model":null}`,
	`{"Model":"a"}`, `{"MODEL":"a","model":"b"}`, `{"\u006dodel":"x"}`, `{"ſtream":true,"model":"m"}`,
	`{"model":"caf\u00e9"}`, `{"model":"caf` + "\xff" + `"}`, `{"model":"é"}`,
	`{"model":1}`, `{"model":"m","stream":"yes"}`, `{"model":"m","stream":1}`,
	`{"model":"m",`, `[]`, `null`, `{"model":"m"} x`, `{}`, `{"x":{"model":"y"},"model":"m"}`,
	`{"a":[1,2,{"b":"]}"}],"model":"m","c":-1.5e3,"d":null,"e":true}`, `{"model":""}`,
}

func FuzzPeekBody(f *testing.F) {
	for _, s := range peekSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := PeekBody(body)
		want, wantErr := peekReference(body)
		if got != want || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("PeekBody(%q) = %+v, %v; want %+v, %v", body, got, gotErr, want, wantErr)
		}
	})
}

// BenchmarkPeekBodyReference is BenchmarkPeekBody's body through
// json.Unmarshal, as PeekBody did before peekFast.
func BenchmarkPeekBodyReference(b *testing.B) {
	body := peekBenchBody()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := peekReference(body); err != nil {
			b.Fatal(err)
		}
	}
}
