package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/messages"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider/providertest"
	"github.com/sluicegw/sluice/shared/route"
)

// exchange runs one request the way the gateway does, over a real socket
// to the Bedrock mock (which verifies the signature), and returns what
// the client receives.
func exchange(t *testing.T, url string, ep api.Endpoint, body []byte) ([]byte, int) {
	t.Helper()
	cfg := testConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, "")
	tr, err := New(ep, "claude", "anthropic.claude-sonnet-4-20250514-v1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	path, out, err := tr.Request(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+path, bytes.NewReader(out))
	tr.Header(req.Header)
	if err := NewProvider(cfg).(*Provider).Sign(req.Context(), req, &route.Backend{Endpoint: url}, out); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return api.AnthropicBody(tr.Error(resp.StatusCode, raw)), resp.StatusCode
	}
	if strings.Contains(path, "converse-stream") {
		out, _ := providertest.Stream(tr, resp.Body)
		return out, 200
	}
	raw, _ := io.ReadAll(resp.Body)
	got, err := tr.Response(raw)
	if err != nil {
		t.Fatal(err)
	}
	return got, 200
}

// collect rebuilds the assistant's content blocks from an Anthropic
// stream, as the Anthropic SDK's accumulator does.
func collect(t *testing.T, sse []byte) ([]messages.Block, string) {
	t.Helper()
	var blocks []messages.Block
	var stop string
	partial := map[int64]*strings.Builder{}
	for _, line := range strings.Split(string(sse), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var e messages.Event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("bad event %s", data)
		}
		switch e.Type {
		case messages.EventContentBlockStart:
			blocks = append(blocks, *e.ContentBlock)
			partial[*e.Index] = &strings.Builder{}
		case messages.EventContentBlockDelta:
			b := &blocks[*e.Index]
			switch e.Delta.Type {
			case messages.DeltaText:
				b.Text += e.Delta.Text
			case messages.DeltaThinking:
				s := *b.Thinking + e.Delta.Thinking
				b.Thinking = &s
			case messages.DeltaSignature:
				s := *b.Signature + e.Delta.Signature
				b.Signature = &s
			case messages.DeltaInputJSON:
				partial[*e.Index].WriteString(*e.Delta.PartialJSON)
			}
		case messages.EventContentBlockStop:
			if b := &blocks[*e.Index]; b.Type == messages.BlockToolUse && partial[*e.Index].Len() > 0 {
				b.Input = json.RawMessage(partial[*e.Index].String())
			}
		case messages.EventMessageDelta:
			stop = *e.Delta.StopReason
		case messages.EventError:
			t.Fatalf("stream error %s", data)
		}
	}
	return blocks, stop
}

// Multi-turn tool use with extended thinking through Bedrock Claude: the
// thinking block and its signature come back to the client and go to
// Bedrock again on the next turn, plain and streamed. The mock refuses a
// tool-using assistant turn without its signed thinking block, as Claude
// does.
func TestAnthropicThinkingToolRoundTripAgainstMock(t *testing.T) {
	srv := httptest.NewServer(&mock.Bedrock{Credentials: &testCreds})
	defer srv.Close()
	tools := `"tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}}]`
	first := `{"role":"user","content":"What is the weather in Paris?"}`
	for _, stream := range []bool{false, true} {
		s := ""
		if stream {
			s = `"stream":true,`
		}
		body := `{"model":"claude","max_tokens":2048,` + s + `"thinking":{"type":"enabled","budget_tokens":1024},` + tools + `,"messages":[` + first + `]}`
		got, status := exchange(t, srv.URL, api.EndpointMessages, []byte(body))
		if status != 200 {
			t.Fatalf("first turn: %d %s", status, got)
		}
		var blocks []messages.Block
		var stop string
		if stream {
			blocks, stop = collect(t, got)
		} else {
			var r messages.Response
			if err := json.Unmarshal(got, &r); err != nil {
				t.Fatal(err)
			}
			blocks, stop = r.Content, *r.StopReason
		}
		if stop != "tool_use" || len(blocks) != 2 || blocks[0].Type != "thinking" || *blocks[0].Signature != "mock-signature-1" || blocks[1].Type != "tool_use" {
			t.Fatalf("stream %v: stop %s blocks %+v", stream, stop, blocks)
		}
		assistant, _ := json.Marshal(messages.Message{Role: "assistant", Content: messages.Content{IsBlocks: true, Blocks: blocks}})
		result := `{"role":"user","content":[{"type":"tool_result","tool_use_id":"` + blocks[1].ID + `","content":"12C, rain"}]}`
		body = `{"model":"claude","max_tokens":2048,` + s + `"thinking":{"type":"enabled","budget_tokens":1024},` + tools + `,"messages":[` + first + `,` + string(assistant) + `,` + result + `]}`
		got, status = exchange(t, srv.URL, api.EndpointMessages, []byte(body))
		text := string(got)
		if stream && status == 200 {
			blocks, _ := collect(t, got)
			text = blocks[len(blocks)-1].Text
		}
		if status != 200 || !strings.Contains(text, "12C, rain") {
			t.Fatalf("stream %v second turn: %d %s", stream, status, got)
		}
		// Dropping the signature is refused, as Claude refuses it.
		noSig := strings.Replace(body, `"signature":"mock-signature-1"`, `"signature":""`, 1)
		if got, status = exchange(t, srv.URL, api.EndpointMessages, []byte(noSig)); status != 400 || !strings.Contains(string(got), "thinking") {
			t.Fatalf("unsigned thinking: %d %s", status, got)
		}
	}
}
