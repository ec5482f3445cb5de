package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

// NAT-PMP (RFC 6886): ask the home router for a UDP port mapping, so peers
// can reach us behind a filtering NAT without punching. PCP (RFC 6887)
// servers answer NAT-PMP requests too (RFC 6887 section 9).

// NATPMPPort is the gateway's NAT-PMP port (RFC 6886 section 3.1).
const NATPMPPort = 5351

// PortMapping is a mapping the gateway granted.
type PortMapping struct {
	Gateway  netip.Addr     `json:"gateway"`
	External netip.AddrPort `json:"external"` // the public address and port
	Internal uint16         `json:"internal_port"`
	Lifetime time.Duration  `json:"lifetime"` // 0 after a delete
	Epoch    uint32         `json:"epoch"`    // the gateway's seconds since its mappings were reset
	Protocol string         `json:"protocol"` // "pcp" (RFC 6887) or "nat-pmp" (RFC 6886)
}

// NATPMPError is a non-zero result code (RFC 6886 section 3.5).
type NATPMPError struct{ Code uint16 }

func (e *NATPMPError) Error() string {
	why := map[uint16]string{
		1: "unsupported version", 2: "not authorized or refused (the router has NAT-PMP port mapping switched off for us)",
		3: "network failure (the router has no public address)", 4: "out of resources (the router has no free port or mapping)",
		5: "unsupported opcode",
	}[e.Code]
	if why == "" {
		why = "unknown result"
	}
	return fmt.Sprintf("the gateway refused the port mapping: NAT-PMP result %d, %s", e.Code, why)
}

// ErrNoGateway: no default IPv4 route to ask.
var ErrNoGateway = errors.New("no IPv4 default gateway found in /proc/net/route; give the router's address with -gateway")

// DefaultGateway reads the IPv4 default route's gateway from
// /proc/net/route.
func DefaultGateway() (netip.Addr, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return netip.Addr{}, ErrNoGateway
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fl := strings.Fields(s.Text())
		// Iface Destination Gateway Flags ...; hex, little-endian
		if len(fl) < 4 || fl[1] != "00000000" || fl[2] == "00000000" {
			continue
		}
		var v uint32
		if _, err := fmt.Sscanf(fl[2], "%08X", &v); err != nil {
			continue
		}
		var g [4]byte
		binary.LittleEndian.PutUint32(g[:], v)
		return netip.AddrFrom4(g), nil
	}
	return netip.Addr{}, ErrNoGateway
}

// PortMapDrops counts datagrams the port-mapping client read and threw
// away: nothing in them is ever used as a candidate.
type PortMapDrops struct {
	Source    int `json:"source"`    // not from the gateway's address and port 5351
	Malformed int `json:"malformed"` // too short, wrong size, another version
	Opcode    int `json:"opcode"`    // not an answer to the request in flight
	Epoch     int `json:"epoch"`     // an epoch earlier than one the gateway already told us
	Mapping   int `json:"mapping"`   // another internal port, or an unusable external address
}

// Total is the number of datagrams dropped.
func (d PortMapDrops) Total() int { return d.Source + d.Malformed + d.Opcode + d.Epoch + d.Mapping }

// MapUDP asks gateway (NAT-PMP) to map UDP port internal of this host,
// preferring external port suggest (0: any), for lifetime (0 deletes the
// mapping). The gateway maps towards the address the request comes from
// (RFC 6886 section 3.3), so any local socket will do.
func MapUDP(ctx context.Context, gateway netip.Addr, internal, suggest uint16, lifetime time.Duration) (*PortMapping, error) {
	return mapUDP(ctx, netip.AddrPortFrom(gateway, NATPMPPort), internal, suggest, lifetime)
}

func mapUDP(ctx context.Context, gw netip.AddrPort, internal, suggest uint16, lifetime time.Duration) (*PortMapping, error) {
	var d PortMapDrops
	return mapUDPChecked(ctx, gw, internal, suggest, lifetime, 0, &d)
}

