package mock

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// The mock is checked with AWS's own bedrockruntime client pointed straight
// at it, so it provably speaks Converse, ConverseStream's event stream and
// InvokeModel, and accepts the SDK's SigV4 signatures (checked in full).

var mockCreds = aws.Credentials{AccessKeyID: "AKIDMOCK", SecretAccessKey: "mock-secret"}

func sdkClient(t *testing.T) *bedrockruntime.Client {
	t.Helper()
	srv := httptest.NewServer(&Bedrock{Credentials: &mockCreds})
	t.Cleanup(srv.Close)
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		HTTPClient:       &http.Client{Transport: readBodyTransport{http.DefaultTransport}},
		Credentials:      credentials.NewStaticCredentialsProvider(mockCreds.AccessKeyID, mockCreds.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	})
}

// readBodyTransport hides the WriteTo method of the SDK's request bodies
// from net/http. The SDK closes a request body as soon as the response
// headers arrive, and that body's WriteTo then fails with io.EOF where Read
// would end cleanly; when the mock answers before the transport's last read
// of the body, the transport takes it for a write error and closes the
// connection under the event stream.
type readBodyTransport struct{ http.RoundTripper }

func (t readBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return t.RoundTripper.RoundTrip(r)
}

const claude = "anthropic.claude-3-7-sonnet-20250219-v1:0"

func userText(s string) types.Message {
	return types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}}
}

func weatherTools() *types.ToolConfiguration {
	return &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name: aws.String("get_weather"), Description: aws.String("Current weather"),
		InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
			"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}})},
	}}}}
}

func TestBedrockSDKConverse(t *testing.T) {
	c := sdkClient(t)
	out, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{
		ModelId:  aws.String(claude),
		System:   []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "Be brief."}},
		Messages: []types.Message{userText("Say hello")},
		AdditionalModelRequestFields: document.NewLazyDocument(map[string]any{
			"thinking": map[string]any{"type": "enabled", "budget_tokens": 1024}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.StopReason != types.StopReasonEndTurn || out.Usage == nil || *out.Usage.InputTokens == 0 {
		t.Fatalf("stop %s usage %+v", out.StopReason, out.Usage)
	}
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	rc := msg.Content[0].(*types.ContentBlockMemberReasoningContent).Value.(*types.ReasoningContentBlockMemberReasoningText).Value
	if *rc.Signature == "" || *rc.Text == "" {
		t.Fatalf("reasoning %+v", rc)
	}
	if text := msg.Content[1].(*types.ContentBlockMemberText).Value; !strings.Contains(text, "Say hello") {
		t.Fatalf("text %q", text)
	}
}

func TestBedrockSDKToolRoundTrip(t *testing.T) {
	c := sdkClient(t)
	ctx := context.Background()
	msgs := []types.Message{userText("What is the weather in Paris?")}
	out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: msgs, ToolConfig: weatherTools()})
	if err != nil {
		t.Fatal(err)
	}
	if out.StopReason != types.StopReasonToolUse {
		t.Fatalf("stop %s", out.StopReason)
	}
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	use := msg.Content[0].(*types.ContentBlockMemberToolUse).Value
	var in map[string]any
	if err := use.Input.UnmarshalSmithyDocument(&in); err != nil || in["location"] != "Paris" || *use.Name != "get_weather" {
		t.Fatalf("tool use %+v %v %v", use, in, err)
	}
	msgs = append(msgs, msg, types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{
		ToolUseId: use.ToolUseId, Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: "18C and sunny"}}}}}})
	out, err = c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: msgs, ToolConfig: weatherTools()})
	if err != nil {
		t.Fatal(err)
	}
	text := out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value
	if out.StopReason != types.StopReasonEndTurn || !strings.Contains(text, "18C and sunny") {
		t.Fatalf("stop %s text %q", out.StopReason, text)
	}
}

