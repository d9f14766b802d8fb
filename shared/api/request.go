package api

import (
	"encoding/json"
	"errors"
)

// Endpoint names an AI API operation at the gateway's edge.
type Endpoint uint8

const (
	EndpointUnknown Endpoint = iota
	EndpointChatCompletions
	EndpointEmbeddings
	EndpointModels
	EndpointMessages
	EndpointCountTokens
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
	}
	return EndpointUnknown
}

// Peek is what the gateway must know of a body before routing it.
type Peek struct {
	Model  string `json:"model"`
	Stream bool   `json:"stream"`
}

// PeekBody reads the model and stream flag of a JSON request body. It
// rejects a body that is not one JSON object, so malformed input fails
// before any backend is touched.
func PeekBody(body []byte) (Peek, error) {
	var p Peek
	if len(body) == 0 {
		return p, Errorf(ErrBadRequest, "request body is empty; expected a JSON object")
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return p, Errorf(ErrBadRequest, "request body must be a JSON object")
		}
		if errors.As(err, &typeErr) {
			return p, &Error{Kind: ErrBadRequest, Param: typeErr.Field,
				Message: "invalid type for '" + typeErr.Field + "': expected " + typeErr.Type.String()}
		}
		return p, Errorf(ErrBadRequest, "request body is not valid JSON: %v", err)
	}
	if p.Model == "" {
		return p, &Error{Kind: ErrBadRequest, Param: "model", Message: "you must provide a model parameter"}
	}
	return p, nil
}
