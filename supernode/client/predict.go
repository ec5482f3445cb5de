package client

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// Port prediction for the pair that peer-reflexive learning cannot join:
// one side (S) behind a NAT that maps per destination, the other (E)
// behind an endpoint-independent mapping that filters. E's public port is
// known; S's port towards E is not, and E's NAT drops S's datagrams until E
// has sent to that exact port. Birthday paradox: S opens predictSockets
// fresh mappings towards E's reflexive address (one probe from each new
// socket), E probes predictSpray random ports of S's public address. With k
// = 256 and m = 1000 over the 64512 ports a Linux NAT draws from, at least
// one port matches with probability 1 - exp(-k*m/64512), about 98%. A match
// lets E's probe in at S (S's NAT saw S send to E from that port) and S's
// answer in at E (E sent to it). The answer is an ordinary verified probe
// answer, so adoption follows the rules of prflx.go; the socket that
// matched then carries all traffic to E (Client.route).
//
// It starts only after predictAfter of ordinary punching has heard nothing
// from the peer, only when the candidates say exactly one side changes
// ports (guessNAT), at most once per introduction, at most one attempt per
// process every predictEvery, and never towards loopback. It goes only to
// the peer's reflexive address, which the supernode proved with its cookie.
// Cost per attempt: at most 256 + 1000 datagrams, E's paced at 500/s, all
// within 5 s; they bypass the punching bucket (50/s), which would stretch
// the spray to 20 s, and are bounded by predictEvery instead.
const (
	predictAfter    = time.Second
	predictSockets  = 256
	predictSpray    = 1000
	predictPace     = 2 * time.Millisecond   // E: one probe per pace (500/s)
	predictLead     = 300 * time.Millisecond // E starts once S's mappings exist
	predictSprayMax = 3 * time.Second        // E's spray ends by then (lead + 3 s < 5 s from its start)
	predictLinger   = 5 * time.Second        // S closes unmatched sockets after this
	predictLowPort  = 1024                   // Linux NAT picks ports in 1024-65535
)

const predictEvery = 10 * time.Second

var predictLast struct {
	sync.Mutex
	at time.Time
}

// predictSlot reports whether a prediction attempt may start now, and
// claims the slot if so.
func predictSlot(now time.Time) bool {
	predictLast.Lock()
	defer predictLast.Unlock()
	if !predictLast.at.IsZero() && now.Sub(predictLast.at) < predictEvery {
		return false
	}
	predictLast.at = now
	return true
}

// maybePredict starts port prediction towards the peer of p when ordinary
// punching has failed long enough and the candidates (reflexive first)
// suggest it can help.
func (c *Client) maybePredict(p *peerPath, cands []netip.AddrPort) {
	s := &c.paths
	s.mu.Lock()
	if p.firstProbe.IsZero() {
		// The first round carries every candidate (later listener rounds
		// only the reflexive one): the NAT guess needs them all.
		p.firstProbe, p.peerCands = time.Now(), slices.Clone(cands)
	}
	wait := p.prediction != "" || time.Since(p.firstProbe) < predictAfter || len(p.heard) > 0 || len(p.valid) > 0
	if wait || len(p.peerCands) == 0 {
		s.mu.Unlock()
		return
	}
	refl := p.peerCands[0]
	ours, theirs := guessNAT(c.Mapped(), c.hostCandidates()), guessNAT(refl, p.peerCands[1:])
	open := ours.PerDest && !theirs.PerDest && !theirs.NoNAT
	spray := theirs.PerDest && !ours.PerDest
	switch {
	case !open && !spray:
		p.prediction = "port prediction: not tried (it needs exactly one side that changes ports)"
	case refl.Addr().IsLoopback():
		p.prediction = "port prediction: not tried (the peer is on loopback)"
	case !predictSlot(time.Now()):
		p.prediction = "port prediction: not tried (another attempt of this process ran within 10 s)"
	case open:
		p.prediction = fmt.Sprintf("port prediction: opened up to %d new mappings towards %s", predictSockets, refl)
		go c.openMappings(p, refl)
	default:
		p.prediction = fmt.Sprintf("port prediction: probed up to %d random ports of %s", predictSpray, refl.Addr())
		go c.spray(p, refl.Addr())
	}
	s.mu.Unlock()
}

