package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus series. Label values never carry a
// credential: keys appear nowhere, models only when routed.
type metrics struct {
	requests   *prometheus.CounterVec   // route, model, decision
	hits       *prometheus.CounterVec   // detector, rule, direction, action
	total      *prometheus.HistogramVec // route
	upstream   *prometheus.HistogramVec // route, upstream
	overhead   *prometheus.HistogramVec // route
	tokens     *prometheus.CounterVec   // model, kind
	limited    *prometheus.CounterVec   // limit
	upErrors   *prometheus.CounterVec   // upstream, code
	inflight   prometheus.Gauge
	auditErrs  prometheus.Counter
	detErrs    *prometheus.CounterVec // detector
	reloads    *prometheus.CounterVec // result
	streamCuts prometheus.Counter
	refreshes  *prometheus.CounterVec // upstream, result

	mu     sync.Mutex
	models map[string]struct{}
}

// maxModelLabels bounds the model label's cardinality; further models are
// counted as "other".
const maxModelLabels = 200

func newMetrics(reg prometheus.Registerer) *metrics {
	latency := []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_requests_total", Help: "Requests by route, model and decision (allow, redact, flag, block, limit, error).",
		}, []string{"route", "model", "decision"}),
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_detector_hits_total", Help: "Detector hits at or above their threshold, by detector, rule, direction and action.",
		}, []string{"detector", "rule", "direction", "action"}),
		total: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rampart_request_duration_seconds", Help: "Total request latency as the client sees it.", Buckets: latency,
		}, []string{"route"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rampart_upstream_duration_seconds", Help: "Time spent waiting on the upstream, from sending the request to its last byte.", Buckets: latency,
		}, []string{"route", "upstream"}),
		overhead: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rampart_gateway_overhead_seconds", Help: "Latency the gateway adds: total minus upstream time.",
			Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
		}, []string{"route"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_tokens_total", Help: "Tokens by model and kind (prompt, completion).",
		}, []string{"model", "kind"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_limit_rejections_total", Help: "Requests refused by a limit, by limit.",
		}, []string{"limit"}),
		upErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_upstream_errors_total", Help: "Upstream failures by upstream and code.",
		}, []string{"upstream", "code"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_inflight_requests", Help: "Requests in flight.",
		}),
		auditErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_audit_errors_total", Help: "Audit records that could not be written.",
		}),
		detErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_detector_errors_total", Help: "Detector failures by detector.",
		}, []string{"detector"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_config_reloads_total", Help: "Configuration reloads by result.",
		}, []string{"result"}),
		streamCuts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_upstream_stream_cuts_total", Help: "Upstream streams that ended without finishing.",
		}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_upstream_credential_refreshes_total", Help: "Upstream credential refreshes by upstream and result (ok, error).",
		}, []string{"upstream", "result"}),
		models: make(map[string]struct{}),
	}
	reg.MustRegister(m.requests, m.hits, m.total, m.upstream, m.overhead, m.tokens, m.limited,
		m.upErrors, m.inflight, m.auditErrs, m.detErrs, m.reloads, m.streamCuts, m.refreshes)
	return m
}

// modelLabel bounds the cardinality of the model label.
func (m *metrics) modelLabel(model string) string {
	if model == "" {
		return "none"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.models[model]; ok {
		return model
	}
	if len(m.models) >= maxModelLabels {
		return "other"
	}
	m.models[model] = struct{}{}
	return model
}
