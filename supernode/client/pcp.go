package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// PCP (RFC 6887), NAT-PMP's successor on the same port: a MAP request
// names the client's own address and carries a 96-bit nonce the answer
// must echo, so an off-path forger that cannot see the request cannot
// answer it. A gateway that speaks only NAT-PMP answers a PCP request with
// a NAT-PMP "unsupported version" (RFC 6887 section 9); the client then
// asks by NAT-PMP.

const (
	pcpVersion   = 2
	pcpOpMap     = 1
	pcpHeader    = 24
	pcpMapSize   = pcpHeader + 36 // header + MAP opcode data
	pcpUDP       = 17
	pcpMaxAnswer = 1100 // RFC 6887 section 7
)

// PCPError is a non-zero PCP result code (RFC 6887 section 7.4).
type PCPError struct{ Code byte }

func (e *PCPError) Error() string {
	why := map[byte]string{
		1: "unsupported version", 2: "not authorized (the router has PCP mapping switched off for us)",
		3: "malformed request", 4: "unsupported opcode", 5: "unsupported option", 6: "malformed option",
		7: "network failure (the router has no public address)", 8: "no resources", 9: "unsupported protocol",
		10: "user exceeded quota", 11: "cannot provide the external port", 12: "address mismatch (a NAT between us and the router)",
		13: "excessive remote peers",
	}[e.Code]
	if why == "" {
		why = "unknown result"
	}
	return fmt.Sprintf("the gateway refused the port mapping: PCP result %d, %s", e.Code, why)
}

// errPCPUnsupported: the gateway answered the PCP request the NAT-PMP way
// (version 0, unsupported version) or with PCP result 1.
var errPCPUnsupported = errors.New("the gateway does not speak PCP")

// errNoPCPAnswer: no PCP answer at all (an old NAT-PMP gateway may ignore
// version 2); NAT-PMP is asked next.
var errNoPCPAnswer = errors.New("no PCP answer from the gateway")

// pcpNonce is a MAP nonce; renewals and the delete reuse the mapping's.
type pcpNonce [12]byte

func newPCPNonce() pcpNonce {
	var n pcpNonce
	rand.Read(n[:])
	return n
}

// pcpMapUDP asks gw (PCP MAP, RFC 6887 section 11) to map UDP port internal
// of the address this host reaches the gateway from, suggesting external
// port suggest, for lifetime (0 deletes). Answers are checked like
// NAT-PMP's (gatewayExchange) and must echo nonce, the protocol and the
// internal port; the rest are counted in drops.
func pcpMapUDP(ctx context.Context, gw netip.AddrPort, internal, suggest uint16, lifetime time.Duration, nonce pcpNonce, minEpoch uint32, drops *PortMapDrops) (*PortMapping, error) {
	if !gw.Addr().Is4() {
		return nil, fmt.Errorf("gateway %s: IPv4 only here", gw.Addr())
	}
	// PCP names the client's address in the request: the one the route to
	// the gateway uses (a connected socket shows it; nothing is sent).
	probe, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(gw))
	if err != nil {
		return nil, fmt.Errorf("no route to the gateway %s: %v", gw.Addr(), err)
	}
	self := probe.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	probe.Close()
	c, err := listenRecvErr(self)
	if err != nil {
		return nil, fmt.Errorf("no socket for PCP: %v", err)
	}
	defer c.Close()

	req := make([]byte, pcpMapSize)
	req[0], req[1] = pcpVersion, pcpOpMap
	binary.BigEndian.PutUint32(req[4:], uint32(lifetime/time.Second))
	a16 := netip.AddrFrom16(self.As16()).As16() // IPv4-mapped
	copy(req[8:24], a16[:])
	copy(req[24:36], nonce[:])
	req[36] = pcpUDP
	binary.BigEndian.PutUint16(req[40:], internal)
	binary.BigEndian.PutUint16(req[42:], suggest)
	any4 := netip.AddrFrom16(netip.IPv4Unspecified().As16()).As16() // ::ffff:0.0.0.0, "any IPv4 address"
	copy(req[44:60], any4[:])

	b, err := gatewayExchange(ctx, c, gw, req, make([]byte, pcpMaxAnswer+1), "PCP", "PCP or NAT-PMP", drops, func(b []byte) (bool, error) {
		n := len(b)
		// A NAT-PMP gateway: version 0, opcode 128 + our opcode, result 1.
		if n >= 4 && b[0] == 0 && b[1] == 128+pcpOpMap && binary.BigEndian.Uint16(b[2:]) == 1 {
			return false, errPCPUnsupported
		}
		if n < pcpHeader || n > pcpMaxAnswer || n%4 != 0 || b[0] != pcpVersion {
			drops.Malformed++
			return false, nil
		}
		if b[1] != 0x80|pcpOpMap {
			drops.Opcode++
			return false, nil
		}
		if b[3] == 1 { // UNSUPP_VERSION comes without the opcode's data
			return false, errPCPUnsupported
		}
		if n < pcpMapSize || [12]byte(b[24:36]) != nonce || b[36] != pcpUDP || binary.BigEndian.Uint16(b[40:]) != internal {
			drops.Mapping++ // not the answer to this request (another nonce: an off-path guess)
			return false, nil
		}
		if code := b[3]; code != 0 {
			return false, &PCPError{Code: code}
		}
		if binary.BigEndian.Uint32(b[8:]) < minEpoch {
			drops.Epoch++
			return false, nil
		}
		ext := netip.AddrFrom16([16]byte(b[44:60])).Unmap()
		if lifetime > 0 && (!ext.Is4() || binary.BigEndian.Uint16(b[42:]) == 0 || !ext.IsGlobalUnicast() && !ext.IsPrivate()) {
			drops.Mapping++
			return false, nil
		}
		return true, nil
	})
	if errors.Is(err, errGatewaySilent) {
		return nil, fmt.Errorf("%w %s", errNoPCPAnswer, gw)
	}
	if err != nil {
		return nil, err
	}
	return &PortMapping{
		Gateway:  gw.Addr(),
		External: netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[44:60])).Unmap(), binary.BigEndian.Uint16(b[42:])),
		Internal: internal,
		Lifetime: time.Duration(binary.BigEndian.Uint32(b[4:])) * time.Second,
		Epoch:    binary.BigEndian.Uint32(b[8:]), Protocol: "pcp",
	}, nil
}
