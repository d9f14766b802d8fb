package telemetry

// The gateway's metrics as CloudWatch knows them: the namespace, the
// dimensions and the names that infra/stack/monitoring.go's dashboard and
// alarms read. A test in this module parses monitoring.go and holds the
// two lists equal, so a rename on either side fails the build's tests.
const (
	Namespace  = "Sluice"
	DimBackend = "Backend"
	DimRoute   = "Route" // paired with Backend: the HTTPRoute's namespace/name

	MetricRequests         = "Requests"         // one per request
	MetricInputTokens      = "InputTokens"      // tokens read by the model
	MetricOutputTokens     = "OutputTokens"     // tokens generated
	MetricLatency          = "Latency"          // milliseconds, arrival to last byte
	MetricTimeToFirstToken = "TimeToFirstToken" // milliseconds, arrival to first streamed byte
	MetricCacheHits        = "CacheHits"        // answers from the response cache
	MetricCacheMisses      = "CacheMisses"      // cache lookups that found nothing
	MetricBackendErrors    = "BackendErrors"    // upstream attempts that failed
)

// Metric is one CloudWatch metric the gateway writes.
type Metric struct {
	Name string
	Unit string // a CloudWatch unit: Count or Milliseconds
}

// Metrics lists every metric the EMF lines carry, in the order written.
func Metrics() []Metric {
	return []Metric{
		{MetricRequests, "Count"},
		{MetricInputTokens, "Count"},
		{MetricOutputTokens, "Count"},
		{MetricLatency, "Milliseconds"},
		{MetricTimeToFirstToken, "Milliseconds"},
		{MetricCacheHits, "Count"},
		{MetricCacheMisses, "Count"},
		{MetricBackendErrors, "Count"},
	}
}
