package client

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Peer-reflexive learning (the idea of RFC 8445 section 7.3.1.3): a peer
// behind a NAT that maps per destination reaches us from a port the
// supernode never saw. Punches are therefore connectivity checks:
//
//	probe:  Binding request {PEER-ID (sender), MESSAGE-INTEGRITY-SHA256 (pair key), FINGERPRINT}
//	answer: Binding success {XOR-MAPPED-ADDRESS (the probe's source), MESSAGE-INTEGRITY-SHA256, FINGERPRINT}
//
// The answer echoes the probe's transaction ID and is smaller than the
// probe (76 or 88 bytes against 100), so a replayed probe amplifies nothing.
// A probe that verifies under the pair key of a peer we are punching makes
// its source a *candidate*: we answer it and probe it at once (a triggered
// check). The source is *adopted* (datagrams go there) only when it answers
// one of our own probes, fresh transaction ID, under the pair key, from the
// address we sent it to (RFC 8445 section 7.2.5.2.1): only the introduced
// peer can do that, and an old probe replayed from elsewhere adopts nothing.

const (
	maxPunchPeers  = 64   // peers we hold punch state for (oldest forgotten)
	maxPeerFlx     = 4    // unvalidated peer-reflexive candidates per peer
	maxOutstanding = 2048 // probe transaction IDs remembered, all peers (a prediction spray is 1000)
)

// PunchWindow is how long both sides punch after an introduction: the
// puncher's default -timeout, and how long a listener keeps punching (longer
// while the peer's probes keep arriving).
const PunchWindow = 10 * time.Second

// peerPath is what we learned about the path to one peer.
type peerPath struct {
	id        wire.PeerID
	key       [pairKeySize]byte
	started   time.Time
	sent      int              // probes sent
	heard     []netip.AddrPort // sources of authenticated probes (candidates)
	heardAt   time.Time
	valid     []netip.AddrPort // addresses that answered our probes (adopted)
	seenAs    netip.AddrPort   // our address as the peer saw it (from an answer)
	validated chan struct{}    // closed on the first adoption

	firstProbe time.Time        // port prediction, predict.go
	peerCands  []netip.AddrPort // the peer's candidates, reflexive first
	prediction string           // what prediction tried, for the failure report
}

type probeRef struct {
	peer *peerPath
	to   netip.AddrPort
	conn *net.UDPConn // the socket it left from
}

// punchPaths is the client's punch state; the zero value is ready.
type punchPaths struct {
	mu      sync.Mutex
	peers   map[wire.PeerID]*peerPath
	order   []wire.PeerID
	probes  map[[stun.TransactionIDSize]byte]probeRef
	fifo    [][stun.TransactionIDSize]byte
	dropped int // peer STUN that failed verification

	// via routes a peer address to the prediction socket whose mapping
	// reached it (predict.go); spare are the prediction sockets.
	via    map[netip.AddrPort]*net.UDPConn
	spare  []*net.UDPConn
	closed bool
}

// track returns the punch state for id, creating it (and its pair key).
func (c *Client) track(id wire.PeerID) *peerPath {
	s := &c.paths
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.peers[id]; p != nil {
		return p
	}
	if c.priv == nil {
		return nil
	}
	key, err := PairKey(c.priv, id)
	if err != nil {
		return nil // not a usable key: we punch unauthenticated only
	}
	if s.peers == nil {
		s.peers = map[wire.PeerID]*peerPath{}
		s.probes = map[[stun.TransactionIDSize]byte]probeRef{}
	}
	if len(s.order) == maxPunchPeers {
		delete(s.peers, s.order[0])
		s.order = s.order[1:]
	}
	p := &peerPath{id: id, key: key, started: time.Now(), validated: make(chan struct{})}
	s.peers[id] = p
	s.order = append(s.order, id)
	return p
}

// probe sends one authenticated probe to each candidate and to every
// peer-reflexive candidate not yet adopted, each taking a token from the
// process's punching budget (punch.go), as triggered probes do. Answers to
// verified probes take none: they answer what arrived, with fewer bytes.
func (c *Client) probe(id wire.PeerID, cands []netip.AddrPort) {
	p := c.track(id)
	if p == nil {
		c.Punch(cands)
		return
	}
	c.paths.mu.Lock()
	to := append(slices.Clone(cands), p.heard...)
	c.paths.mu.Unlock()
	seen := map[netip.AddrPort]bool{}
	for _, a := range to {
		if a.IsValid() && !seen[a] && punchBudget.take(time.Now()) {
			seen[a] = true
			c.sendProbe(p, a)
		}
	}
	c.maybePredict(p, cands)
}

func (c *Client) sendProbe(p *peerPath, to netip.AddrPort) {
	c.sendProbeOn(c.route(to), p, to)
}

