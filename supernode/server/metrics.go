package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Drop reasons: every datagram that gets no service is counted under exactly
// one of these (supernode_drops_total{reason}).
type dropReason uint8

const (
	dropRateLimited dropReason = iota
	dropNotSTUN
	dropTruncated
	dropOversize
	dropMalformed
	dropBadFingerprint
	dropUnexpectedClass
	dropUnknownMethod
	dropAmplification
	dropBadCookie
	dropCookieExpired
	dropBadSignature
	dropBadIntegrity
	dropReplay
	dropNotRegistered
	dropAddressMismatch
	dropSendError
	dropChangeTooSmall   // a CHANGE-REQUEST whose reply would be larger than it (discovery.go)
	dropBadChangeRequest // CHANGE-REQUEST not 4 bytes long
	dropAlternateMethod  // a supernode method sent to an alternate (discovery-only) address
	nDropReasons
)

var dropNames = [nDropReasons]string{
	"rate_limited", "not_stun", "truncated", "oversize", "malformed", "bad_fingerprint",
	"unexpected_class", "unknown_method", "amplification", "bad_cookie", "cookie_expired",
	"bad_signature", "bad_integrity", "replay", "not_registered", "address_mismatch", "send_error",
	"change_too_small", "bad_change_request", "alternate_method",
}

func (r dropReason) String() string { return dropNames[r] }

// Methods and results for supernode_requests_total{method,result}.
type methodIdx uint8

const (
	mBinding methodIdx = iota
	mRegister
	mKeepalive
	mLookup
	mLeave
	mOther
	nMethods
)

var methodNames = [nMethods]string{"binding", "register", "keepalive", "lookup", "leave", "other"}

type result uint8

const (
	rOK result = iota
	rChallenge
	rNotFound
	rFull
	rNotRegistered
	rUnknownAttribute
	rDropped
	rRateLimited // lookup: introduction rate limit (error 474)
	rQuota       // register: per-prefix quota (error 473)
	rChanged     // binding: answered from the address CHANGE-REQUEST named (discovery.go)
	nResults
)

var resultNames = [nResults]string{"ok", "challenge", "not_found", "full", "not_registered", "unknown_attribute", "dropped", "rate_limited", "quota", "changed"}

// Introduction limits for supernode_introductions_limited_total{by}.
const (
	limitedRequester = iota
	limitedTarget
	nLimited
)

var limitedNames = [nLimited]string{"requester", "target"}

// Quota prefixes for supernode_quota_refusals_total{prefix}.
var quotaNames = [3]string{"ipv4_24", "ipv6_64", "ipv6_48"}

// quotaIndex maps a directory quota error to its label.
func quotaIndex(err error) int {
	switch err {
	case directory.ErrQuotaIPv6Net64:
		return 1
	case directory.ErrQuotaIPv6Net48:
		return 2
	}
	return 0
}

// Introduction paths for supernode_introductions_total{path}.
const (
	introLocal = iota
	introFleet
	introDelivered
	introFailed
	nIntro
)

var introNames = [nIntro]string{"local", "fleet", "delivered", "failed"}

// metrics holds pre-resolved Prometheus children (no label lookups on the
// packet path) plus plain atomic mirrors that tests and STATUS read.
type metrics struct {
	requests   [nMethods][nResults]prometheus.Counter
	drops      [nDropReasons]prometheus.Counter
	latency    [nMethods]prometheus.Observer
	dropCount  [nDropReasons]atomic.Uint64
	total      atomic.Uint64
	reports    *prometheus.CounterVec
	introduced [nIntro]prometheus.Counter
	limited    [nLimited]prometheus.Counter
	quota      [3]prometheus.Counter // by quotaIndex
	candidates [wire.NCandidateFaults]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, peers func() float64, expired func() float64) *metrics {
	m := &metrics{}
	req := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_requests_total", Help: "Requests answered or refused, by method and result.",
	}, []string{"method", "result"})
	drops := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_drops_total", Help: "Datagrams dropped without service, by reason.",
	}, []string{"reason"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "supernode_request_duration_seconds",
		Help:    "Time from decoding a request to queueing its reply.",
		Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2},
	}, []string{"method"})
	m.reports = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_abuse_reports_total", Help: "Abusive sources reported, by outcome.",
	}, []string{"result"})
	intro := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_introductions_total", Help: "Introductions of a requester to a lookup target, by path: local (sent here), fleet (handed to the member that holds the target), delivered (sealed and sent here for another member), failed.",
	}, []string{"path"})
	for i := range nIntro {
		m.introduced[i] = intro.WithLabelValues(introNames[i])
	}
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_introductions_limited_total", Help: "Lookups refused (error 474, no introduction) because the requester or the target used up its introduction budget (introduce_rate, introduce_burst).",
	}, []string{"by"})
	for i := range nLimited {
		m.limited[i] = limited.WithLabelValues(limitedNames[i])
	}
	quota := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_quota_refusals_total", Help: "Registrations refused (error 473) because the source's network holds its quota of peers, by prefix.",
	}, []string{"prefix"})
	for i, n := range quotaNames {
		m.quota[i] = quota.WithLabelValues(n)
	}
	cands := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supernode_candidates_rejected_total", Help: "Local candidates of registrations not stored (and never sent to other peers), by reason.",
	}, []string{"reason"})
	for f := wire.CandidateFault(1); f < wire.NCandidateFaults; f++ {
		m.candidates[f] = cands.WithLabelValues(f.String())
	}
	for i := range nMethods {
		for j := range nResults {
			m.requests[i][j] = req.WithLabelValues(methodNames[i], resultNames[j])
		}
		m.latency[i] = lat.WithLabelValues(methodNames[i])
	}
	for i := range nDropReasons {
		m.drops[i] = drops.WithLabelValues(dropNames[i])
	}
	if reg != nil {
		reg.MustRegister(req, drops, lat, m.reports, intro, limited, quota, cands,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "supernode_directory_peers", Help: "Registered peers."}, peers),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "supernode_lease_expiries_total", Help: "Registrations that expired without keepalive."}, expired),
		)
	}
	return m
}

func (m *metrics) drop(r dropReason) {
	m.drops[r].Inc()
	m.dropCount[r].Add(1)
}
