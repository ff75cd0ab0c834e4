package ledger

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ledger's Prometheus collectors. A nil *Metrics records
// nothing.
type Metrics struct {
	committed prometheus.Counter
	refused   *prometheus.CounterVec
	batchSize prometheus.Histogram
	latency   prometheus.Histogram
}

// NewMetrics creates the ledger's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		committed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chengdui_ledger_transfers_committed_total",
			Help: "Transfers committed to the journal.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chengdui_ledger_transfers_refused_total",
			Help: "Transfers refused, by error code.",
		}, []string{"code"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chengdui_ledger_batch_transfers",
			Help:    "Transfers per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chengdui_ledger_commit_seconds",
			Help:    "Duration of one group commit's database transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
	}
	reg.MustRegister(m.committed, m.refused, m.batchSize, m.latency)
	return m
}

func (m *Metrics) observe(committed int, refusedCodes []string, batch int, seconds float64) {
	if m == nil {
		return
	}
	m.committed.Add(float64(committed))
	for _, c := range refusedCodes {
		m.refused.WithLabelValues(c).Inc()
	}
	m.batchSize.Observe(float64(batch))
	m.latency.Observe(seconds)
}