// openMappings is S's side: one probe to target from each of up to
// predictSockets new sockets; a socket whose mapping E hits stays (it
// becomes the route to E), the others close after predictLinger.
func (c *Client) openMappings(p *peerPath, target netip.AddrPort) {
	ip := c.LocalAddr().Addr()
	var conns []*net.UDPConn
	for range predictSockets {
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			break // out of ports or descriptors: predict with what we have
		}
		if !c.addSpare(conn) {
			conn.Close()
			break
		}
		conns = append(conns, conn)
		go c.readSpare(conn)
		c.sendProbeOn(conn, p, target)
	}
	select {
	case <-time.After(predictLinger):
	case <-c.done:
	}
	s := &c.paths
	s.mu.Lock()
	used := map[*net.UDPConn]bool{}
	for _, v := range s.via {
		used[v] = true
	}
	keep := s.spare[:0]
	for _, conn := range s.spare {
		if used[conn] {
			keep = append(keep, conn)
		} else {
			conn.Close()
		}
	}
	s.spare = keep
	s.mu.Unlock()
}

// spray is E's side: probes to random distinct ports of ip, paced, until
// one answers.
func (c *Client) spray(p *peerPath, ip netip.Addr) {
	select {
	case <-time.After(predictLead):
	case <-c.done:
		return
	}
	tried := map[uint16]bool{}
	t := time.NewTicker(predictPace)
	defer t.Stop()
	// On a busy machine the ticker drops ticks; the attempt still ends in
	// time, with fewer probes.
	end := time.Now().Add(predictSprayMax)
	for len(tried) < predictSpray && time.Now().Before(end) {
		port := uint16(predictLowPort + rand.IntN(65536-predictLowPort))
		if tried[port] {
			continue
		}
		tried[port] = true
		c.sendProbe(p, netip.AddrPortFrom(ip, port))
		select {
		case <-p.validated:
			return
		case <-c.done:
			return
		case <-t.C:
		}
	}
}

// readSpare reads a prediction socket: STUN goes to the probe logic, other
// datagrams (the peer's data, once a match made this socket the route) to
// the application, as from the client's own socket.
func (c *Client) readSpare(conn *net.UDPConn) {
	buf := make([]byte, 2048)
	m := stun.New()
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = unmap(from)
		b := append([]byte(nil), buf[:n]...)
		if m.Decode(b) == nil {
			c.fromPeerOn(conn, m, from)
			continue
		}
		select {
		case c.data <- Datagram{From: from, Data: b}:
		default:
		}
	}
}

func (c *Client) addSpare(conn *net.UDPConn) bool {
	s := &c.paths
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.spare = append(s.spare, conn)
	return true
}

// setVia makes conn the socket for datagrams to a (s.mu held).
func (s *punchPaths) setVia(a netip.AddrPort, conn *net.UDPConn) {
	if s.via == nil {
		s.via = map[netip.AddrPort]*net.UDPConn{}
	}
	s.via[a] = conn
}

// route is the socket for datagrams to a: a prediction socket whose
// mapping reached a, else the client's own.
func (c *Client) route(a netip.AddrPort) *net.UDPConn {
	s := &c.paths
	s.mu.Lock()
	defer s.mu.Unlock()
	if conn := s.via[a]; conn != nil {
		return conn
	}
	return c.conn
}

// closeSpare closes the prediction sockets (Client.Close).
func (c *Client) closeSpare() {
	s := &c.paths
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, conn := range s.spare {
		conn.Close()
	}
	s.spare = nil
}