// mapUDPChecked is mapUDP that drops answers with an epoch below minEpoch
// (a renewal passes what the last answer's epoch must have grown to, RFC
// 6886 section 3.6) and counts every dropped datagram in drops.
func mapUDPChecked(ctx context.Context, gw netip.AddrPort, internal, suggest uint16, lifetime time.Duration, minEpoch uint32, drops *PortMapDrops) (*PortMapping, error) {
	gateway := gw.Addr()
	if !gateway.Is4() {
		return nil, fmt.Errorf("gateway %s: NAT-PMP speaks IPv4 only", gateway)
	}
	c, err := listenRecvErr(netip.IPv4Unspecified())
	if err != nil {
		return nil, fmt.Errorf("no socket for NAT-PMP: %v", err)
	}
	defer c.Close()
	// The public address first (opcode 0), then the mapping (opcode 1).
	// The mapping's epoch may not be earlier than the address answer's:
	// the gateway's clock only runs forwards between the two.
	pub, err := natpmpExchange(ctx, c, gw, []byte{0, 0}, 12, minEpoch, nil, drops)
	if err != nil {
		return nil, err
	}
	ext := netip.AddrFrom4([4]byte(pub[8:12]))
	req := make([]byte, 12)
	req[1] = 1 // map UDP
	binary.BigEndian.PutUint16(req[4:], internal)
	binary.BigEndian.PutUint16(req[6:], suggest)
	binary.BigEndian.PutUint32(req[8:], uint32(lifetime/time.Second))
	check := func(res []byte) bool {
		if binary.BigEndian.Uint16(res[8:]) != internal {
			return false // an answer for another internal port
		}
		return lifetime == 0 || binary.BigEndian.Uint16(res[10:]) != 0 && (ext.IsGlobalUnicast() || ext.IsPrivate())
	}
	res, err := natpmpExchange(ctx, c, gw, req, 16, binary.BigEndian.Uint32(pub[4:]), check, drops)
	if err != nil {
		return nil, err
	}
	return &PortMapping{
		Gateway:  gateway,
		External: netip.AddrPortFrom(ext, binary.BigEndian.Uint16(res[10:])),
		Internal: internal,
		Lifetime: time.Duration(binary.BigEndian.Uint32(res[12:])) * time.Second,
		Epoch:    binary.BigEndian.Uint32(res[4:]),
		Protocol: "nat-pmp",
	}, nil
}

// listenRecvErr opens an unconnected IPv4 UDP socket that still reports
// ICMP errors (IP_RECVERR): it sees datagrams from any source, so the ones
// not from the gateway can be counted, and a gateway without NAT-PMP
// (port unreachable) fails the request at once instead of after the
// retransmissions.
func listenRecvErr(local netip.Addr) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", netip.AddrPortFrom(local, 0).String())
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// natpmpExchange sends req to gw and waits for its answer: from gw, version
// 0, opcode + 128, result 0, the expected size, an epoch of at least
// minEpoch and, if check is not nil, a body check accepts. Every other
// datagram is dropped and counted in drops.
func natpmpExchange(ctx context.Context, c *net.UDPConn, gw netip.AddrPort, req []byte, size int, minEpoch uint32, check func([]byte) bool, drops *PortMapDrops) ([]byte, error) {
	b, err := gatewayExchange(ctx, c, gw, req, make([]byte, 1500), "NAT-PMP", "NAT-PMP", drops, func(b []byte) (bool, error) {
		switch {
		case len(b) < 4 || b[0] != 0:
			drops.Malformed++
			return false, nil
		case b[1] != req[1]+128:
			drops.Opcode++
			return false, nil
		}
		if code := binary.BigEndian.Uint16(b[2:]); code != 0 {
			return false, &NATPMPError{Code: code}
		}
		switch {
		case len(b) != size:
			drops.Malformed++
		case binary.BigEndian.Uint32(b[4:]) < minEpoch:
			drops.Epoch++
		case check != nil && !check(b):
			drops.Mapping++
		default:
			return true, nil
		}
		return false, nil
	})
	if errors.Is(err, errGatewaySilent) {
		return nil, fmt.Errorf("no NAT-PMP answer from the gateway %s; enable NAT-PMP/PCP on the router or forward a port by hand", gw)
	}
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// errGatewaySilent: the gateway did not answer any retransmission.
var errGatewaySilent = errors.New("no answer from the gateway")

// gatewayExchange is the request/answer loop NAT-PMP and PCP share: it
// sends req to gw, retransmitting after 250 ms and doubling (RFC 6886
// section 3.1, RFC 6887 section 8.1.1; five tries, at most 4 s here), and
// reads answers into buf. A datagram from any other source is counted in
// drops.Source; judge sees the rest and ends the exchange (done: b is the
// answer; an error: give up) or drops b, counting why itself. proto names
// the protocol when a send fails, speaks what a gateway that refuses with
// ICMP port unreachable (nothing listens on 5351) does not speak; silence
// is errGatewaySilent.
func gatewayExchange(ctx context.Context, c *net.UDPConn, gw netip.AddrPort, req, buf []byte, proto, speaks string, drops *PortMapDrops, judge func(b []byte) (done bool, err error)) ([]byte, error) {
	rto := 250 * time.Millisecond
	for try := 0; try < 5; try++ {
		if _, err := c.WriteToUDPAddrPort(req, gw); err != nil {
			return nil, fmt.Errorf("%s request to %s: %v", proto, gw, err)
		}
		deadline := time.Now().Add(rto)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		rto *= 2
		for {
			c.SetReadDeadline(deadline)
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return nil, fmt.Errorf("the gateway %s does not speak %s (%v); enable NAT-PMP/PCP on the router or forward a port by hand", gw, speaks, err)
			}
			if unmap(from) != gw {
				drops.Source++
				continue
			}
			done, err := judge(buf[:n])
			if err != nil {
				return nil, err
			}
			if done {
				return buf[:n], nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, errGatewaySilent
}
