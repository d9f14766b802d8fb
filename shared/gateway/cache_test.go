package gateway_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicegw/sluice/shared/cache"
	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/gatewaytest"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/route"
	"github.com/sluicegw/sluice/shared/servertest"
	"github.com/sluicegw/sluice/shared/window"
)

var env servertest.Env

func TestMain(m *testing.M) { os.Exit(servertest.Main(m, &env)) }

// cachedGateway serves the models to the mock OpenAI and Anthropic
// providers, every rule under a CachePolicy of its own, with the answers
// in redisAddr (the test binary's redis-server when empty). It returns the
// gateway and the recorder of upstream requests.
func cachedGateway(t *testing.T, redisAddr string, policy route.Cache) (*gatewaytest.Gateway, *gatewaytest.Recorder) {
	t.Helper()
	rec := &gatewaytest.Recorder{}
	oai := gatewaytest.Upstream(t, rec.Wrap(&mock.OpenAI{}))
	ant := gatewaytest.Upstream(t, rec.Wrap(&mock.Anthropic{}))
	tab := gatewaytest.Table(t, gatewaytest.Routes{
		"gpt-4o":        gatewaytest.OpenAIAt(oai + "/v1"),
		"gpt-4o-mini":   gatewaytest.OpenAIAt(oai + "/v1"),
		"error-500":     gatewaytest.OpenAIAt(oai + "/v1"),
		"cut-midstream": gatewaytest.OpenAIAt(oai + "/v1"),
		"claude-sonnet": {{Provider: "anthropic", Endpoint: ant + "/v1"}},
	})
	for i := range tab.Rules {
		p := policy
		p.Scope = tab.Rules[i].Route + "/0"
		tab.Rules[i].Cache = &p
	}
	if redisAddr == "" {
		redisAddr = env.Redis(t)
	}
	rc, err := window.NewClient("redis://"+redisAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	rc.FlushAll(context.Background())
	g := gatewaytest.New(t, tab, gatewaytest.WithConfig(gateway.Config{Cache: cache.NewRedis(rc, cache.StoreConfig{})}))
	return g, rec
}

var exact = route.Cache{Exact: true, TTL: 3600e9, MaxBytes: 1 << 20}

func chatBody(model, system, question, extra string) string {
	return `{"model":"` + model + `","messages":[{"role":"system","content":"` + system + `"},{"role":"user","content":"` +
		question + `"}],"temperature":0` + extra + `}`
}

// TestCacheKeyElements: a hit for the same request, whatever is not in the
// key; a miss for a change of anything that is.
func TestCacheKeyElements(t *testing.T) {
	g, rec := cachedGateway(t, "", exact)
	base := chatBody("gpt-4o", "Be brief.", "What is the capital of France?", "")
	steps := []struct {
		name, body, want string
		header           []string
	}{
		{"first", base, "miss", nil},
		{"same", base, "hit", nil},
		{"stream flag, user and whitespace", strings.Replace(base, `"temperature":0`, ` "temperature" : 0.0, "user":"u2"`, 1), "hit", nil},
		{"system prompt", chatBody("gpt-4o", "Be long.", "What is the capital of France?", ""), "miss", nil},
		{"model", chatBody("gpt-4o-mini", "Be brief.", "What is the capital of France?", ""), "miss", nil},
		{"tool", chatBody("gpt-4o", "Be brief.", "What is the capital of France?", `,"tools":[{"type":"function","function":{"name":"f"}}]`), "miss", nil},
		{"max tokens", chatBody("gpt-4o", "Be brief.", "What is the capital of France?", `,"max_tokens":77`), "miss", nil},
		{"temperature above zero is not cached", strings.Replace(base, `"temperature":0`, `"temperature":0.7`, 1), "bypass", nil},
		{"no temperature samples at 1", strings.Replace(base, `,"temperature":0`, ``, 1), "bypass", nil},
		{"no-cache skips the read", base, "bypass", []string{"Cache-Control", "no-cache"}},
		{"no-store question", chatBody("gpt-4o", "Be brief.", "Never stored?", ""), "miss", []string{"Cache-Control", "no-store"}},
		{"no-store question again", chatBody("gpt-4o", "Be brief.", "Never stored?", ""), "miss", nil},
		{"errors are not stored", chatBody("error-500", "S", "Q", ""), "miss", nil},
		{"errors are not stored, again", chatBody("error-500", "S", "Q", ""), "miss", nil},
	}
	for _, s := range steps {
		before := rec.Count()
		resp, body := ask(t, g, s.body, s.header...)
		if got := resp.Header.Get("X-Sluice-Cache"); got != s.want {
			t.Fatalf("%s: x-sluice-cache %q, want %q (status %d: %s)", s.name, got, s.want, resp.StatusCode, body)
		}
		if hit := rec.Count() == before; hit != (s.want == "hit") {
			t.Fatalf("%s: upstream reached: %v", s.name, !hit)
		}
		if s.want == "hit" && resp.Header.Get("X-Sluice-Cache-Saved-Tokens") == "" {
			t.Fatalf("%s: no saved tokens header", s.name)
		}
	}
}

// TestCacheOpenAIReplay: a plain miss, then the same question plain and
// streamed through openai-go, each a hit shaped as a live answer is.
func TestCacheOpenAIReplay(t *testing.T) {
	g, rec := cachedGateway(t, "", exact)
	c := g.OpenAI()
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:       "gpt-4o",
		Temperature: openai.Float(0),
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Tell me a short story about a lighthouse keeper")},
	}
	var h *http.Response
	live, err := c.Chat.Completions.New(ctx, params, option.WithResponseInto(&h))
	if err != nil || h.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("live: %v, cache %q", err, h.Header.Get("X-Sluice-Cache"))
	}
	hit, err := c.Chat.Completions.New(ctx, params, option.WithResponseInto(&h))
	if err != nil || h.Header.Get("X-Sluice-Cache") != "hit" {
		t.Fatalf("hit: %v, cache %q", err, h.Header.Get("X-Sluice-Cache"))
	}
	if hit.ID == live.ID || hit.Choices[0].Message.Content != live.Choices[0].Message.Content ||
		hit.Usage.TotalTokens != live.Usage.TotalTokens || hit.Usage.TotalTokens == 0 {
		t.Fatalf("hit %+v\nlive %+v", hit, live)
	}
	if h.Header.Get("X-Sluice-Cache-Saved-Tokens") != itoa(live.Usage.TotalTokens) {
		t.Fatalf("saved tokens %q, want %d", h.Header.Get("X-Sluice-Cache-Saved-Tokens"), live.Usage.TotalTokens)
	}

	// The streamed hit, and a live stream of another question for its shape.
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	upstream := rec.Count()
	replay, replayShape := chatStream(t, c, params, &h)
	if h.Header.Get("X-Sluice-Cache") != "hit" || rec.Count() != upstream {
		t.Fatalf("streamed request: cache %q, upstream reached %v", h.Header.Get("X-Sluice-Cache"), rec.Count() != upstream)
	}
	if replay.Choices[0].Message.Content != live.Choices[0].Message.Content || replay.Usage.TotalTokens != live.Usage.TotalTokens || replay.ID == live.ID {
		t.Fatalf("replayed stream adds up to %+v", replay)
	}
	params.Messages[1] = openai.UserMessage("Tell me a short story about a baker")
	_, liveShape := chatStream(t, c, params, &h, option.WithHeader("Cache-Control", "no-store"))
	if h.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("live stream: cache %q", h.Header.Get("X-Sluice-Cache"))
	}
	if !slices.Equal(collapse(replayShape), collapse(liveShape)) {
		t.Fatalf("replay's shape %v\nlive's %v", replayShape, liveShape)
	}

	// A streamed miss is stored as the answer it adds up to: a plain hit
	// next. (The stream is read to its end, when the handler has returned:
	// the answer is stored after the last event, which an SDK may read
	// before that.)
	streamed := chatBody("gpt-4o", "S", "Tell me about a fisherman", `,"stream":true`)
	if resp, _ := ask(t, g, streamed); resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("streamed miss: %q", resp.Header.Get("X-Sluice-Cache"))
	}
	resp, body := ask(t, g, chatBody("gpt-4o", "S", "Tell me about a fisherman", ""))
	var fromStream openai.ChatCompletion
	if err := fromStream.UnmarshalJSON([]byte(body)); err != nil || resp.Header.Get("X-Sluice-Cache") != "hit" ||
		!strings.Contains(fromStream.Choices[0].Message.Content, "fisherman") || fromStream.Usage.TotalTokens == 0 {
		t.Fatalf("after a streamed miss: %v, cache %q, %s", err, resp.Header.Get("X-Sluice-Cache"), body)
	}
}

