package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The gateway's own metrics, written as CloudWatch embedded metric format
// (EMF) lines in its log: namespace MetricNamespace, each metric both
// without dimensions, with the dimension DimBackend (the AIBackend or
// Service that served the request), and with DimRoute and DimBackend
// together (the HTTPRoute that chose that backend), which the live view
// reads.
const (
	MetricNamespace        = "Sluice"
	DimBackend             = "Backend"
	DimRoute               = "Route"
	MetricRequests         = "Requests"         // count, one per request
	MetricInputTokens      = "InputTokens"      // count
	MetricOutputTokens     = "OutputTokens"     // count
	MetricLatency          = "Latency"          // milliseconds, request to last byte
	MetricTimeToFirstToken = "TimeToFirstToken" // milliseconds, request to first streamed event
	MetricCacheHits        = "CacheHits"        // count
	MetricCacheMisses      = "CacheMisses"      // count
	MetricBackendErrors    = "BackendErrors"    // count, failed backend attempts
)

// Alarm thresholds, per five minutes.
const (
	alarmPeriodMinutes     = 5
	gatewayErrorsThreshold = 5 // Lambda invocation errors (crashes, timeouts), not HTTP errors
	gateway5xxThreshold    = 10
	adminErrorsThreshold   = 1
	throttlesThreshold     = 1
)

// monitored is what the dashboard and alarms watch.
type monitored struct {
	fns                  *functions
	gatewayAPI, adminAPI awsapigateway.RestApi
	routes, ledger       awsdynamodb.Table
	cacheName            string
}

func period() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(alarmPeriodMinutes)) }

// sluiceMetric is one of the gateway's EMF metrics, totals only.
func sluiceMetric(name, statistic, label string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(MetricNamespace), MetricName: jsii.String(name),
		Statistic: jsii.String(statistic), Label: jsii.String(label), Period: period(),
	})
}

func sumOpts() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period()}
}

// tableThrottles adds a table's read and write throttle events; key (a
// lowercase word) keeps metric IDs apart when tables share a graph.
func tableThrottles(t awsdynamodb.Table, key, label string) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(key + "Reads + " + key + "Writes"),
		Label:      jsii.String(label),
		Period:     period(),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			key + "Reads":  t.Metric(jsii.String("ReadThrottleEvents"), sumOpts()),
			key + "Writes": t.Metric(jsii.String("WriteThrottleEvents"), sumOpts()),
		},
	})
}

func cacheMetric(cacheName, name, statistic string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/ElastiCache"), MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{"clusterId": jsii.String(cacheName)},
		Statistic:     jsii.String(statistic), Period: period(),
	})
}

func graph(title string, left []awscloudwatch.IMetric, right ...awscloudwatch.IMetric) awscloudwatch.IWidget {
	props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6)}
	if len(right) > 0 {
		props.Right = &right
	}
	return awscloudwatch.NewGraphWidget(props)
}

