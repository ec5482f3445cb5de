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

// MapUDP asks gateway (NAT-PMP) to map UDP port internal of this host,
// preferring external port suggest (0: any), for lifetime (0 deletes the
// mapping). The gateway maps towards the address the request comes from
// (RFC 6886 section 3.3), so any local socket will do.
func MapUDP(ctx context.Context, gateway netip.Addr, internal, suggest uint16, lifetime time.Duration) (*PortMapping, error) {
	return mapUDP(ctx, netip.AddrPortFrom(gateway, NATPMPPort), internal, suggest, lifetime)
}

func mapUDP(ctx context.Context, gw netip.AddrPort, internal, suggest uint16, lifetime time.Duration) (*PortMapping, error) {
	gateway := gw.Addr()
	if !gateway.Is4() {
		return nil, fmt.Errorf("gateway %s: NAT-PMP speaks IPv4 only", gateway)
	}
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(gw))
	if err != nil {
		return nil, fmt.Errorf("no route to the gateway %s: %v", gateway, err)
	}
	defer c.Close()
	// The public address first (opcode 0), then the mapping (opcode 1).
	pub, err := natpmpExchange(ctx, c, []byte{0, 0}, 12)
	if err != nil {
		return nil, err
	}
	req := make([]byte, 12)
	req[1] = 1 // map UDP
	binary.BigEndian.PutUint16(req[4:], internal)
	binary.BigEndian.PutUint16(req[6:], suggest)
	binary.BigEndian.PutUint32(req[8:], uint32(lifetime/time.Second))
	res, err := natpmpExchange(ctx, c, req, 16)
	if err != nil {
		return nil, err
	}
	if got := binary.BigEndian.Uint16(res[8:]); got != internal {
		return nil, fmt.Errorf("the gateway answered for internal port %d, we asked for %d", got, internal)
	}
	m := &PortMapping{
		Gateway:  gateway,
		External: netip.AddrPortFrom(netip.AddrFrom4([4]byte(pub[8:12])), binary.BigEndian.Uint16(res[10:])),
		Internal: internal,
		Lifetime: time.Duration(binary.BigEndian.Uint32(res[12:])) * time.Second,
		Epoch:    binary.BigEndian.Uint32(res[4:]),
	}
	if lifetime > 0 && (m.External.Port() == 0 || !m.External.Addr().IsGlobalUnicast() && !m.External.Addr().IsPrivate()) {
		return nil, fmt.Errorf("the gateway granted an unusable mapping %s", m.External)
	}
	return m, nil
}

// natpmpExchange sends req and waits for its answer (opcode + 128, the
// expected size, result 0), retransmitting after 250 ms, doubling (RFC
// 6886 section 3.1, at most 4 s here). Other datagrams are ignored.
func natpmpExchange(ctx context.Context, c *net.UDPConn, req []byte, size int) ([]byte, error) {
	buf := make([]byte, 64)
	rto := 250 * time.Millisecond
	for try := 0; try < 5; try++ {
		if _, err := c.Write(req); err != nil {
			return nil, fmt.Errorf("NAT-PMP request to %s: %v", c.RemoteAddr(), err)
		}
		deadline := time.Now().Add(rto)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		rto *= 2
		for {
			c.SetReadDeadline(deadline)
			n, err := c.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				// ICMP port unreachable: nothing listens on 5351.
				return nil, fmt.Errorf("the gateway %s does not speak NAT-PMP (%v); enable NAT-PMP/PCP on the router or forward a port by hand", c.RemoteAddr(), err)
			}
			if n < 4 || buf[0] != 0 || buf[1] != req[1]+128 {
				continue // not an answer to this request
			}
			if code := binary.BigEndian.Uint16(buf[2:]); code != 0 {
				return nil, &NATPMPError{Code: code}
			}
			if n != size {
				continue
			}
			return append([]byte(nil), buf[:n]...), nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("no NAT-PMP answer from the gateway %s; enable NAT-PMP/PCP on the router or forward a port by hand", c.RemoteAddr())
}
