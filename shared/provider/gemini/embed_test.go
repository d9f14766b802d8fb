package gemini

import (
	"testing"

	"github.com/sluicegw/sluice/shared/api"
)

func TestEmbedTranscript(t *testing.T) {
	tr, _ := New(api.EndpointEmbeddings, "my-embed", "gemini-embedding-001")
	path, out, err := tr.Request([]byte(`{"model":"my-embed","input":["hello","a longer input text"],"dimensions":3,"user":"u"}`))
	if err != nil {
		t.Fatal(err)
	}
	if path != "/models/gemini-embedding-001:batchEmbedContents" {
		t.Fatalf("path %s", path)
	}
	jsonEqual(t, string(out), `{"requests":[
	  {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]},"outputDimensionality":3},
	  {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a longer input text"}]},"outputDimensionality":3}]}`)
	resp, err := tr.Response([]byte(`{"embeddings":[{"values":[0.5,-1,0.25]},{"values":[1,0,0]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// Gemini gives no usage: 2 + 5 tokens estimated, and said so.
	jsonEqual(t, string(resp), `{"object":"list","model":"my-embed","data":[
	  {"object":"embedding","index":0,"embedding":[0.5,-1,0.25]},{"object":"embedding","index":1,"embedding":[1,0,0]}],
	  "usage":{"prompt_tokens":7,"completion_tokens":0,"total_tokens":7}}`)
	if u := tr.Usage(); u.InputTokens != 7 || u.Reported {
		t.Fatalf("usage %+v", u)
	}

	tr, _ = New(api.EndpointEmbeddings, "e", "e")
	tr.Request([]byte(`{"model":"e","input":"one","encoding_format":"base64"}`))
	resp, _ = tr.Response([]byte(`{"embeddings":[{"values":[1,-2]}]}`))
	// float32 little endian: 1 = 0000803f, -2 = 000000c0
	jsonEqual(t, string(resp), `{"object":"list","model":"e","data":[{"object":"embedding","index":0,"embedding":"AACAPwAAAMA="}],
	  "usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`)

	for body, param := range map[string]string{
		`{"model":"e","input":[[1,2,3]]}`:                   "input",
		`{"model":"e","input":"x","encoding_format":"hex"}`: "encoding_format",
		`{"model":"e","input":"x","extra":1}`:               "extra",
	} {
		_, _, err := tr.Request([]byte(body))
		if e := apiErr(t, err); e.Param != param {
			t.Fatalf("%s: %+v", body, e)
		}
	}
}

func TestEmbedVertexTranscript(t *testing.T) {
	tr, _ := NewVertex(api.EndpointEmbeddings, "my-embed", "gemini-embedding-001")
	path, out, err := tr.Request([]byte(`{"model":"my-embed","input":["hello","world"],"dimensions":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if path != "/models/gemini-embedding-001:predict" {
		t.Fatalf("path %s", path)
	}
	jsonEqual(t, string(out), `{"instances":[{"content":"hello"},{"content":"world"}],"parameters":{"outputDimensionality":2}}`)
	resp, err := tr.Response([]byte(`{"predictions":[
	  {"embeddings":{"statistics":{"truncated":false,"token_count":2},"values":[0.5,1]}},
	  {"embeddings":{"statistics":{"truncated":false,"token_count":3},"values":[1,0]}}],
	  "metadata":{"billableCharacterCount":10}}`))
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, string(resp), `{"object":"list","model":"my-embed","data":[
	  {"object":"embedding","index":0,"embedding":[0.5,1]},{"object":"embedding","index":1,"embedding":[1,0]}],
	  "usage":{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5}}`)
	if u := tr.Usage(); u.InputTokens != 5 || !u.Reported {
		t.Fatalf("usage %+v", u)
	}
}
