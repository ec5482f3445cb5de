// Package client speaks the supernode protocol: STUN Binding, register (with
// the cookie round trip and signature), keepalive, lookup, leave, and it
// receives introductions and peer datagrams on the same socket, so the NAT
// mapping the supernode observed is the one peers punch towards.
package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Errors callers test for.
var (
	ErrTimeout       = errors.New("no answer from the supernode")
	ErrNotFound      = errors.New("peer not found")
	ErrFull          = errors.New("supernode directory is full")
	ErrNotRegistered = errors.New("not registered with the supernode")
	// ErrOwnersUnavailable: the fleet members that hold the target's
	// registration are unreachable right now (504); unlike ErrNotFound it
	// says nothing about whether the peer is online. The error is an
	// *UnavailableError carrying the supernode's retry hint.
	ErrOwnersUnavailable = errors.New("the supernodes that know this peer are unavailable")
)

// UnavailableError is a 504 Owners Unavailable answer; errors.Is(err,
// ErrOwnersUnavailable) holds. Ask again after RetryAfter.
type UnavailableError struct{ RetryAfter time.Duration }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%v; retry after %s", ErrOwnersUnavailable, e.RetryAfter)
}

func (e *UnavailableError) Is(target error) bool { return target == ErrOwnersUnavailable }

// ErrorResponse is any other STUN error answer.
type ErrorResponse struct {
	Code   int
	Reason string
}

func (e *ErrorResponse) Error() string {
	return fmt.Sprintf("supernode answered %d %s", e.Code, e.Reason)
}

// Introduction is a peer the supernode introduced us to (someone looked us up).
type Introduction struct {
	Peer      wire.PeerID
	Reflexive netip.AddrPort
	Local     []netip.AddrPort
}

// Datagram is anything received from an address other than the supernode
// that is not a STUN message: peer traffic after a successful punch.
type Datagram struct {
	From netip.AddrPort
	Data []byte
}

// Client is one peer's session with one supernode over one UDP socket.
type Client struct {
	conn   *net.UDPConn
	server netip.AddrPort
	priv   ed25519.PrivateKey
	id     wire.PeerID
	local  wire.Candidates

	mu      sync.Mutex
	pending map[[stun.TransactionIDSize]byte]chan []byte
	session [wire.SessionKeySize]byte
	hasKey  bool
	mapped  netip.AddrPort
	lease   time.Duration
	stamp   uint64

	intro chan Introduction
	data  chan Datagram
	done  chan struct{}

	paths punchPaths  // peer-reflexive learning, prflx.go
	pm    *portMapper // port mapping as a candidate, portmapper.go
}

// New starts a client on conn (which it then owns) for the supernode at
// server. priv may be nil for Binding-only use. local lists the host
// candidates to announce; nil means "discover from the socket and the
// interfaces".
func New(conn *net.UDPConn, server netip.AddrPort, priv ed25519.PrivateKey, local []netip.AddrPort) *Client {
	c := &Client{
		conn: conn, server: unmap(server), priv: priv,
		pending: map[[stun.TransactionIDSize]byte]chan []byte{},
		intro:   make(chan Introduction, 16), data: make(chan Datagram, 64), done: make(chan struct{}),
	}
	if priv != nil {
		c.id = wire.PeerID(priv.Public().(ed25519.PublicKey))
	}
	if local == nil {
		local = Candidates(conn)
	}
	for _, a := range local {
		if int(c.local.N) < wire.MaxCandidates {
			c.local.Addr[c.local.N] = a
			c.local.N++
		}
	}
	go c.read()
	return c
}

// Dial opens a UDP socket bound to bind ("" = any) and starts a client.
func Dial(server string, bind string, priv ed25519.PrivateKey) (*Client, error) {
	srv, err := ResolveServer(server)
	if err != nil {
		return nil, err
	}
	var laddr *net.UDPAddr
	if bind != "" {
		ap, err := netip.ParseAddrPort(bind)
		if a, aerr := netip.ParseAddr(bind); err != nil && aerr == nil {
			ap, err = netip.AddrPortFrom(a, 0), nil // a bare IP: any port
		}
		if err != nil {
			return nil, fmt.Errorf("-bind %q is not IP or IP:PORT (for example 10.0.0.2:40000, or [fd00::2]:0 for any port)", bind)
		}
		laddr = net.UDPAddrFromAddrPort(ap)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("cannot open a UDP socket on %q: %v", bind, err)
	}
	return New(conn, srv, priv, nil), nil
}

// ResolveServer turns HOST:PORT into an address (one DNS lookup if needed).
func ResolveServer(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	ua, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("supernode address %q is not HOST:PORT or does not resolve: %v", s, err)
	}
	return unmap(ua.AddrPort()), nil
}

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

// ID is our public key.
func (c *Client) ID() wire.PeerID { return c.id }

// LocalAddr is the socket's address.
func (c *Client) LocalAddr() netip.AddrPort {
	return unmap(c.conn.LocalAddr().(*net.UDPAddr).AddrPort())
}

// Server is the supernode's address.
func (c *Client) Server() netip.AddrPort { return c.server }

// Mapped is our reflexive address as the supernode last saw it.
func (c *Client) Mapped() netip.AddrPort { c.mu.Lock(); defer c.mu.Unlock(); return c.mapped }

// Lease is the lease the supernode granted.
func (c *Client) Lease() time.Duration { c.mu.Lock(); defer c.mu.Unlock(); return c.lease }

