package client

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Register runs the cookie round trip and the signed registration, and
// derives the session key. It returns our reflexive address.
func (c *Client) Register(ctx context.Context) (netip.AddrPort, error) {
	if c.priv == nil {
		return netip.AddrPort{}, errors.New("register needs a key")
	}
	c.mu.Lock()
	r := wire.Registration{ID: c.id, Local: c.local} // portmapper.go may change c.local
	c.mu.Unlock()
	resp, err := c.transact(ctx, func(m *stun.Message, id [stun.TransactionIDSize]byte) {
		wire.BuildRegister(m, id, nil, &r)
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	cookie, ok := resp.Get(wire.AttrCookie)
	if resp.Type.Class != stun.ClassError || !ok {
		return netip.AddrPort{}, fmt.Errorf("supernode did not send a cookie challenge: %v", errorOf(resp))
	}
	r.Cookie = append([]byte(nil), cookie...)
	var eph *ecdh.PrivateKey
	var tid [stun.TransactionIDSize]byte
	resp, err = c.transact(ctx, func(m *stun.Message, id [stun.TransactionIDSize]byte) {
		eph, _ = ecdh.X25519().GenerateKey(rand.Reader)
		copy(r.Ephemeral[:], eph.PublicKey().Bytes())
		r.Stamp = c.nextStamp()
		tid = id
		wire.BuildRegister(m, id, c.priv, &r)
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	if resp.Type.Class == stun.ClassError {
		return netip.AddrPort{}, errorOf(resp)
	}
	srvEph, ok := resp.Get(wire.AttrEphemeralKey)
	if !ok {
		return netip.AddrPort{}, errors.New("register response has no EPHEMERAL-KEY")
	}
	key, err := wire.SessionKey(eph, srvEph, tid, c.id)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if err := resp.CheckMessageIntegritySHA256(key[:]); err != nil {
		return netip.AddrPort{}, errors.New("register response fails MESSAGE-INTEGRITY-SHA256: not from the supernode we keyed with")
	}
	mapped, lease, err := mappedAndLease(resp)
	if err != nil {
		return netip.AddrPort{}, err
	}
	c.mu.Lock()
	c.session, c.hasKey, c.mapped, c.lease = key, true, mapped, lease
	// A port mapping that arrived while we registered changed the
	// candidates after we read them; its own re-registration saw no
	// session yet, so this one goes again with them.
	stale := c.local != r.Local
	c.mu.Unlock()
	if stale {
		return c.Register(ctx)
	}
	return mapped, nil
}

func mappedAndLease(resp *stun.Message) (netip.AddrPort, time.Duration, error) {
	v, ok := resp.Get(stun.AttrXORMappedAddress)
	if !ok {
		return netip.AddrPort{}, 0, errors.New("response has no XOR-MAPPED-ADDRESS")
	}
	mapped, err := resp.XORAddress(v)
	if err != nil {
		return netip.AddrPort{}, 0, err
	}
	secs, err := wire.GetLease(resp)
	if err != nil {
		return netip.AddrPort{}, 0, errors.New("response has no LEASE")
	}
	return mapped, time.Duration(secs) * time.Second, nil
}

// authenticated sends a keepalive/lookup/leave with the session key and
// checks the response's integrity.
func (c *Client) authenticated(ctx context.Context, method stun.Method, extra func(m *stun.Message)) (*stun.Message, []byte, error) {
	c.mu.Lock()
	key, ok := c.session, c.hasKey
	c.mu.Unlock()
	if !ok {
		return nil, nil, ErrNotRegistered
	}
	resp, err := c.transact(ctx, func(m *stun.Message, id [stun.TransactionIDSize]byte) {
		m.Build(stun.MessageType{Method: method, Class: stun.ClassRequest}, stun.MagicCookie, id)
		wire.AddPeerID(m, wire.AttrPeerID, c.id)
		if extra != nil {
			extra(m)
		}
		wire.AddStamp(m, c.nextStamp())
		m.AddMessageIntegritySHA256(key[:])
		m.AddFingerprint()
	})
	if err != nil {
		return nil, nil, err
	}
	if resp.Type.Class == stun.ClassError {
		e := errorOf(resp)
		if e == ErrNotRegistered {
			c.mu.Lock()
			c.hasKey = false
			c.mu.Unlock()
		}
		return nil, nil, e
	}
	if resp.CheckMessageIntegritySHA256(key[:]) != nil {
		return nil, nil, errors.New("response fails MESSAGE-INTEGRITY-SHA256")
	}
	return resp, key[:], nil
}

// Keepalive refreshes the lease; the answer also tells us our current
// reflexive address. On ErrNotRegistered (lease lost, address changed) the
// caller registers again; KeepAlive does that by itself.
func (c *Client) Keepalive(ctx context.Context) (netip.AddrPort, error) {
	resp, _, err := c.authenticated(ctx, wire.MethodKeepalive, nil)
	if err != nil {
		return netip.AddrPort{}, err
	}
	mapped, lease, err := mappedAndLease(resp)
	if err != nil {
		return netip.AddrPort{}, err
	}
	c.mu.Lock()
	c.mapped, c.lease = mapped, lease
	c.mu.Unlock()
	return mapped, nil
}

// Peer is a lookup result.
type Peer struct {
	ID        wire.PeerID
	Reflexive netip.AddrPort
	Local     []netip.AddrPort
}

// Candidates lists where to punch: reflexive first, then the host addresses.
func (p *Peer) Candidates() []netip.AddrPort {
	return append([]netip.AddrPort{p.Reflexive}, p.Local...)
}

// Lookup asks for a peer; the supernode also introduces us to it. When the
// supernode has forgotten us (472: it restarted, or we moved) Lookup
// registers again once and repeats the question. A 504 comes back as an
// *UnavailableError with the supernode's retry hint.
func (c *Client) Lookup(ctx context.Context, target wire.PeerID) (*Peer, error) {
	lookup := func() (*stun.Message, error) {
		resp, _, err := c.authenticated(ctx, wire.MethodLookup, func(m *stun.Message) {
			wire.AddPeerID(m, wire.AttrTargetID, target)
		})
		return resp, err
	}
	resp, err := lookup()
	if errors.Is(err, ErrNotRegistered) && c.priv != nil {
		if _, err = c.Register(ctx); err == nil {
			resp, err = lookup()
		}
	}
	if err != nil {
		return nil, err
	}
	p := &Peer{ID: target}
	v, ok := resp.Get(wire.AttrXORPeerAddress)
	if !ok {
		return nil, errors.New("lookup response has no XOR-PEER-ADDRESS")
	}
	if p.Reflexive, err = resp.XORAddress(v); err != nil {
		return nil, err
	}
	var cands wire.Candidates
	if err := wire.GetCandidates(resp, &cands); err != nil {
		return nil, err
	}
	p.Local = append([]netip.AddrPort(nil), cands.Slice()...)
	return p, nil
}

// Leave unregisters.
func (c *Client) Leave(ctx context.Context) error {
	_, _, err := c.authenticated(ctx, wire.MethodLeave, nil)
	c.mu.Lock()
	c.hasKey = false
	c.mu.Unlock()
	return err
}

// KeepAlive sends a keepalive every third of the lease until ctx ends,
// re-registering when the supernode has forgotten us. Errors go to onErr.
func (c *Client) KeepAlive(ctx context.Context, onErr func(error)) {
	for {
		wait := c.Lease() / 3
		if wait <= 0 {
			wait = 5 * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		tctx, cancel := context.WithTimeout(ctx, wait)
		_, err := c.Keepalive(tctx)
		if err == ErrNotRegistered {
			_, err = c.Register(tctx)
		}
		cancel()
		if err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
	}
}
