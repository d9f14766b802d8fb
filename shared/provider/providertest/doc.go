// Package providertest runs provider translators the way the gateway does,
// on fixed dependencies (a clock that stands still, ids that count), so
// that what a translator writes is the same in every run, and replays
// every provider's recorded exchanges in one layout.
//
// A transcript is one exchange between a client and a provider, recorded
// as files named after the case, in a folder per client protocol,
// shared/provider/<p>/testdata/from_<client>/:
//
//	<case>.request.json     what the client sends
//	<case>.model            the upstream model, when not the suite's (optional)
//	<case>.upstream_request what the provider receives (golden): the path,
//	                        the protocol's headers and the body, indented
//	<case>.upstream         what the provider answers, byte for byte: a JSON
//	                        body, or, when the request streams, the stream
//	                        in the provider's framing (Bedrock's binary
//	                        event-stream frames included)
//	<case>.golden           what the client receives (golden), then the
//	                        usage, the skipped-event count and the error
//	                        the exchange ended with, if any
//
// A stream is fed to the translator whole and one byte at a time, and both
// must give the golden; `go test -update` rewrites the goldens.
package providertest
