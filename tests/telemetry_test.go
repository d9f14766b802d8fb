package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluicegw/sluice/shared/telemetry"
)

// TestLocalMetricsAndHealth: the local process answers /healthz and
// /readyz, and its /metrics, read by Prometheus's text parser, counts the
// requests and tokens the openai-go client just sent.
func TestLocalMetricsAndHealth(t *testing.T) {
	p := startLocal(t, t.TempDir(), "-dynamodb", env.DynamoDB(t), "-redis", "redis://"+env.Redis(t))
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, body := httpDo(t, "GET", p.url(path), "", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	client := openai.NewClient(option.WithBaseURL(p.url("/v1/")), option.WithAPIKey(p.key), option.WithMaxRetries(0))
	const n = 3
	var input, output int64
	for range n {
		c, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model:    "gpt-4o-mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Count me")},
		})
		if err != nil {
			t.Fatal(err)
		}
		input, output = input+c.Usage.PromptTokens, output+c.Usage.CompletionTokens
	}
	resp, err := http.Get(p.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(name string, labels map[string]string) (total float64) {
		f := fams[name]
		if f == nil {
			t.Fatalf("no %s in /metrics", name)
		}
	next:
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if m.Counter != nil {
				total += m.Counter.GetValue()
			} else {
				total += float64(m.Histogram.GetSampleCount())
			}
		}
		return total
	}
	ok := map[string]string{"status": "200"}
	if got := sum(telemetry.PromRequests, ok); got != n {
		t.Errorf("%s{status=200} = %v, want %d", telemetry.PromRequests, got, n)
	}
	if got := sum(telemetry.PromInputTokens, nil); got != float64(input) {
		t.Errorf("input tokens %v, want %d", got, input)
	}
	if got := sum(telemetry.PromOutputTokens, nil); got != float64(output) {
		t.Errorf("output tokens %v, want %d", got, output)
	}
	if got := sum(telemetry.PromLatency, nil); got != n {
		t.Errorf("latency observations %v, want %d", got, n)
	}
	for _, m := range fams[telemetry.PromRequests].Metric {
		for _, l := range m.Label {
			if l.GetName() == "route" && !strings.Contains(l.GetValue(), "/") {
				t.Errorf("route label %q is not namespace/name", l.GetValue())
			}
		}
	}
}