func TestBedrockSDKConverseStream(t *testing.T) {
	c := sdkClient(t)
	for _, tc := range []struct {
		name  string
		input string
		tools *types.ToolConfiguration
	}{{"text", "Say hello", nil}, {"tool", "weather in Paris?", weatherTools()}} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{
				ModelId: aws.String(claude), Messages: []types.Message{userText(tc.input)}, ToolConfig: tc.tools,
				AdditionalModelRequestFields: document.NewLazyDocument(map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 1024}}),
			})
			if err != nil {
				t.Fatal(err)
			}
			st := out.GetStream()
			defer st.Close()
			var kinds []string
			var text, reasoning, sig, input strings.Builder
			var stop types.StopReason
			var usage *types.TokenUsage
			for ev := range st.Events() {
				switch e := ev.(type) {
				case *types.ConverseStreamOutputMemberMessageStart:
					kinds = append(kinds, "messageStart")
				case *types.ConverseStreamOutputMemberContentBlockStart:
					kinds = append(kinds, "contentBlockStart")
					if tu, ok := e.Value.Start.(*types.ContentBlockStartMemberToolUse); !ok || *tu.Value.Name != "get_weather" {
						t.Fatalf("start %+v", e.Value.Start)
					}
				case *types.ConverseStreamOutputMemberContentBlockDelta:
					kinds = append(kinds, "contentBlockDelta")
					switch d := e.Value.Delta.(type) {
					case *types.ContentBlockDeltaMemberText:
						text.WriteString(d.Value)
					case *types.ContentBlockDeltaMemberToolUse:
						input.WriteString(*d.Value.Input)
					case *types.ContentBlockDeltaMemberReasoningContent:
						switch r := d.Value.(type) {
						case *types.ReasoningContentBlockDeltaMemberText:
							reasoning.WriteString(r.Value)
						case *types.ReasoningContentBlockDeltaMemberSignature:
							sig.WriteString(r.Value)
						}
					default:
						t.Fatalf("delta %T", d)
					}
				case *types.ConverseStreamOutputMemberContentBlockStop:
					kinds = append(kinds, "contentBlockStop")
				case *types.ConverseStreamOutputMemberMessageStop:
					kinds = append(kinds, "messageStop")
					stop = e.Value.StopReason
				case *types.ConverseStreamOutputMemberMetadata:
					kinds = append(kinds, "metadata")
					usage = e.Value.Usage
				default:
					t.Fatalf("event %T", ev)
				}
			}
			if err := st.Err(); err != nil {
				t.Fatal(err)
			}
			if kinds[0] != "messageStart" || kinds[len(kinds)-1] != "metadata" || usage == nil || *usage.OutputTokens == 0 {
				t.Fatalf("events %v usage %+v", kinds, usage)
			}
			if reasoning.Len() == 0 || sig.Len() == 0 {
				t.Fatalf("reasoning %q signature %q", reasoning.String(), sig.String())
			}
			switch tc.name {
			case "text":
				if stop != types.StopReasonEndTurn || !strings.Contains(text.String(), "Say hello") {
					t.Fatalf("stop %s text %q", stop, text.String())
				}
			case "tool":
				if stop != types.StopReasonToolUse || !json.Valid([]byte(input.String())) {
					t.Fatalf("stop %s input %q", stop, input.String())
				}
			}
		})
	}
}

func TestBedrockSDKThrottling(t *testing.T) {
	c := sdkClient(t)
	_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String("throttle-model"), Messages: []types.Message{userText("hi")}})
	var te *types.ThrottlingException
	if !errors.As(err, &te) {
		t.Fatalf("err %v, want ThrottlingException", err)
	}
	out, err := c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String("midstream-throttle"), Messages: []types.Message{userText("a b c d")}})
	if err != nil {
		t.Fatal(err)
	}
	st := out.GetStream()
	for range st.Events() {
	}
	if !errors.As(st.Err(), &te) {
		t.Fatalf("stream err %v, want ThrottlingException", st.Err())
	}
}

