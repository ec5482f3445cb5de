package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// RFC 5780 NAT behaviour discovery. With alternate_address set, the server
// serves four transport addresses: the primary listen address A1:P1, A1:P2,
// A2:P1 and A2:P2 (P2 = alternate_port). Binding replies from any of them
// carry RESPONSE-ORIGIN (where the reply comes from) and OTHER-ADDRESS (the
// address differing in both IP and port), and a CHANGE-REQUEST is answered
// from the address its flags name (RFC 5780 section 7.3). The three extra
// addresses serve Binding only: peers register, keep alive and look up on
// the primary, whose address their NAT pinholes name.
//
// Size rule (THREAT-MODEL.md, "Binding reflection"): anyone can forge a
// Binding request, and a CHANGE-REQUEST even picks which of our addresses
// answers. So a reply that carries the discovery attributes, and every
// reply from a changed address, is sent only if it is no larger than the
// request; a client pads its request (PADDING, RFC 5780 section 7.6) to
// make room, as `supernode-client nat-type` does. A too small request on
// the same address gets the plain Binding answer (what the XDP fast path
// also sends), a too small CHANGE-REQUEST gets nothing (counted,
// change_too_small). Proof of the source (a cookie, a session) was the
// other option: standard RFC 5780 clients cannot give one, padding they
// can (turnutils_natdiscovery -P).
type discovery struct {
	addr [2][2]netip.AddrPort // [ip][port]; [0][0] is the primary listen address
	conn [2][2]*net.UDPConn
}

// discPos is where a worker's socket sits among the four addresses.
type discPos struct {
	ip, port uint8
	ok       bool // the socket is one of the four
}

// alternate reports whether the socket is one of the three extra addresses.
func (p discPos) alternate() bool { return p.ok && (p.ip|p.port) != 0 }

// setupDiscovery binds the three extra addresses (or takes them from the
// inherited sockets) when alternate_address is set.
func (s *Server) setupDiscovery(have *[]*net.UDPConn) error {
	idx, alt, err := s.cfg.discoveryAddrs()
	if err != nil || idx < 0 {
		return err
	}
	d := &discovery{}
	p1 := s.addrs[idx]
	d.addr[0][0] = p1
	s.pos = map[*net.UDPConn]discPos{}
	for _, c := range s.conns {
		if addrPortOf(c.LocalAddr()) == p1 {
			s.pos[c] = discPos{ok: true}
			if d.conn[0][0] == nil {
				d.conn[0][0] = c
			}
		}
	}
	bind := func(ip, port uint8, ap netip.AddrPort) error {
		conns := takeMatching(have, ap.String())
		if len(conns) == 0 {
			var err error
			if conns, err = listen(context.Background(), ap.String(), 1); err != nil {
				// listen's sentence names the listen key; here the
				// address comes from alternate_address / alternate_port.
				return errors.New(strings.Replace(err.Error(), "(change listen)", "(change alternate_address or alternate_port)", 1))
			}
		}
		s.conns = append(s.conns, conns...)
		for _, c := range conns {
			s.pos[c] = discPos{ip: ip, port: port, ok: true}
		}
		d.conn[ip][port] = conns[0]
		d.addr[ip][port] = addrPortOf(conns[0].LocalAddr())
		return nil
	}
	if err := bind(0, 1, netip.AddrPortFrom(p1.Addr(), uint16(s.cfg.AlternatePort))); err != nil {
		return err
	}
	p2 := d.addr[0][1].Port() // the real port when alternate_port = 0
	if err := bind(1, 0, netip.AddrPortFrom(alt, p1.Port())); err != nil {
		return err
	}
	if err := bind(1, 1, netip.AddrPortFrom(alt, p2)); err != nil {
		return err
	}
	s.disc = d
	return nil
}

// DiscoveryAddrs returns the four RFC 5780 addresses, [ip][port] with
// [0][0] the primary, or ok = false without alternate_address.
func (s *Server) DiscoveryAddrs() (a [2][2]netip.AddrPort, ok bool) {
	if s.disc == nil {
		return a, false
	}
	return s.disc.addr, true
}

// discoveryBinding answers a Binding request that reached one of the four
// addresses: from the address CHANGE-REQUEST names, with RESPONSE-ORIGIN
// and OTHER-ADDRESS (SOURCE-ADDRESS and CHANGED-ADDRESS for an RFC 3489
// client), under the size rule above.
func (w *worker) discoveryBinding(req *stun.Message, src netip.AddrPort, fp bool) result {
	d := w.s.disc
	var changeIP, changePort bool
	if v, ok := req.Get(stun.AttrChangeRequest); ok {
		changeIP, changePort, _ = stun.ParseChangeRequest(v) // checked in handle
	}
	from := w.pos
	if changeIP {
		from.ip ^= 1
	}
	if changePort {
		from.port ^= 1
	}
	changed := changeIP || changePort
	m := w.out()
	w.bindingReply(m, req, src, fp, d.addr[from.ip][from.port], d.addr[w.pos.ip^1][w.pos.port^1])
	if len(m.Raw) > len(req.Raw) {
		if changed {
			w.drop(dropChangeTooSmall, src)
			return rDropped
		}
		w.bindingReply(m, req, src, fp, netip.AddrPort{}, netip.AddrPort{})
	}
	if !changed {
		w.send(src)
		return rOK
	}
	w.sendVia(src, d.conn[from.ip][from.port])
	return rChanged
}
