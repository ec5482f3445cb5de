package fleet

import "github.com/prometheus/client_golang/prometheus"

// metrics are the fleet's Prometheus series (issue #6: members, ownership
// share, forwarded lookups, replication lag and failures).
type metrics struct {
	members          prometheus.Gauge
	ownershipShare   prometheus.Gauge
	entries          prometheus.Gauge
	lookups          *prometheus.CounterVec // path=local|forwarded, result=found|not_found|failed
	forwardedServed  prometheus.Counter
	replicated       *prometheus.CounterVec // direction=sent|received
	replicationFail  *prometheus.CounterVec // reason=queue_full|send_error|store_full
	replicationLag   prometheus.Histogram
	handoff          prometheus.Counter
	introductions    *prometheus.CounterVec // direction=sent|received
	dropped          *prometheus.CounterVec // reason
	memberEvents     *prometheus.CounterVec // event=join|leave|fail|update
	ownerLosses      prometheus.Counter
	unavailableShare prometheus.Gauge
	gossipStreams    *prometheus.CounterVec // result=accepted|refused_source|refused_busy|capped
	lane             *prometheus.CounterVec // what=messages|datagrams|send_errors

	// Children resolved once for the per-datagram paths.
	receivedEntries prometheus.Counter
	staleEntries    prometheus.Counter
	sentEntries     prometheus.Counter
	lookupLocal     prometheus.Counter
	lookupForwarded prometheus.Counter
	introSent       prometheus.Counter // introductions{sent}, once per routed introduction
	introReceived   prometheus.Counter
	laneMessages    prometheus.Counter
	laneDatagrams   prometheus.Counter
	laneErrors      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "supernode", "fleet"
	m := &metrics{
		members: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "members",
			Help: "Live fleet members, this one included."}),
		ownershipShare: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "ownership_share",
			Help: "Fraction of the peer key space this member owns a replica of (min(R,N)/N under rendezvous hashing)."}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "entries",
			Help: "Directory replicas held by this member for the fleet."}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "lookups_total",
			Help: "Lookups made through the fleet, by path (local owner or forwarded one hop) and result."}, []string{"path", "result"}),
		forwardedServed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "forwarded_lookups_served_total",
			Help: "Lookups other members forwarded to this one as an owner."}),
		replicated: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "replicated_entries_total",
			Help: "Directory entries replicated to or from other members (stale: received but older than the record held)."}, []string{"direction"}),
		replicationFail: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "replication_failures_total",
			Help: "Entries that could not be replicated, by reason; the peer's next refresh repairs them."}, []string{"reason"}),
		replicationLag: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "replication_lag_seconds",
			Help:    "Time from a supernode hearing a peer to an owner storing the replica.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}}),
		handoff: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "handoff_entries_total",
			Help: "Entries sent to new owners after a membership change."}),
		introductions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "introductions_total",
			Help: "Introductions routed to or from the member that last heard the target."}, []string{"direction"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dropped_total",
			Help: "Data-channel datagrams dropped, by reason."}, []string{"reason"}),
		memberEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "member_events_total",
			Help: "Membership changes seen, by event."}, []string{"event"}),
	}
	m.ownerLosses = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "owner_losses_total",
		Help: "Membership changes that lost every owner of part of the key space (registrations there are gone until their peers re-register)."})
	m.unavailableShare = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "unavailable_share",
		Help: "Fraction of the key space whose owners were all lost within the last lease: lookups there answer 504 Owners Unavailable."})
	m.gossipStreams = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "gossip_streams_total",
		Help: "Gossip TCP connections, by result: accepted, refused_source (not in fleet_allow), refused_busy (too many at once), capped (cut at the byte cap)."}, []string{"result"})
	m.lane = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "lane_total",
		Help: "Lookups, lookup answers and introductions sent to other members (messages) and the datagrams that carried them (datagrams; messages/datagrams is the mean batch), and messages whose datagram could not be sent (send_errors)."}, []string{"what"})
	m.laneMessages = m.lane.WithLabelValues("messages")
	m.laneDatagrams = m.lane.WithLabelValues("datagrams")
	m.laneErrors = m.lane.WithLabelValues("send_errors")
	m.receivedEntries = m.replicated.WithLabelValues("received")
	m.sentEntries = m.replicated.WithLabelValues("sent")
	m.staleEntries = m.replicated.WithLabelValues("stale")
	m.lookupLocal = m.lookups.WithLabelValues("local", "found")
	m.lookupForwarded = m.lookups.WithLabelValues("forwarded", "found")
	m.introSent = m.introductions.WithLabelValues("sent")
	m.introReceived = m.introductions.WithLabelValues("received")
	if reg != nil {
		reg.MustRegister(m.members, m.ownershipShare, m.entries, m.lookups, m.forwardedServed, m.replicated,
			m.replicationFail, m.replicationLag, m.handoff, m.introductions, m.dropped, m.memberEvents,
			m.ownerLosses, m.unavailableShare, m.gossipStreams, m.lane)
	}
	return m
}

// Drop reasons of the data channel.
const (
	dropShort     = "short"
	dropDecrypt   = "decrypt"
	dropMalformed = "malformed"
	dropStale     = "stale"
	dropRate      = "rate"
	dropUnknown   = "unknown_type"
	dropNotMember = "not_member"
	dropReplay    = "replay"
	// dropGossipDecrypt counts memberlist gossip and joins that no key of
	// the ring could decrypt.
	dropGossipDecrypt = "gossip_decrypt"
)