// chatStream streams a completion through openai-go and returns what it
// adds up to and the kind of each chunk, in order.
func chatStream(t *testing.T, c openai.Client, params openai.ChatCompletionNewParams, h **http.Response, opts ...option.RequestOption) (openai.ChatCompletion, []string) {
	t.Helper()
	s := c.Chat.Completions.NewStreaming(context.Background(), params, append(opts, option.WithResponseInto(h))...)
	var acc openai.ChatCompletionAccumulator
	var shape []string
	for s.Next() {
		ch := s.Current()
		acc.AddChunk(ch)
		switch {
		case len(ch.Choices) == 0 && ch.Usage.TotalTokens > 0:
			shape = append(shape, "usage")
		case ch.Choices[0].Delta.Role != "":
			shape = append(shape, "role")
		case ch.Choices[0].FinishReason != "":
			shape = append(shape, "finish")
		case ch.Choices[0].Delta.Content != "":
			shape = append(shape, "content")
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(shape, " "), "content"); n < 2 {
		t.Fatalf("%d content deltas: %v", n, shape)
	}
	return acc.ChatCompletion, shape
}

// ask posts a chat completion with the harness's key and the header
// names and values given.
func ask(t *testing.T, g *gatewaytest.Gateway, body string, header ...string) (*http.Response, string) {
	t.Helper()
	return g.Do(t, "POST", "/v1/chat/completions", body, append([]string{"Authorization", "Bearer " + g.Key}, header...)...)
}

// collapse drops repeats of one kind in a row: a shape to compare.
func collapse(s []string) []string { return slices.Compact(slices.Clone(s)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCacheAnthropicReplay: an Anthropic client's plain miss replayed as a
// stream the SDK accumulates to the same message, with the live stream's
// sequence of events.
func TestCacheAnthropicReplay(t *testing.T) {
	// Anthropic's SDK sends no temperature: the provider's default, 1.
	sampled := exact
	sampled.AllowTemperature = true
	g, rec := cachedGateway(t, "", sampled)
	c := g.Anthropic()
	ctx := context.Background()
	params := anthropic.MessageNewParams{
		Model: "claude-sonnet", MaxTokens: 256,
		System:   []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Describe the sea in a few sentences"))},
	}
	var h *http.Response
	live, err := c.Messages.New(ctx, params, aoption.WithResponseInto(&h))
	if err != nil || h.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("live: %v %q", err, h.Header.Get("X-Sluice-Cache"))
	}
	upstream := rec.Count()
	replay, replayShape := messagesStream(t, c, params, &h)
	if h.Header.Get("X-Sluice-Cache") != "hit" || rec.Count() != upstream {
		t.Fatalf("stream: cache %q", h.Header.Get("X-Sluice-Cache"))
	}
	if replay.ID == live.ID || len(replay.Content) != len(live.Content) || replay.Content[0].Text != live.Content[0].Text ||
		replay.StopReason != live.StopReason || replay.Usage.OutputTokens != live.Usage.OutputTokens || replay.Usage.InputTokens != live.Usage.InputTokens {
		t.Fatalf("replay %+v\nlive %+v", replay, live)
	}
	_, liveShape := messagesStream(t, c, params, &h, aoption.WithHeader("Cache-Control", "no-cache"))
	if h.Header.Get("X-Sluice-Cache") != "bypass" {
		t.Fatalf("no-cache stream: cache %q", h.Header.Get("X-Sluice-Cache"))
	}
	if !slices.Equal(collapse(replayShape), collapse(liveShape)) {
		t.Fatalf("replay's events %v\nlive's %v", replayShape, liveShape)
	}
}

func messagesStream(t *testing.T, c anthropic.Client, params anthropic.MessageNewParams, h **http.Response, opts ...aoption.RequestOption) (anthropic.Message, []string) {
	t.Helper()
	s := c.Messages.NewStreaming(context.Background(), params, append(opts, aoption.WithResponseInto(h))...)
	var acc anthropic.Message
	var shape []string
	for s.Next() {
		ev := s.Current()
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "ping" {
			shape = append(shape, ev.Type)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return acc, shape
}

// TestCacheCutStreamNotStored: a stream the backend cuts is never stored.
func TestCacheCutStreamNotStored(t *testing.T) {
	g, rec := cachedGateway(t, "", exact)
	body := chatBody("cut-midstream", "S", "Q", `,"stream":true`)
	for i := range 2 {
		before := rec.Count()
		resp, _ := ask(t, g, body)
		if resp.Header.Get("X-Sluice-Cache") != "miss" || rec.Count() == before {
			t.Fatalf("try %d: cache %q, upstream reached %v", i, resp.Header.Get("X-Sluice-Cache"), rec.Count() != before)
		}
	}
}

// TestCacheConcurrentIdenticalRequests: many identical requests at once
// all succeed, and the answer then stored is whole.
func TestCacheConcurrentIdenticalRequests(t *testing.T) {
	g, _ := cachedGateway(t, "", exact)
	body := chatBody("gpt-4o", "S", "Tell me about concurrency in a long paragraph", "")
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Go(func() {
			resp, b := ask(t, g, body)
			if resp.StatusCode != 200 {
				t.Errorf("status %d: %s", resp.StatusCode, b)
			}
			bodies[i] = b
		})
	}
	wg.Wait()
	resp, b := ask(t, g, body)
	if resp.Header.Get("X-Sluice-Cache") != "hit" {
		t.Fatalf("after the burst: %q", resp.Header.Get("X-Sluice-Cache"))
	}
	var hit openai.ChatCompletion
	if err := hit.UnmarshalJSON([]byte(b)); err != nil || hit.Choices[0].FinishReason != "stop" {
		t.Fatalf("stored answer %v: %s", err, b)
	}
}

// TestCacheRedisKilledMidRun stops the redis-server the cache uses: the
// gateway goes on serving, without the cache.
func TestCacheRedisKilledMidRun(t *testing.T) {
	srv := servertest.OwnRedis(t)
	g, rec := cachedGateway(t, srv.Addr, exact)
	body := chatBody("gpt-4o", "S", "Is Redis needed?", "")
	for _, want := range []string{"miss", "hit"} {
		if resp, b := ask(t, g, body); resp.Header.Get("X-Sluice-Cache") != want {
			t.Fatalf("want %s: %q %s", want, resp.Header.Get("X-Sluice-Cache"), b)
		}
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		before := rec.Count()
		resp, b := ask(t, g, body)
		if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "miss" || rec.Count() == before {
			t.Fatalf("redis down, request %d: status %d cache %q: %s", i, resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), b)
		}
	}
	// A stream too is served in full.
	resp, b := ask(t, g, chatBody("gpt-4o", "S", "Is Redis needed?", `,"stream":true`))
	if resp.StatusCode != 200 || !strings.HasSuffix(strings.TrimSpace(b), "data: [DONE]") {
		t.Fatalf("stream with redis down: %d %s", resp.StatusCode, lastLines(b))
	}
}

func lastLines(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-4):], "\n")
}

