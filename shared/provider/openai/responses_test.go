package openai

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluicegw/sluice/shared/api"
)

const responsesStream = `event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}

event: response.completed
data: {"type":"response.completed","sequence_number":2,"response":{"id":"resp_1","object":"response","status":"completed","usage":{"input_tokens":40,"input_tokens_details":{"cached_tokens":32},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":7},"total_tokens":52}}}

`

func TestResponsesPassThrough(t *testing.T) {
	tr, err := New(api.EndpointResponses, "fast", "gpt-5-mini")
	if err != nil {
		t.Fatal(err)
	}
	path, out, err := tr.Request([]byte(`{"model":"fast","input":"hi","stream":true}`))
	if err != nil || path != "/responses" || string(out) != `{"model":"gpt-5-mini","input":"hi","stream":true}` {
		t.Fatalf("Request = %q, %s, %v", path, out, err)
	}
	want := api.Usage{InputTokens: 40, OutputTokens: 12, CachedTokens: 32, ReasoningTokens: 7, Reported: true}
	for _, oneByte := range []bool{false, true} {
		tr, _ := New(api.EndpointResponses, "fast", "gpt-5-mini")
		var r = strings.NewReader(responsesStream)
		got := runStream(tr, r)
		if oneByte {
			tr, _ = New(api.EndpointResponses, "fast", "gpt-5-mini")
			got = runStream(tr, iotest.OneByteReader(strings.NewReader(responsesStream)))
		}
		if string(got) != responsesStream || tr.Usage() != want {
			t.Fatalf("one byte %v: stream changed or usage %+v:\n%s", oneByte, tr.Usage(), got)
		}
	}

	// Cut before response.completed: the client gets the API's error event.
	tr, _ = New(api.EndpointResponses, "fast", "gpt-5-mini")
	cut := responsesStream[:strings.Index(responsesStream, "event: response.completed")]
	got := runStream(tr, strings.NewReader(cut))
	wantEnd := "event: error\ndata: {\"type\":\"error\",\"code\":\"upstream_error\",\"message\":\"the backend stream ended before the response was complete\",\"param\":null}\n\n"
	if !bytes.HasPrefix(got, []byte(cut)) || !bytes.HasSuffix(got, []byte(wantEnd)) {
		t.Fatalf("cut stream:\n%s", got)
	}

	tr, _ = New(api.EndpointResponses, "fast", "gpt-5-mini")
	body := []byte(`{"id":"resp_2","object":"response","status":"completed","usage":{"input_tokens":5,"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1}}}`)
	if out, err := tr.Response(body); err != nil || !bytes.Equal(out, body) || tr.Usage() != (api.Usage{InputTokens: 5, OutputTokens: 3, ReasoningTokens: 1, Reported: true}) {
		t.Fatalf("plain: %s, %v, %+v", out, err, tr.Usage())
	}
}

func TestCountTokensNotServed(t *testing.T) {
	if _, err := New(api.EndpointCountTokens, "m", "m"); err == nil || api.Status(err) != 404 {
		t.Fatalf("count_tokens: %v; the gateway estimates on a not-found error", err)
	}
}