// newDashboard shows requests, tokens, latency, time to first token, the
// response cache's hit ratio, errors by backend, and the AWS services'
// own health.
func newDashboard(scope constructs.Construct, m monitored) awscloudwatch.Dashboard {
	hitRatio := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("100 * hits / (hits + misses)"),
		Label:      jsii.String("cache hit ratio (%)"),
		Period:     period(),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"hits":   sluiceMetric(MetricCacheHits, "Sum", "hits"),
			"misses": sluiceMetric(MetricCacheMisses, "Sum", "misses"),
		},
	})
	errorsByBackend := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', 'Sum', %d)`,
			MetricNamespace, DimBackend, MetricBackendErrors, alarmPeriodMinutes*60)),
		Label:  jsii.String(""),
		Period: period(),
	})
	gw, admin := m.fns.gateway, m.fns.admin
	return awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				graph("Requests", []awscloudwatch.IMetric{
					sluiceMetric(MetricRequests, "Sum", "gateway requests"),
					m.gatewayAPI.MetricCount(sumOpts()),
				}),
				graph("Tokens", []awscloudwatch.IMetric{
					sluiceMetric(MetricInputTokens, "Sum", "input tokens"),
					sluiceMetric(MetricOutputTokens, "Sum", "output tokens"),
				}),
				graph("Errors", []awscloudwatch.IMetric{
					m.gatewayAPI.MetricClientError(sumOpts()),
					m.gatewayAPI.MetricServerError(sumOpts()),
					gw.MetricErrors(sumOpts()),
					admin.MetricErrors(sumOpts()),
				}),
			},
			{
				graph("Latency (ms)", []awscloudwatch.IMetric{
					sluiceMetric(MetricLatency, "p50", "p50"),
					sluiceMetric(MetricLatency, "p90", "p90"),
					sluiceMetric(MetricLatency, "p99", "p99"),
				}),
				graph("Time to first token (ms)", []awscloudwatch.IMetric{
					sluiceMetric(MetricTimeToFirstToken, "p50", "p50"),
					sluiceMetric(MetricTimeToFirstToken, "p90", "p90"),
					sluiceMetric(MetricTimeToFirstToken, "p99", "p99"),
				}),
				graph("Response cache", []awscloudwatch.IMetric{hitRatio},
					cacheMetric(m.cacheName, "ElastiCacheProcessingUnits", "Sum")),
			},
			{
				graph("Errors by backend", []awscloudwatch.IMetric{errorsByBackend}),
				graph("Lambda", []awscloudwatch.IMetric{
					gw.MetricThrottles(sumOpts()),
					admin.MetricThrottles(sumOpts()),
				}, gw.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: period()})),
				graph("Throttles (DynamoDB, ElastiCache)", []awscloudwatch.IMetric{
					tableThrottles(m.routes, "routes", "routes table"),
					tableThrottles(m.ledger, "ledger", "ledger table"),
					cacheMetric(m.cacheName, "ThrottledCmds", "Sum"),
				}),
			},
		},
	})
}

// newAlarms raises alarms on errors and throttles, notifying topicARN when
// it is set.
func newAlarms(scope constructs.Construct, m monitored, topicARN string) []awscloudwatch.Alarm {
	specs := []struct {
		id, description string
		metric          awscloudwatch.IMetric
		threshold       float64
	}{
		{"GatewayErrorsAlarm", "Sluice gateway Lambda invocation errors (crashes or timeouts)", m.fns.gateway.MetricErrors(sumOpts()), gatewayErrorsThreshold},
		{"GatewayThrottlesAlarm", "Sluice gateway Lambda throttled (concurrency limit)", m.fns.gateway.MetricThrottles(sumOpts()), throttlesThreshold},
		{"GatewayServerErrorsAlarm", "Sluice gateway API 5XX responses", m.gatewayAPI.MetricServerError(sumOpts()), gateway5xxThreshold},
		{"AdminErrorsAlarm", "Sluice admin Lambda invocation errors", m.fns.admin.MetricErrors(sumOpts()), adminErrorsThreshold},
		{"AdminThrottlesAlarm", "Sluice admin Lambda throttled", m.fns.admin.MetricThrottles(sumOpts()), throttlesThreshold},
		{"RoutesTableThrottlesAlarm", "Sluice routes table throttled reads or writes", tableThrottles(m.routes, "routes", "routes table throttles"), throttlesThreshold},
		{"LedgerTableThrottlesAlarm", "Sluice ledger table throttled reads or writes", tableThrottles(m.ledger, "ledger", "ledger table throttles"), throttlesThreshold},
		{"CacheThrottlesAlarm", "Sluice ElastiCache Serverless throttled commands", cacheMetric(m.cacheName, "ThrottledCmds", "Sum"), throttlesThreshold},
	}
	var topic awssns.ITopic
	if topicARN != "" {
		topic = awssns.Topic_FromTopicArn(scope, jsii.String("AlarmTopic"), jsii.String(topicARN))
	}
	alarms := make([]awscloudwatch.Alarm, 0, len(specs))
	for _, s := range specs {
		a := awscloudwatch.NewAlarm(scope, jsii.String(s.id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(s.description),
			Metric:             s.metric,
			Threshold:          jsii.Number(s.threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if topic != nil {
			a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
		}
		alarms = append(alarms, a)
	}
	return alarms
}
