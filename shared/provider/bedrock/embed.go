package bedrock

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sluicegw/sluice/shared/api"
	"github.com/sluicegw/sluice/shared/api/chat"
	"github.com/sluicegw/sluice/shared/json"
	"github.com/sluicegw/sluice/shared/provider/preset"
	"github.com/sluicegw/sluice/shared/sse"
)

// embedder serves OpenAI /v1/embeddings from InvokeModel on Bedrock's
// embedding models:
//   - Amazon Titan text embeddings (amazon.titan-embed-*): one input per
//     call, {"inputText", "dimensions", "normalize"} → {"embedding",
//     "inputTextTokenCount"}; several inputs are several calls (the
//     provider.Fanout ability), joined in order. normalize is true, as
//     OpenAI's embeddings are unit length;
//   - Cohere embed (cohere.embed-*): all inputs in one call, {"texts",
//     "input_type": "search_document"} → {"embeddings"}. Cohere does not
//     report tokens, so usage stays unreported and the ledger estimates.
//
// Token-array inputs and encoding_format base64 are refused (400), as is
// dimensions for Cohere.
type embedder struct {
	base
	titan  bool
	inputs []string
	bodies [][]byte
	usage  api.Usage
}

type titanRequest struct {
	InputText  string `json:"inputText"`
	Dimensions *int64 `json:"dimensions,omitempty"`
	Normalize  *bool  `json:"normalize,omitempty"` // v2 only
}

type titanResponse struct {
	Embedding           []float64 `json:"embedding"`
	InputTextTokenCount int64     `json:"inputTextTokenCount"`
}

type cohereRequest struct {
	Texts     []string `json:"texts"`
	InputType string   `json:"input_type"`
}

type cohereResponse struct {
	Embeddings json.RawMessage `json:"embeddings"` // [][]float64, or by type when embedding_types is set
}

// Request builds the first (for Cohere, the only) InvokeModel body.
func (t *embedder) Request(body []byte) (string, []byte, error) {
	var req chat.EmbeddingRequest
	if err := chat.Decode(body, &req); err != nil {
		return "", nil, api.DecodeError(err, "Embeddings", preset.Bedrock)
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		return "", nil, unsupported("encoding_format", "encoding_format "+req.EncodingFormat)
	}
	inputs, err := embeddingInputs(req.Input)
	if err != nil {
		return "", nil, err
	}
	t.inputs = inputs
	path := modelPath(t.model, "invoke")
	switch {
	case strings.Contains(t.model, "amazon.titan-embed"):
		t.titan = true
		// Titan text v1 takes inputText alone; v2 sizes and normalises.
		var normalize *bool
		if strings.Contains(t.model, "titan-embed-text-v1") {
			if req.Dimensions != nil {
				return "", nil, unsupported("dimensions", "dimensions for "+t.model)
			}
		} else {
			yes := true
			normalize = &yes
		}
		for _, in := range inputs {
			b, _ := json.Marshal(titanRequest{InputText: in, Dimensions: req.Dimensions, Normalize: normalize})
			t.bodies = append(t.bodies, b)
		}
		return path, t.bodies[0], nil
	case strings.Contains(t.model, "cohere.embed"):
		if req.Dimensions != nil {
			return "", nil, unsupported("dimensions", "dimensions for Cohere embeddings")
		}
		b, _ := json.Marshal(cohereRequest{Texts: inputs, InputType: "search_document"})
		t.bodies = [][]byte{b}
		return path, b, nil
	}
	return "", nil, unsupported("model", "embeddings from "+t.model+" (Titan and Cohere embedding models are)")
}

// embeddingInputs reads OpenAI's input: a string or an array of strings.
func embeddingInputs(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("input", "input must be a string or an array of strings")
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, unsupported("input", "input other than a string or an array of strings (token arrays)")
	}
	if len(list) == 0 {
		return nil, badRequest("input", "input must not be empty")
	}
	return list, nil
}

// More is the provider.Fanout ability: the Titan calls after the first.
func (t *embedder) More() [][]byte {
	if len(t.bodies) <= 1 {
		return nil
	}
	return t.bodies[1:]
}

// Response translates a single InvokeModel answer.
func (t *embedder) Response(body []byte) ([]byte, error) { return t.Join([][]byte{body}) }

// Join translates the answers of every call, in input order.
func (t *embedder) Join(bodies [][]byte) ([]byte, error) {
	out := chat.EmbeddingResponse{Object: "list", Model: t.client, Data: make([]chat.Embedding, 0, len(t.inputs))}
	bad := api.BadUpstreamBody(preset.Bedrock, "a response body")
	if t.titan {
		if len(bodies) != len(t.inputs) {
			return nil, bad
		}
		for i, b := range bodies {
			var r titanResponse
			if json.Unmarshal(b, &r) != nil || r.Embedding == nil {
				return nil, bad
			}
			out.Data = append(out.Data, chat.Embedding{Object: "embedding", Index: int64(i), Embedding: r.Embedding})
			out.Usage.PromptTokens += r.InputTextTokenCount
		}
		out.Usage.TotalTokens = out.Usage.PromptTokens
		t.usage = api.Usage{InputTokens: out.Usage.PromptTokens, Reported: true}
	} else {
		if len(bodies) != 1 {
			return nil, bad
		}
		var r cohereResponse
		var vecs [][]float64
		if json.Unmarshal(bodies[0], &r) != nil {
			return nil, bad
		}
		if json.Unmarshal(r.Embeddings, &vecs) != nil {
			// Embed v4 answers by type: {"float": [[...]]}.
			var byType struct {
				Float [][]float64 `json:"float"`
			}
			if json.Unmarshal(r.Embeddings, &byType) != nil {
				return nil, bad
			}
			vecs = byType.Float
		}
		if len(vecs) != len(t.inputs) {
			return nil, bad
		}
		for i, v := range vecs {
			out.Data = append(out.Data, chat.Embedding{Object: "embedding", Index: int64(i), Embedding: v})
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("bedrock: encode embeddings: %w", err)
	}
	return b, nil
}

// Usage is what Bedrock reported (Titan only).
func (t *embedder) Usage() api.Usage { return t.usage }

// Embeddings do not stream; these complete the Translator.

func (t *embedder) StreamEvent(dst []byte, ev sse.Event) ([]byte, error) {
	return dst, api.Errorf(api.ErrUpstream, "embeddings do not stream")
}

func (t *embedder) StreamError(dst []byte, err error) []byte {
	return sse.AppendEvent(dst, "", api.OpenAIBody(err))
}

func (t *embedder) StreamEnd(dst []byte) ([]byte, error) { return dst, nil }