// TestCacheToolCallReplay: with cacheToolCalls, an answer that calls a
// tool is stored, and its streamed replay carries the call as tool-call
// deltas that openai-go adds up to the same call.
func TestCacheToolCallReplay(t *testing.T) {
	withTools := exact
	withTools.AllowToolCalls = true
	g, rec := cachedGateway(t, "", withTools)
	c := g.OpenAI()
	params := openai.ChatCompletionNewParams{
		Model: "gpt-4o", Temperature: openai.Float(0),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Use the tool to get the weather in Paris")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		})},
	}
	var h *http.Response
	live, err := c.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&h))
	if err != nil || h.Header.Get("X-Sluice-Cache") != "miss" || len(live.Choices[0].Message.ToolCalls) == 0 {
		t.Fatalf("live: %v %q %+v", err, h.Header.Get("X-Sluice-Cache"), live)
	}
	upstream := rec.Count()
	s := c.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&h))
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil || h.Header.Get("X-Sluice-Cache") != "hit" || rec.Count() != upstream {
		t.Fatalf("replay: %v %q", err, h.Header.Get("X-Sluice-Cache"))
	}
	got, want := acc.Choices[0].Message.ToolCalls, live.Choices[0].Message.ToolCalls
	if len(got) != len(want) || got[0].Function.Name != want[0].Function.Name || got[0].Function.Arguments != want[0].Function.Arguments ||
		got[0].ID != want[0].ID || acc.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("replayed calls %+v, want %+v", got, want)
	}
}

