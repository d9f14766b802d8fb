package api

// KindCode names err's kind by its OpenAI error code ("upstream_error",
// "rate_limit_exceeded"; "internal_error" for an error of no kind): the
// coarse name counters group failures by, whatever code the error itself
// carries.
func KindCode(err error) string {
	return infoOf(err).code
}
