// Command bootstrap is the test function for lambdaemu: lambdahttp.NewHandler
// with a handler whose routes exercise streaming, buffering, panics and
// crashes. Routes that must wait for the test call the URL in the "signal"
// query parameter, which answers only when the test lets them go on.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sluicegw/sluice/shared/lambdahttp"
	"github.com/sluicegw/sluice/shared/setting"
)

func main() {
	if os.Getenv("TEST_FUNCTION_ERROR") != "" {
		// A function that fails every invocation, for the /error path.
		lambda.Start(func(context.Context, json.RawMessage) (any, error) {
			return nil, errors.New("raw failure")
		})
	}
	r := setting.NewReader(os.Getenv)
	stream := r.Bool(setting.LambdaStream)
	if err := r.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.StartHandlerFunc(lambdahttp.NewHandler(routes(), lambdahttp.Config{Stream: stream}))
}

// wait calls the test's signal URL and returns when it answers.
func wait(r *http.Request) {
	u := r.URL.Query().Get("signal")
	if u == "" {
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(fmt.Sprintf("signal: %v", err))
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Add("X-Multi", "a")
		h.Add("X-Multi", "b")
		h.Add("Set-Cookie", "a=1")
		h.Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0, 0xff, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3})
	})
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ids, _ := lambdahttp.FromContext(r.Context())
		deadline, _ := r.Context().Deadline()
		env := map[string]string{}
		for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
			"AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT", "SLUICE_TEST", "HOME"} {
			env[k] = os.Getenv(k)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "escapedPath": r.URL.EscapedPath(), "rawQuery": r.URL.RawQuery,
			"host": r.Host, "remoteAddr": r.RemoteAddr, "header": r.Header, "body": base64.StdEncoding.EncodeToString(body),
			"lambdaRequestId": ids.Lambda, "gatewayRequestId": ids.Gateway, "hasDeadline": !deadline.IsZero(),
			"env": env, "pid": os.Getpid(),
		})
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		io.WriteString(w, "data: 1\n\n")
		rc.Flush()
		wait(r)
		io.WriteString(w, "data: 2\n\n")
		rc.Flush()
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: 1\n\n")
		http.NewResponseController(w).Flush()
		panic("boom mid-stream")
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		os.Exit(3)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-context.Background().Done() // only the emulator's timeout ends this
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = byte(i % 251)
		}
		rc := http.NewResponseController(w)
		for n > 0 {
			k := min(n, len(chunk))
			w.Write(chunk[:k])
			rc.Flush()
			n -= k
		}
	})
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		wait(r)
		fmt.Fprint(w, os.Getpid())
	})
	return mux
}
