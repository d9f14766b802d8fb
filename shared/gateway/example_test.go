package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sluicegw/sluice/shared/gateway"
	"github.com/sluicegw/sluice/shared/ledger"
	"github.com/sluicegw/sluice/shared/mock"
	"github.com/sluicegw/sluice/shared/provider"
	"github.com/sluicegw/sluice/shared/provider/builtin"
	"github.com/sluicegw/sluice/shared/route"
)

// staticTable serves one route table; in a deployment the table comes
// from the store through gateway.NewTableWatcher.
type staticTable struct{ t *route.Table }

func (s staticTable) Table() *route.Table { return s.t }

// oneKey is a key store holding one key record; in a deployment the
// records are in DynamoDB (store.Store).
type oneKey ledger.Key

func (k oneKey) GetKey(_ context.Context, id string) (ledger.Key, error) {
	if id != k.ID {
		return ledger.Key{}, ledger.ErrKeyNotFound
	}
	return ledger.Key(k), nil
}

// The gateway is a net/http handler: here it runs on an httptest server in
// front of the mock OpenAI provider, with one route, one API key and the
// built-in providers, and answers one chat completion.
func Example() {
	upstream := httptest.NewServer(&mock.OpenAI{})
	defer upstream.Close()

	// Requests on /v1 go to the OpenAI-protocol backend.
	table := &route.Table{Version: 1,
		Backends: []route.Backend{{Name: "default/openai", Provider: "openai", Endpoint: upstream.URL + "/v1"}},
		Rules:    []route.Rule{{Route: "default/chat", Backends: []route.BackendRef{{Backend: 0, Weight: 1}}}},
		Entries: []route.Entry{{Rule: 0, RouteName: "default/chat",
			Match: route.Match{Path: route.PathMatch{Type: route.PathPrefix, Value: "/v1"}}}},
	}
	if err := table.Prepare(); err != nil {
		fmt.Println(err)
		return
	}
	secret, key := ledger.NewKey("example", "", time.Now())
	keys := ledger.NewAuthenticator(oneKey(key), 0, nil)
	gw, err := gateway.New(gateway.Config{Providers: builtin.Registry(provider.Deps{})}, staticTable{table}, keys, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"mock-gpt","messages":[{"role":"user","content":"ping"}]}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var completion struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&completion); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Sluice-Backend"))
	fmt.Println(completion.Choices[0].Message.Content)
	fmt.Println(completion.Choices[0].FinishReason)
	// Output:
	// 200 default/openai
	// Hello from the Sluice mock provider. You said: ping
	// stop
}
