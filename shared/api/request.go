package api

import (
	"bytes"
	"errors"

	"github.com/sluicegw/sluice/shared/json"
)

// Endpoint names an AI API operation at the gateway's edge.
type Endpoint uint8

const (
	EndpointUnknown Endpoint = iota
	EndpointChatCompletions
	EndpointEmbeddings
	EndpointModels
	EndpointMessages
	// EndpointCountTokens is Anthropic's POST /v1/messages/count_tokens.
	EndpointCountTokens
	// EndpointResponses is OpenAI's POST /v1/responses.
	EndpointResponses
	// EndpointModel is GET /v1/models/{id}, one model of the list.
	EndpointModel
)

// EndpointOf maps a request path to its endpoint.
func EndpointOf(path string) Endpoint {
	switch path {
	case "/v1/chat/completions":
		return EndpointChatCompletions
	case "/v1/embeddings":
		return EndpointEmbeddings
	case "/v1/models":
		return EndpointModels
	case "/v1/messages":
		return EndpointMessages
	case "/v1/messages/count_tokens":
		return EndpointCountTokens
	case "/v1/responses":
		return EndpointResponses
	}
	if len(path) > len(ModelsPrefix) && path[:len(ModelsPrefix)] == ModelsPrefix {
		return EndpointModel
	}
	return EndpointUnknown
}

// ModelsPrefix starts the path of one model, GET /v1/models/{id}; the id is
// the rest of the path, slashes included ("meta-llama/Llama-3.1-8B").
const ModelsPrefix = "/v1/models/"

// Anthropic reports whether clients of ep speak Anthropic's protocol, so
// its errors take Anthropic's shape.
func (ep Endpoint) Anthropic() bool {
	return ep == EndpointMessages || ep == EndpointCountTokens
}

// Peek is what the gateway must know of a body before routing it.
type Peek struct {
	Model  string `json:"model"`
	Stream bool   `json:"stream"`
}

// PeekBody reads the model and stream flag of a JSON request body. It
// rejects a body that is not one JSON object, so malformed input fails
// before any backend is touched; with an error the Peek is empty, whatever
// the decoder had read.
func PeekBody(body []byte) (Peek, error) {
	var p Peek
	if len(body) == 0 {
		return Peek{}, Errorf(ErrBadRequest, "request body is empty; expected a JSON object")
	}
	if err := json.Unmarshal(body, &p); err != nil {
		if e := typeError(err); e != nil {
			return Peek{}, e
		}
		return Peek{}, Errorf(ErrBadRequest, "request body is not valid JSON: %v", err)
	}
	if p.Model == "" {
		return Peek{}, &Error{Kind: ErrBadRequest, Param: "model", Message: "you must provide a model parameter"}
	}
	return p, nil
}

// DecodeStrict decodes one JSON value into v, refusing fields v does not
// know and anything after the value: translators decode client bodies with
// it so no field is dropped unseen.
func DecodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}
