package gemini_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider/gemini"
	"github.com/sluicegw/sluice/shared/sse"
)

// relay does for /v1/messages what the gateway's exchange does, so the
// official Anthropic SDK can be pointed at the Gemini translator before the
// gateway serves the Messages ingress on this branch.
func relay(t *testing.T, upstream string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		peek, _ := api.PeekBody(body)
		tr, _ := gemini.New(api.EndpointMessages, peek.Model, peek.Model)
		path, out, err := tr.Request(body)
		if err != nil {
			api.WriteAnthropicError(w, err)
			return
		}
		resp, err := http.Post(upstream+path, "application/json", bytes.NewReader(out))
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			b, _ := io.ReadAll(resp.Body)
			api.WriteAnthropicError(w, tr.Error(resp.StatusCode, b))
			return
		}
		if !peek.Stream {
			b, _ := io.ReadAll(resp.Body)
			out, err := tr.Response(b)
			if err != nil {
				api.WriteAnthropicError(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(out)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		rd := sse.NewReader(resp.Body)
		var buf []byte
		for {
			ev, err := rd.Next()
			if err == io.EOF {
				if buf, err = tr.(interface {
					StreamEnd([]byte) ([]byte, error)
				}).StreamEnd(buf[:0]); err != nil {
					buf = tr.StreamError(buf[:0], err)
				}
				w.Write(buf)
				return
			}
			if err != nil {
				w.Write(tr.StreamError(nil, api.Errorf(api.ErrUpstream, "cut")))
				return
			}
			if buf, err = tr.StreamEvent(buf[:0], ev); err != nil {
				w.Write(tr.StreamError(buf[:0], err))
				return
			}
			w.Write(buf)
		}
	})
}

// TestAnthropicSDKOverGemini: the official anthropic-sdk-go client reads
// what the translator makes of the Gemini mock's answers: plain, streamed,
// extended thinking with signatures and a tool-use round trip.
func TestAnthropicSDKOverGemini(t *testing.T) {
	var mu sync.Mutex
	var seen [][]byte
	gem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, b)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		(&mock.Gemini{}).ServeHTTP(w, r)
	}))
	defer gem.Close()
	srv := httptest.NewServer(relay(t, gem.URL+"/v1beta"))
	defer srv.Close()
	c := anthropic.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()

	msg, err := c.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "gemini-2.5-flash", MaxTokens: 256,
		System:   []anthropic.TextBlockParam{{Text: "be brief"}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello gemini"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn || !strings.HasSuffix(msg.Content[0].Text, "hello gemini") || msg.Usage.OutputTokens == 0 {
		t.Fatalf("message %+v", msg)
	}

	weather := anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}}, "get_weather")
	params := anthropic.MessageNewParams{
		Model: "gemini-2.5-flash", MaxTokens: 2048,
		Thinking: anthropic.ThinkingConfigParamOfEnabled(1024),
		Tools:    []anthropic.ToolUnionParam{weather},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris and Tokyo?"))},
	}
	stream := c.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	var uses []anthropic.ToolUseBlock
	var sig string
	for _, b := range acc.Content {
		switch v := b.AsAny().(type) {
		case anthropic.ToolUseBlock:
			uses = append(uses, v)
		case anthropic.ThinkingBlock:
			sig = v.Signature
		}
	}
	if acc.StopReason != anthropic.StopReasonToolUse || len(uses) != 2 || sig != mock.MockSignature || string(uses[1].Input) != `{"city":"Tokyo"}` {
		t.Fatalf("streamed message %+v", acc)
	}

	// The history goes back with the thinking block and tool results; the
	// signature must reach Gemini on the first function call.
	params.Messages = append(params.Messages, acc.ToParam(), anthropic.NewUserMessage(
		anthropic.NewToolResultBlock(uses[0].ID, "sunny", false), anthropic.NewToolResultBlock(uses[1].ID, "rainy", false)))
	msg, err = c.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Content[len(msg.Content)-1].Text, `get_weather={"output":"sunny"}`) {
		t.Fatalf("after tool results: %+v", msg.Content)
	}
	var sent struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []struct {
				ThoughtSignature string          `json:"thoughtSignature"`
				FunctionCall     json.RawMessage `json:"functionCall"`
			} `json:"parts"`
		} `json:"contents"`
	}
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	json.Unmarshal(last, &sent)
	if p := sent.Contents[1].Parts; sent.Contents[1].Role != "model" || p[0].FunctionCall == nil || p[0].ThoughtSignature != mock.MockSignature {
		t.Fatalf("Gemini received %s", last)
	}

	_, err = c.Messages.New(ctx, anthropic.MessageNewParams{Model: "error-429", MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))}})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || !strings.Contains(apiErr.RawJSON(), "rate_limit_error") {
		t.Fatalf("429: %v", err)
	}
}
