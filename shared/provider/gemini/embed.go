package gemini

import (
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// Embed translates OpenAI's POST /v1/embeddings to Gemini's
// batchEmbedContents (Vertex AI: predict). The Gemini API reports no token
// usage for embeddings, so the usage in the answer is then an estimate (a
// token per four bytes of input, rounded up) and Usage says it was not
// reported: the ledger knows the figure is Sluice's own. Vertex AI counts
// each input's tokens, and those are used.
type Embed struct {
	common
	client, model string
	base64        bool
	usage         api.Usage
}

type embedRequest struct {
	Requests []embedContentRequest `json:"requests"`
}

type embedContentRequest struct {
	Model                string  `json:"model"`
	Content              content `json:"content"`
	OutputDimensionality *int64  `json:"outputDimensionality,omitempty"`
}

// Request converts the embeddings request.
func (t *Embed) Request(body []byte) (string, []byte, error) {
	var r chat.EmbeddingRequest
	if err := chat.Decode(body, &r); err != nil {
		return "", nil, api.DecodeError(err, "Embeddings", preset.Gemini)
	}
	switch r.EncodingFormat {
	case "", "float":
	case "base64":
		t.base64 = true
	default:
		return "", nil, &api.Error{Kind: api.ErrBadRequest, Param: "encoding_format", Message: "encoding_format must be float or base64"}
	}
	var inputs []string
	if json.Unmarshal(r.Input, &inputs) != nil {
		var one string
		if err := json.Unmarshal(r.Input, &one); err != nil {
			return "", nil, &api.Error{Kind: api.ErrBadRequest, Param: "input", Message: "input must be a string or an array of strings for the gemini provider (token arrays are not supported)"}
		}
		inputs = []string{one}
	}
	if len(inputs) == 0 {
		return "", nil, &api.Error{Kind: api.ErrBadRequest, Param: "input", Message: "input must not be empty"}
	}
	// user is accepted and not sent: Gemini has no counterpart.
	if t.vertex {
		return t.vertexRequest(inputs, r.Dimensions)
	}
	g := embedRequest{Requests: make([]embedContentRequest, len(inputs))}
	var tokens int64
	for i, in := range inputs {
		g.Requests[i] = embedContentRequest{Model: "models/" + t.model, Content: content{Parts: []part{{Text: in}}}, OutputDimensionality: r.Dimensions}
		tokens += max(1, (int64(len(in))+3)/4)
	}
	t.usage = api.Usage{InputTokens: tokens}
	out, _ := json.Marshal(g)
	return "/models/" + t.model + ":batchEmbedContents", out, nil
}

// vertexRequest is Vertex AI's predict body for text embedding models:
// one instance per input. Vertex counts each input's tokens.
func (t *Embed) vertexRequest(inputs []string, dims *int64) (string, []byte, error) {
	type instance struct {
		Content string `json:"content"`
	}
	var body struct {
		Instances  []instance `json:"instances"`
		Parameters *struct {
			OutputDimensionality int64 `json:"outputDimensionality"`
		} `json:"parameters,omitempty"`
	}
	for _, in := range inputs {
		body.Instances = append(body.Instances, instance{in})
	}
	if dims != nil {
		body.Parameters = &struct {
			OutputDimensionality int64 `json:"outputDimensionality"`
		}{*dims}
	}
	out, _ := json.Marshal(body)
	return "/models/" + t.model + ":predict", out, nil
}

type embedValues struct {
	Values []float64 `json:"values"`
}

// Response converts the embeddings to OpenAI's list.
func (t *Embed) Response(body []byte) ([]byte, error) {
	var r struct {
		Embeddings    []embedValues `json:"embeddings"`
		UsageMetadata *struct {
			PromptTokenCount int64 `json:"promptTokenCount"`
		} `json:"usageMetadata"`
		// Vertex AI's predict answer.
		Predictions []struct {
			Embeddings struct {
				Values     []float64 `json:"values"`
				Statistics *struct {
					TokenCount float64 `json:"token_count"`
				} `json:"statistics"`
			} `json:"embeddings"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, api.BadUpstreamBody(preset.Gemini, "a response body")
	}
	if u := r.UsageMetadata; u != nil && u.PromptTokenCount > 0 {
		t.usage = api.Usage{InputTokens: u.PromptTokenCount, Reported: true}
	}
	if len(r.Predictions) > 0 {
		var tokens int64
		counted := true
		for _, p := range r.Predictions {
			r.Embeddings = append(r.Embeddings, embedValues{p.Embeddings.Values})
			if st := p.Embeddings.Statistics; st != nil {
				tokens += int64(st.TokenCount)
			} else {
				counted = false
			}
		}
		if counted {
			t.usage = api.Usage{InputTokens: tokens, Reported: true}
		}
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(r.Embeddings))
	for i, e := range r.Embeddings {
		data[i] = item{Object: "embedding", Index: i, Embedding: e.Values}
		if t.base64 {
			buf := make([]byte, 4*len(e.Values))
			for j, v := range e.Values {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(float32(v)))
			}
			data[i].Embedding = base64.StdEncoding.EncodeToString(buf)
		}
	}
	return json.Marshal(struct {
		Object string     `json:"object"`
		Data   []item     `json:"data"`
		Model  string     `json:"model"`
		Usage  chat.Usage `json:"usage"`
	}{"list", data, t.client, chat.Usage{PromptTokens: t.usage.InputTokens, TotalTokens: t.usage.InputTokens}})
}

// StreamEvent is never called: embeddings do not stream.
func (t *Embed) StreamEvent(dst []byte, _ sse.Event) ([]byte, error) { return dst, nil }

// StreamError renders an OpenAI error event.
func (t *Embed) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

// Error maps Gemini's error object.
func (t *Embed) Error(status int, body []byte) error { return upstreamError(status, body) }

// Usage is the estimate made from the input, or Gemini's count if it gave one.
func (t *Embed) Usage() api.Usage { return t.usage }
