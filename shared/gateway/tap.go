package gateway

import "net/http"

// tap shows what the client is sent to the exchange's observers, the
// cache's store and the access log's answer text, and passes it on
// unchanged and unbuffered. It is put in front of the response writer only
// when a policy needs it, once however many observe.
type tap struct {
	http.ResponseWriter
	cache  *cacheTap
	answer *answerText
}

func (t *tap) Write(b []byte) (int, error) {
	if t.cache != nil {
		t.cache.see(b)
	}
	if t.answer != nil {
		t.answer.see(b)
	}
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush.
func (t *tap) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// tapped returns the exchange's tap, putting it in front of the response
// writer the first time.
func (ex *exchange) tapped() *tap {
	if ex.tap == nil {
		ex.tap = &tap{ResponseWriter: ex.w}
		ex.w = ex.tap
	}
	return ex.tap
}