func (c *Client) sendProbeOn(conn *net.UDPConn, p *peerPath, to netip.AddrPort) {
	tid := stun.NewTransactionID()
	m := stun.New()
	m.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassRequest}, stun.MagicCookie, tid)
	wire.AddPeerID(m, wire.AttrPeerID, c.id)
	m.AddMessageIntegritySHA256(p.key[:])
	m.AddFingerprint()
	s := &c.paths
	s.mu.Lock()
	if len(s.fifo) == maxOutstanding {
		delete(s.probes, s.fifo[0])
		s.fifo = s.fifo[1:]
	}
	s.probes[tid] = probeRef{p, to, conn}
	s.fifo = append(s.fifo, tid)
	p.sent++
	s.mu.Unlock()
	conn.WriteToUDPAddrPort(m.Raw, to)
}

// fromPeer handles a STUN message from an address other than the
// supernode: a peer's probe or the answer to ours. Anything that does not
// verify is dropped and counted.
func (c *Client) fromPeer(m *stun.Message, from netip.AddrPort) { c.fromPeerOn(c.conn, m, from) }

// fromPeerOn is fromPeer for a message that arrived on conn (the client's
// socket or a prediction socket); answers leave from the same socket.
func (c *Client) fromPeerOn(conn *net.UDPConn, m *stun.Message, from netip.AddrPort) {
	if m.Type.Method != stun.MethodBinding || m.CheckFingerprint() != nil {
		return // Binding indications (other clients' punches) and the rest
	}
	s := &c.paths
	switch m.Type.Class {
	case stun.ClassRequest:
		id, err := wire.GetPeerID(m, wire.AttrPeerID)
		if err != nil {
			return
		}
		s.mu.Lock()
		p := s.peers[id]
		s.mu.Unlock()
		if p == nil || m.CheckMessageIntegritySHA256(p.key[:]) != nil {
			s.mu.Lock()
			s.dropped++
			s.mu.Unlock()
			return
		}
		r := stun.New()
		r.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassSuccess}, stun.MagicCookie, m.TransactionID)
		r.AddXORAddress(stun.AttrXORMappedAddress, from)
		r.AddMessageIntegritySHA256(p.key[:])
		r.AddFingerprint()
		conn.WriteToUDPAddrPort(r.Raw, from)
		// A triggered check only for the first few new sources: a probe
		// replayed from many forged sources gets answers (smaller than it)
		// but no more probes.
		s.mu.Lock()
		p.heardAt = time.Now()
		triggered := !slices.Contains(p.valid, from) && !slices.Contains(p.heard, from) && len(p.heard) < maxPeerFlx
		if triggered {
			p.heard = append(p.heard, from)
		}
		s.mu.Unlock()
		if triggered && punchBudget.take(time.Now()) {
			c.sendProbeOn(conn, p, from)
		}
	case stun.ClassSuccess:
		s.mu.Lock()
		ref, ok := s.probes[m.TransactionID]
		s.mu.Unlock()
		if !ok || ref.to != from || ref.conn != conn || m.CheckMessageIntegritySHA256(ref.peer.key[:]) != nil {
			s.mu.Lock()
			s.dropped++
			s.mu.Unlock()
			return
		}
		var seenAs netip.AddrPort
		if v, ok := m.Get(stun.AttrXORMappedAddress); ok {
			seenAs, _ = m.XORAddress(v)
		}
		p := ref.peer
		s.mu.Lock()
		if conn != c.conn {
			s.setVia(from, conn)
		}
		if !slices.Contains(p.valid, from) {
			p.valid = append(p.valid, from)
		}
		if seenAs.IsValid() {
			p.seenAs = unmap(seenAs)
		}
		select {
		case <-p.validated:
		default:
			close(p.validated)
		}
		s.mu.Unlock()
	}
}

// withPeerReflexive returns cands plus the adopted addresses of peer id
// that are not among them: where to send data.
func (c *Client) withPeerReflexive(id wire.PeerID, cands []netip.AddrPort) []netip.AddrPort {
	out := slices.Clone(cands)
	c.paths.mu.Lock()
	defer c.paths.mu.Unlock()
	if p := c.paths.peers[id]; p != nil {
		for _, a := range p.valid {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// PathReport is what the client knows about its path to a peer.
type PathReport struct {
	Sent   int              // probes sent
	Heard  []netip.AddrPort // where authenticated probes came from
	Valid  []netip.AddrPort // addresses that answered our probes
	SeenAs netip.AddrPort   // our address as the peer saw it
	// Prediction says what port prediction tried ("" if it did not run).
	Prediction string
}

// Path reports the punch state for a peer (zero if none).
func (c *Client) Path(id wire.PeerID) PathReport {
	c.paths.mu.Lock()
	defer c.paths.mu.Unlock()
	p := c.paths.peers[id]
	if p == nil {
		return PathReport{}
	}
	return PathReport{Sent: p.sent, Heard: slices.Clone(p.heard), Valid: slices.Clone(p.valid), SeenAs: p.seenAs, Prediction: p.prediction}
}