// Introductions delivers verified introduce indications.
func (c *Client) Introductions() <-chan Introduction { return c.intro }

// Datagrams delivers non-STUN datagrams from addresses other than the supernode.
func (c *Client) Datagrams() <-chan Datagram { return c.data }

// Send writes a raw datagram (peer traffic or a punch).
func (c *Client) Send(to netip.AddrPort, b []byte) error {
	_, err := c.route(to).WriteToUDPAddrPort(b, to) // route: predict.go
	return err
}

// Close stops the client and closes its socket.
func (c *Client) Close() error {
	c.stopPortMap() // portmapper.go: deletes the mapping
	c.closeSpare()  // predict.go
	err := c.conn.Close()
	<-c.done
	return err
}

// nextStamp returns a strictly increasing TIMESTAMP (unix ms, or last+1).
func (c *Client) nextStamp() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := uint64(time.Now().UnixMilli())
	if s <= c.stamp {
		s = c.stamp + 1
	}
	c.stamp = s
	return s
}

func (c *Client) read() {
	defer close(c.done)
	buf := make([]byte, 2048)
	m := stun.New()
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP-induced errors on UDP are per datagram
		}
		from = unmap(from)
		b := append([]byte(nil), buf[:n]...)
		if m.Decode(b) == nil {
			if from == c.server {
				c.fromServer(m, b)
			} else {
				c.fromPeer(m, from) // authenticated probes, prflx.go
			}
			continue
		}
		if from == c.server {
			continue
		}
		select {
		case c.data <- Datagram{From: from, Data: b}:
		default: // the application is not keeping up; UDP may drop
		}
	}
}

func (c *Client) fromServer(m *stun.Message, b []byte) {
	if m.Type.Class == stun.ClassIndication && m.Type.Method == wire.MethodIntroduce {
		c.introduction(m)
		return
	}
	if m.Type.Class != stun.ClassSuccess && m.Type.Class != stun.ClassError {
		return
	}
	c.mu.Lock()
	ch := c.pending[m.TransactionID]
	delete(c.pending, m.TransactionID)
	c.mu.Unlock()
	if ch != nil {
		ch <- b
	}
}

func (c *Client) introduction(m *stun.Message) {
	c.mu.Lock()
	key, ok := c.session, c.hasKey
	c.mu.Unlock()
	if !ok || m.CheckFingerprint() != nil || m.CheckMessageIntegritySHA256(key[:]) != nil {
		return
	}
	var in Introduction
	var err error
	if in.Peer, err = wire.GetPeerID(m, wire.AttrPeerID); err != nil {
		return
	}
	v, ok := m.Get(wire.AttrXORPeerAddress)
	if !ok {
		return
	}
	if in.Reflexive, err = m.XORAddress(v); err != nil {
		return
	}
	var cands wire.Candidates
	if wire.GetCandidates(m, &cands) != nil {
		return
	}
	in.Local = append([]netip.AddrPort(nil), cands.Slice()...)
	select {
	case c.intro <- in:
	default:
	}
}

// transact sends the request that build writes (a fresh message per
// attempt, so retransmissions carry fresh TIMESTAMPs and are not replays)
// and waits for the matching response, retransmitting with doubling
// intervals from 250 ms (RFC 8489 section 6.2.1 uses 500 ms; a rendezvous
// is latency-sensitive) until ctx ends.
func (c *Client) transact(ctx context.Context, build func(m *stun.Message, id [stun.TransactionIDSize]byte)) (*stun.Message, error) {
	m := stun.New()
	rto := 250 * time.Millisecond
	for {
		id := stun.NewTransactionID()
		ch := make(chan []byte, 1)
		c.mu.Lock()
		c.pending[id] = ch
		c.mu.Unlock()
		build(m, id)
		_, err := c.conn.WriteToUDPAddrPort(m.Raw, c.server)
		t := time.NewTimer(rto)
		select {
		case b := <-ch:
			t.Stop()
			resp := stun.New()
			if err := resp.Decode(b); err != nil {
				return nil, err
			}
			return resp, nil
		case <-t.C:
			c.forget(id)
			if err != nil {
				return nil, fmt.Errorf("cannot send to %s: %v", c.server, err)
			}
			rto = min(2*rto, 2*time.Second)
		case <-ctx.Done():
			t.Stop()
			c.forget(id)
			return nil, ErrTimeout
		case <-c.done:
			t.Stop()
			return nil, net.ErrClosed
		}
	}
}

func (c *Client) forget(id [stun.TransactionIDSize]byte) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// errorOf converts an error response into an error value.
func errorOf(m *stun.Message) error {
	v, _ := m.Get(stun.AttrErrorCode)
	code, reason, err := stun.ParseErrorCode(v)
	if err != nil {
		return &ErrorResponse{Code: 0, Reason: "malformed ERROR-CODE"}
	}
	switch code {
	case wire.CodeNotFound:
		return ErrNotFound
	case wire.CodeDirectoryFull:
		return ErrFull
	case wire.CodeNotRegistered:
		return ErrNotRegistered
	case wire.CodeOwnersUnavailable:
		ms, err := wire.GetRetryAfter(m)
		if err != nil {
			ms = 1000
		}
		return &UnavailableError{RetryAfter: time.Duration(ms) * time.Millisecond}
	}
	return &ErrorResponse{Code: code, Reason: string(reason)}
}
