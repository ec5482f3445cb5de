package controller

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports the filter's counters at scrape time (reading the per-CPU
// maps is cheap and keeps one source of truth), per interface (each runs its
// own instance of the program with counters of its own), plus the
// controller's own counters. Dynamic-block reasons are free text, so they
// are never labels.
type metrics struct {
	c *Controller

	packets, bytes, attached, blocks *prometheus.Desc
	refused, capped                  *prometheus.Desc

	controlRequests *prometheus.CounterVec
	reloads         *prometheus.CounterVec
	blocksAdded     prometheus.Counter
	up              atomic.Bool
}

func newMetrics(c *Controller) *metrics {
	return &metrics{
		c: c,
		packets: prometheus.NewDesc("supernode_xdp_packets_total",
			"Packets the XDP filter decided on, by interface, verdict and reason.", []string{"interface", "verdict", "reason"}, nil),
		bytes: prometheus.NewDesc("supernode_xdp_bytes_total",
			"Bytes the XDP filter decided on, by interface, verdict and reason.", []string{"interface", "verdict", "reason"}, nil),
		attached: prometheus.NewDesc("supernode_xdp_interface_attached",
			"1 for each interface the filter is attached to, with the mode the kernel reports.", []string{"interface", "mode"}, nil),
		blocks: prometheus.NewDesc("supernode_xdp_dynamic_blocks",
			"Dynamic blocks currently in force.", nil, nil),
		refused: prometheus.NewDesc("supernode_xdp_block_refusals_total",
			"Block requests refused, by cause: protected (overlaps the never-block list) or full (max_blocks in force).", []string{"cause"}, nil),
		capped: prometheus.NewDesc("supernode_xdp_block_ttl_capped_total",
			"Block requests whose TTL report_max_ttl shortened.", nil, nil),
		controlRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "supernode_xdp_control_requests_total",
			Help: "Control socket requests, by command and result (ok or error).",
		}, []string{"command", "result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "supernode_xdp_reloads_total",
			Help: "Configuration reloads (SIGHUP), by result (ok or error).",
		}, []string{"result"}),
		blocksAdded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "supernode_xdp_dynamic_blocks_added_total",
			Help: "Dynamic blocks added through the control socket.",
		}),
	}
}

// Register adds the controller's metrics to reg.
func (c *Controller) Register(reg prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{c.metrics, c.metrics.controlRequests, c.metrics.reloads, c.metrics.blocksAdded} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// ReloadResult counts a reload attempt for the metrics.
func (c *Controller) ReloadResult(err error) {
	if err != nil {
		c.metrics.reloads.WithLabelValues("error").Inc()
		return
	}
	c.metrics.reloads.WithLabelValues("ok").Inc()
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.packets
	ch <- m.bytes
	ch <- m.attached
	ch <- m.blocks
	ch <- m.refused
	ch <- m.capped
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, a := range m.c.Interfaces() {
		ch <- prometheus.MustNewConstMetric(m.attached, prometheus.GaugeValue, 1, a.Name, a.Mode)
		counters, err := m.c.filter.InterfaceCounters(a.Index)
		if err != nil {
			continue // adopted link whose program could not be replaced: it counts elsewhere
		}
		for _, k := range counters {
			v, cause := k.Reason.Verdict(), k.Reason.Cause()
			ch <- prometheus.MustNewConstMetric(m.packets, prometheus.CounterValue, float64(k.Packets), a.Name, v, cause)
			ch <- prometheus.MustNewConstMetric(m.bytes, prometheus.CounterValue, float64(k.Bytes), a.Name, v, cause)
		}
	}
	if bs, err := m.c.Blocks(); err == nil {
		ch <- prometheus.MustNewConstMetric(m.blocks, prometheus.GaugeValue, float64(len(bs)))
	}
	refused, capped := m.c.Refusals()
	for _, cause := range []string{refusedProtected, refusedFull} {
		ch <- prometheus.MustNewConstMetric(m.refused, prometheus.CounterValue, float64(refused[cause]), cause)
	}
	ch <- prometheus.MustNewConstMetric(m.capped, prometheus.CounterValue, float64(capped))
}