// TestCacheCorruptEntryIsAMiss overwrites a stored answer with a truncated
// one: the client gets a live answer, never an error.
func TestCacheCorruptEntryIsAMiss(t *testing.T) {
	addr := env.Redis(t)
	g, _ := cachedGateway(t, addr, exact)
	body := chatBody("gpt-4o", "S", "Will this entry survive?", "")
	if resp, _ := ask(t, g, body); resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatal("first request was not a miss")
	}
	rc, err := window.NewClient("redis://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	req, err := cache.Canonical(cache.ChatCompletions, []byte(body), cache.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	key := cache.Scope{Route: "default/gpt-4o/0"}.ExactKey(req)
	stored, err := rc.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatalf("the answer is not under the expected key: %v", err)
	}
	rc.Set(context.Background(), key, stored[:len(stored)/2], 0)
	resp, out := ask(t, g, body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "miss" || !strings.Contains(out, "survive") {
		t.Fatalf("after corruption: %d %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), out)
	}
	if resp, _ := ask(t, g, body); resp.Header.Get("X-Sluice-Cache") != "hit" {
		t.Fatal("the live answer did not replace the corrupt entry")
	}
}

// TestCacheWithoutStoreIsBypass: a CachePolicy on a gateway with no Redis
// configured serves every request live, saying so.
func TestCacheWithoutStoreIsBypass(t *testing.T) {
	up := gatewaytest.Upstream(t, &mock.OpenAI{})
	tab := gatewaytest.Table(t, gatewaytest.Routes{"gpt-4o": gatewaytest.OpenAIAt(up + "/v1")})
	p := exact
	tab.Rules[0].Cache = &p
	g := gatewaytest.New(t, tab)
	for range 2 {
		if resp, b := ask(t, g, chatBody("gpt-4o", "S", "Q", "")); resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "bypass" {
			t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), b)
		}
	}
}

// TestCacheResponsesPlain: a plain Responses answer is cached and
// replayed with a fresh id.
func TestCacheResponsesPlain(t *testing.T) {
	g, rec := cachedGateway(t, "", exact)
	body := `{"model":"gpt-4o","temperature":0,"input":"Say hello to the Responses API"}`
	post := func(body string) (*http.Response, string) {
		return g.Do(t, "POST", "/v1/responses", body, "Authorization", "Bearer "+g.Key)
	}
	resp, live := post(body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cache") != "miss" {
		t.Fatalf("first: %d %q %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cache"), live)
	}
	before := rec.Count()
	resp, hit := post(body)
	if resp.Header.Get("X-Sluice-Cache") != "hit" || rec.Count() != before || hit == live || !strings.Contains(hit, "Responses API") ||
		!strings.Contains(hit, `"id":"resp_`) {
		t.Fatalf("second: %q %s", resp.Header.Get("X-Sluice-Cache"), hit)
	}
}