func TestBedrockSDKEmbeddings(t *testing.T) {
	c := sdkClient(t)
	out, err := c.InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{ModelId: aws.String("amazon.titan-embed-text-v2:0"),
		ContentType: aws.String("application/json"), Body: []byte(`{"inputText":"hello world","dimensions":256,"normalize":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	var titan struct {
		Embedding []float64 `json:"embedding"`
		Tokens    int       `json:"inputTextTokenCount"`
	}
	if err := json.Unmarshal(out.Body, &titan); err != nil || len(titan.Embedding) != 256 || titan.Tokens != 2 {
		t.Fatalf("titan %d dims, %d tokens, %v", len(titan.Embedding), titan.Tokens, err)
	}
	out, err = c.InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{ModelId: aws.String("cohere.embed-english-v3"),
		ContentType: aws.String("application/json"), Body: []byte(`{"texts":["a","b"],"input_type":"search_document"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var cohere struct {
		Embeddings [][]float64 `json:"embeddings"`
	}
	if err := json.Unmarshal(out.Body, &cohere); err != nil || len(cohere.Embeddings) != 2 {
		t.Fatalf("cohere %v %v", cohere, err)
	}
}

func TestBedrockRejectsBadSignature(t *testing.T) {
	srv := httptest.NewServer(&Bedrock{Credentials: &mockCreds})
	defer srv.Close()
	c := bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(mockCreds.AccessKeyID, "wrong-secret", "")})
	_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: []types.Message{userText("hi")}})
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("err %v, want InvalidSignatureException", err)
	}
}

// TestBedrockSDKOutputConfigAndStopSequence: the mock reads what the SDK
// sends for structured outputs (outputConfig.textFormat) and for the
// matched stop sequence (additionalModelResponseFieldPaths), and answers
// additionalModelResponseFields where the SDK reads it, plain and
// streamed.
func TestBedrockSDKOutputConfigAndStopSequence(t *testing.T) {
	c := sdkClient(t)
	ctx := context.Background()
	format := &types.OutputConfig{TextFormat: &types.OutputFormat{Type: types.OutputFormatTypeJsonSchema,
		Structure: &types.OutputFormatStructureMemberJsonSchema{Value: types.JsonSchemaDefinition{
			Schema: aws.String(`{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}`), Name: aws.String("answer")}}}}
	out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: []types.Message{userText("Paris as JSON")}, OutputConfig: format})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Answer string }
	text := out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value
	if out.StopReason != types.StopReasonEndTurn || json.Unmarshal([]byte(text), &v) != nil || v.Answer != "Paris as JSON" {
		t.Fatalf("stop %s text %q", out.StopReason, text)
	}

	stops := &types.InferenceConfiguration{StopSequences: []string{"provider", "mock"}}
	out, err = c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: []types.Message{userText("hi")},
		InferenceConfig: stops, AdditionalModelResponseFieldPaths: []string{"/stop_sequence"}})
	if err != nil {
		t.Fatal(err)
	}
	var fields struct {
		StopSequence *string `document:"stop_sequence"`
	}
	text = out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value
	if out.AdditionalModelResponseFields == nil || out.AdditionalModelResponseFields.UnmarshalSmithyDocument(&fields) != nil ||
		out.StopReason != types.StopReasonStopSequence || fields.StopSequence == nil || *fields.StopSequence != "mock" || text != "Hello from the Sluice " {
		t.Fatalf("stop %s fields %+v text %q", out.StopReason, fields, text)
	}

	st, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: []types.Message{userText("hi")},
		InferenceConfig: stops, AdditionalModelResponseFieldPaths: []string{"/stop_sequence"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.GetStream().Close()
	fields.StopSequence = nil
	for ev := range st.GetStream().Events() {
		if e, ok := ev.(*types.ConverseStreamOutputMemberMessageStop); ok {
			if e.Value.StopReason != types.StopReasonStopSequence || e.Value.AdditionalModelResponseFields.UnmarshalSmithyDocument(&fields) != nil {
				t.Fatalf("messageStop %+v", e.Value)
			}
		}
	}
	if err := st.GetStream().Err(); err != nil || fields.StopSequence == nil || *fields.StopSequence != "mock" {
		t.Fatalf("stream: %v, fields %+v", err, fields)
	}

	// Without the path, the sequence is not reported: Converse's default.
	out, err = c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: []types.Message{userText("hi")}, InferenceConfig: stops})
	if err != nil || out.StopReason != types.StopReasonStopSequence || out.AdditionalModelResponseFields != nil {
		t.Fatalf("stop %s fields %v, %v", out.StopReason, out.AdditionalModelResponseFields, err)
	}
}
