package filter

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// Reason is the outcome the program counted a packet under: the C enum
// reason in xdp_filter.c, mirrored into Go by bpf2go. Names and verdicts are
// read from the program's BTF, so the C enum is the only list of reasons.
type Reason uint32

// The reasons the tests and the controller name directly. Every other reason
// is still reachable through Reasons().
const (
	ReasonPassService   = Reason(xdpReasonREASON_PASS_SERVICE)
	ReasonPassReply     = Reason(xdpReasonREASON_PASS_REPLY)
	ReasonPassControl   = Reason(xdpReasonREASON_PASS_CONTROL)
	ReasonPassICMP      = Reason(xdpReasonREASON_PASS_ICMP)
	ReasonPassARP       = Reason(xdpReasonREASON_PASS_ARP)
	ReasonPassFragment  = Reason(xdpReasonREASON_PASS_FRAGMENT)
	ReasonTxBinding     = Reason(xdpReasonREASON_TX_BINDING)
	ReasonDropTruncated = Reason(xdpReasonREASON_DROP_TRUNCATED)
	ReasonDropEthertype = Reason(xdpReasonREASON_DROP_ETHERTYPE)
	ReasonDropVLAN      = Reason(xdpReasonREASON_DROP_VLAN)
	ReasonDropIPHeader  = Reason(xdpReasonREASON_DROP_IP_HEADER)
	ReasonDropIPOptions = Reason(xdpReasonREASON_DROP_IP_OPTIONS)
	ReasonDropTTL       = Reason(xdpReasonREASON_DROP_TTL)
	ReasonDropIPv6Ext   = Reason(xdpReasonREASON_DROP_IPV6EXT)
	ReasonDropFragment  = Reason(xdpReasonREASON_DROP_FRAGMENT)
	ReasonDropProtocol  = Reason(xdpReasonREASON_DROP_PROTOCOL)
	ReasonDropLand      = Reason(xdpReasonREASON_DROP_LAND)
	ReasonDropTCPFlags  = Reason(xdpReasonREASON_DROP_TCP_FLAGS)
	ReasonDropTCPHeader = Reason(xdpReasonREASON_DROP_TCP_HEADER)
	ReasonDropUDPLength = Reason(xdpReasonREASON_DROP_UDP_LENGTH)
	ReasonDropPortZero  = Reason(xdpReasonREASON_DROP_PORT_ZERO)
	ReasonDropClosed    = Reason(xdpReasonREASON_DROP_PORT_CLOSED)
	ReasonDropReflect   = Reason(xdpReasonREASON_DROP_REFLECTION)
	ReasonDropSTUN      = Reason(xdpReasonREASON_DROP_STUN)
	ReasonDropICMPType  = Reason(xdpReasonREASON_DROP_ICMP_TYPE)
	ReasonDropOwnSource = Reason(xdpReasonREASON_DROP_OWN_SOURCE)
	ReasonDropBogon     = Reason(xdpReasonREASON_DROP_BOGON)
	ReasonDropBlocked   = Reason(xdpReasonREASON_DROP_BLOCKED)
	ReasonDropDynamic   = Reason(xdpReasonREASON_DROP_DYNAMIC)
	ReasonDropRateSYN   = Reason(xdpReasonREASON_DROP_RATE_SYN)
	ReasonDropRateUDP   = Reason(xdpReasonREASON_DROP_RATE_UDP)
	ReasonDropRateICMP  = Reason(xdpReasonREASON_DROP_RATE_ICMP)
)

var reasonTable = sync.OnceValues(func() ([]string, error) {
	spec, err := loadXdp()
	if err != nil {
		return nil, err
	}
	var e *btf.Enum
	if err := spec.Types.TypeByName("reason", &e); err != nil {
		return nil, fmt.Errorf("filter: enum reason missing from the program's BTF: %w", err)
	}
	names := make([]string, len(e.Values))
	sort.Slice(e.Values, func(i, j int) bool { return e.Values[i].Value < e.Values[j].Value })
	for i, v := range e.Values {
		if v.Value != uint64(i) {
			return nil, fmt.Errorf("filter: enum reason is not dense at %s", v.Name)
		}
		names[i] = strings.ToLower(strings.TrimPrefix(v.Name, "REASON_"))
	}
	return names, nil
})

func reasonNames() []string {
	names, err := reasonTable()
	if err != nil {
		// The BTF is embedded at build time; failing to read it is a
		// build defect, not a run-time condition.
		panic(err)
	}
	return names
}

// Reasons lists every reason in the order of the C enum: passes first.
func Reasons() []Reason {
	rs := make([]Reason, len(reasonNames()))
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// String returns the reason as written in C without its prefix, lower case:
// "pass_service", "drop_bogon".
func (r Reason) String() string {
	names := reasonNames()
	if int(r) < len(names) {
		return names[r]
	}
	return fmt.Sprintf("reason_%d", uint32(r))
}

// Drop reports whether packets counted under r are dropped.
func (r Reason) Drop() bool { return r >= ReasonDropTruncated }

// Tx reports whether packets counted under r were answered in the driver
// (XDP_TX): the Binding fast path.
func (r Reason) Tx() bool { return r == ReasonTxBinding }

// Action is the XDP action the program returns for packets counted under r:
// XDP_DROP (1), XDP_PASS (2) or XDP_TX (3).
func (r Reason) Action() uint32 {
	switch {
	case r.Drop():
		return 1
	case r.Tx():
		return 3
	}
	return 2
}

// Verdict returns "pass", "drop" or "tx" (answered in the driver), a metric
// label.
func (r Reason) Verdict() string {
	switch {
	case r.Drop():
		return "drop"
	case r.Tx():
		return "tx"
	}
	return "pass"
}

// Cause returns the reason without its verdict ("bogon" for drop_bogon), a
// metric label to pair with Verdict.
func (r Reason) Cause() string {
	s := r.String()
	if i := strings.IndexByte(s, '_'); i >= 0 {
		return s[i+1:]
	}
	return s
}
