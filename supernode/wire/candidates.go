package wire

import "net/netip"

// CandidateFault says why an address must not be used as a hole-punching
// candidate. Candidates travel from one peer to another through the
// supernode, and the receiving peer sends datagrams to each one: an address
// the announcing peer cannot own would turn the receiver into a packet
// cannon aimed at its own host (127.0.0.1:22), its LAN's broadcast, a
// multicast group or the cloud metadata service (169.254.169.254).
type CandidateFault uint8

// Candidate faults, in the order CheckCandidate tests them.
const (
	CandidateOK          CandidateFault = iota
	CandidatePortZero                   // port 0 is not a socket anyone listens on
	CandidateUnspecified                // 0.0.0.0, ::
	CandidateLoopback                   // 127.0.0.0/8, ::1: the receiver's own host
	CandidateLinkLocal                  // 169.254.0.0/16 (incl. 169.254.169.254), fe80::/10
	CandidateMulticast                  // 224.0.0.0/4, ff00::/8
	CandidateBroadcast                  // 255.255.255.255
	CandidateReserved                   // 0.0.0.0/8 "this network", 240.0.0.0/4 (RFC 1112 class E)
	NCandidateFaults
)

var candidateFaultNames = [NCandidateFaults]string{
	"ok", "port_zero", "unspecified", "loopback", "link_local", "multicast", "broadcast", "reserved",
}

func (f CandidateFault) String() string { return candidateFaultNames[f] }

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")   // RFC 1122 section 3.2.1.3
	classE      = netip.MustParsePrefix("240.0.0.0/4") // RFC 1112 section 4; includes 255.255.255.255
	broadcast   = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// CheckCandidate tells whether ap is a sensible host candidate for a peer
// seen at (or, on the client, reaching its supernode at) the address seen.
//
// Private addresses (RFC 1918, RFC 6598 shared space, RFC 4193 ULA) are
// allowed on purpose: two peers behind the same NAT reach each other only
// through them (RFC 8445 section 5.1.1.1 gathers them as host candidates),
// and reaching a private address elsewhere needs a route the sender has
// anyway. Loopback is allowed only when seen is loopback itself: the peer
// and the supernode share a host (development, tests), and so does whoever
// is introduced to the peer. Ports are not restricted beyond 0: a peer may
// own any port, and a punch is a STUN Binding indication any receiver may
// discard (RFC 8489 section 6.3.2).
func CheckCandidate(ap netip.AddrPort, seen netip.Addr) CandidateFault {
	a := ap.Addr().Unmap()
	switch {
	case ap.Port() == 0:
		return CandidatePortZero
	case !a.IsValid() || a.IsUnspecified():
		return CandidateUnspecified
	case a.IsLoopback():
		if seen.Unmap().IsLoopback() {
			return CandidateOK
		}
		return CandidateLoopback
	case a.IsLinkLocalUnicast():
		return CandidateLinkLocal
	case a.IsMulticast():
		return CandidateMulticast
	case a == broadcast:
		return CandidateBroadcast
	case a.Is4() && (thisNetwork.Contains(a) || classE.Contains(a)):
		return CandidateReserved
	}
	return CandidateOK
}

// FilterCandidates keeps, in order, the candidates of c that CheckCandidate
// accepts for seen and that are not already listed (an IPv4-mapped IPv6
// form counts as its IPv4 address), and calls rejected (if not nil) for
// each one it drops. It works in place and allocates nothing.
func FilterCandidates(c *Candidates, seen netip.Addr, rejected func(CandidateFault)) {
	n := uint8(0)
	for _, ap := range c.Addr[:c.N] {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if f := CheckCandidate(ap, seen); f != CandidateOK {
			if rejected != nil {
				rejected(f)
			}
			continue
		}
		dup := false
		for _, b := range c.Addr[:n] {
			dup = dup || b == ap
		}
		if !dup {
			c.Addr[n] = ap
			n++
		}
	}
	for i := n; i < c.N; i++ {
		c.Addr[i] = netip.AddrPort{}
	}
	c.N = n
}
