package lambdahttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicegw/sluice/shared/lambdahttp"
)

// greet is an ordinary net/http handler: it never learns that it runs in
// Lambda.
var greet = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s?%s on %s\n", r.Method, r.URL.Path, r.URL.RawQuery, r.Host)
})

// A function URL event (payload 2.0), as Lambda hands it to the function.
const urlEvent = `{
  "version": "2.0",
  "rawPath": "/hello",
  "rawQueryString": "name=sluice",
  "headers": {"host": "abcdefghij.lambda-url.us-east-1.on.aws"},
  "requestContext": {"http": {"method": "GET", "sourceIp": "198.51.100.23"}, "requestId": "r-1"},
  "isBase64Encoded": false
}`

// ExampleNewHandler serves a handler buffered, for one event held in
// memory; a function's main passes the same value to
// lambda.StartHandlerFunc.
func ExampleNewHandler() {
	fn := lambdahttp.NewHandler(greet, lambdahttp.Config{Stream: false})

	out, err := fn(context.Background(), json.RawMessage(urlEvent))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp := out.(events.LambdaFunctionURLResponse)
	fmt.Println(resp.StatusCode, resp.Headers["Content-Type"])
	fmt.Print(resp.Body)
	// Output:
	// 200 text/plain
	// GET /hello?name=sluice on abcdefghij.lambda-url.us-east-1.on.aws
}

// ExampleNewHandler_stream serves an API Gateway REST event streamed: the
// response is a reader that yields each write as the handler flushes it,
// and REST responses carry every header in MultiValueHeaders.
func ExampleNewHandler_stream() {
	sse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
	})
	fn := lambdahttp.NewHandler(sse, lambdahttp.Config{Stream: true})
	restEvent := `{"httpMethod": "GET", "path": "/events", "headers": {"Host": "api.example.com"},
		"requestContext": {"requestId": "r-2", "identity": {"sourceIp": "198.51.100.23"}}}`

	out, err := fn(context.Background(), json.RawMessage(restEvent))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp := out.(*events.APIGatewayProxyStreamingResponse)
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.MultiValueHeaders["Content-Type"])
	fmt.Print(string(body))
	// Output:
	// 200 [text/event-stream]
	// data: 0
	//
	// data: 1
	//
	// data: 2
}
