package client

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Port mapping as a candidate. A client whose gateway speaks NAT-PMP asks
// it to map the client's own UDP port and announces the public address
// and port it got as one more candidate, first in the list, through the
// registration the supernode passes on in introductions and lookups. A
// peer reaches that address without any hole punching, whatever the NAT
// does to our outgoing datagrams: this is what joins two peers that both
// map per destination (c-c in the NAT lab), which no punching can.
//
// The candidate is like every other one: the peer probes it with
// authenticated probes (prflx.go) and only an answer under the pair key
// adopts it. What the gateway says is checked and counted (PortMapDrops);
// nothing else becomes a candidate.

// PCP (RFC 6887) is asked first, NAT-PMP (RFC 6886) if the gateway does
// not speak PCP.

// PortMapLifetime is the lifetime asked for (RFC 6886 section 3.3
// recommends 7200 s); the mapping is renewed at half of what was granted.
const PortMapLifetime = 2 * time.Hour

// PortMapWait is how long registration waits for the gateway's first
// answer. A gateway without NAT-PMP usually answers with an ICMP port
// unreachable at once; a silent one costs this much, and if it answers
// later (the request is retransmitted for about 8 s) the client registers
// again with the candidate.
const PortMapWait = 250 * time.Millisecond

// portMapper keeps one mapping for the client's socket alive.
type portMapper struct {
	gw       netip.AddrPort
	internal uint16
	nonce    pcpNonce // PCP: renewals and the delete reuse it
	natpmp   bool     // the gateway answered PCP with "unsupported version"

	mu     sync.Mutex
	m      *PortMapping
	got    time.Time // when m was granted
	drops  PortMapDrops
	err    error // the last failure
	first  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// PortMapStatus is what the port mapper knows.
type PortMapStatus struct {
	Mapping *PortMapping // nil: no mapping (yet)
	Err     error        // the last failure, if any
	Dropped PortMapDrops
}

// MapPort asks gateway (PCP, else NAT-PMP; port 5351) to map the client's UDP port,
// keeps the mapping renewed until Close (which deletes it) and announces
// its public address as a candidate in every registration from then on.
// It waits at most wait for the first answer; a later answer still
// becomes a candidate (the client registers again if it is registered).
// Call it before Register. It returns the mapping or why there is none
// yet; a client whose supernode is reached over IPv6 does not map (NAT-PMP
// maps IPv4, and IPv6 is not translated).
func (c *Client) MapPort(gateway netip.Addr, wait time.Duration) (*PortMapping, error) {
	return c.mapPortAt(netip.AddrPortFrom(gateway, NATPMPPort), wait)
}

func (c *Client) mapPortAt(gw netip.AddrPort, wait time.Duration) (*PortMapping, error) {
	if !c.server.Addr().Is4() {
		return nil, ErrNoPortMapV6
	}
	c.mu.Lock()
	if c.pm != nil {
		c.mu.Unlock()
		return nil, errPortMapRunning
	}
	ctx, cancel := context.WithCancel(context.Background())
	pm := &portMapper{gw: gw, internal: c.LocalAddr().Port(), nonce: newPCPNonce(), first: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	c.pm = pm
	c.mu.Unlock()
	go c.keepMapping(ctx, pm)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-pm.first:
	case <-t.C:
		return nil, errPortMapPending
	}
	s := c.PortMap()
	if s.Mapping == nil {
		return nil, s.Err
	}
	return s.Mapping, nil
}

type portMapError string

func (e portMapError) Error() string { return string(e) }

const (
	// ErrNoPortMapV6: the supernode is reached over IPv6, which is not
	// translated; NAT-PMP maps IPv4 only.
	ErrNoPortMapV6    = portMapError("no port mapping over IPv6: NAT-PMP maps IPv4, and IPv6 is not translated")
	errPortMapRunning = portMapError("the client already maps its port")
	errPortMapPending = portMapError("the gateway has not answered yet; a later answer still becomes a candidate")
)

// PortMap reports the port mapper's state (zero without MapPort).
func (c *Client) PortMap() PortMapStatus {
	c.mu.Lock()
	pm := c.pm
	c.mu.Unlock()
	if pm == nil {
		return PortMapStatus{}
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	s := PortMapStatus{Err: pm.err, Dropped: pm.drops}
	if pm.m != nil {
		m := *pm.m
		s.Mapping = &m
	}
	return s
}

// keepMapping obtains the mapping, renews it at half its lifetime (asking
// for the same public port, and dropping answers whose epoch shows less
// time passed than really did), and deletes it when ctx ends. A renewal
// that fails is retried a few times before the mapping expires; a mapping
// that expires stops being a candidate.
func (c *Client) keepMapping(ctx context.Context, pm *portMapper) {
	defer close(pm.done)
	firstDone, failures := false, 0
	signal := func() {
		if !firstDone {
			firstDone = true
			close(pm.first)
		}
	}
	defer signal()
	for {
		pm.mu.Lock()
		prev, got := pm.m, pm.got
		pm.mu.Unlock()
		suggest, minEpoch := pm.internal, uint32(0)
		if prev != nil {
			suggest = prev.External.Port()
			// RFC 6886 section 3.6: the epoch must have grown by at least
			// 7/8 of the time that passed, less 2 s.
			if el := uint32(time.Since(got) * 7 / 8 / time.Second); prev.Epoch+el > 2 {
				minEpoch = prev.Epoch + el - 2
			}
		}
		var drops PortMapDrops
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		m, err := pm.mapOnce(tctx, suggest, PortMapLifetime, minEpoch, &drops)
		cancel()
		if ctx.Err() != nil {
			break
		}
		now := time.Now()
		pm.mu.Lock()
		addDrops(&pm.drops, drops)
		pm.err = err
		expired := pm.m != nil && now.After(pm.got.Add(pm.m.Lifetime))
		if err == nil {
			pm.m, pm.got = m, now
		} else if expired {
			pm.m = nil
		}
		cur := pm.m
		pm.mu.Unlock()
		var old netip.AddrPort
		if prev != nil {
			old = prev.External
		}
		var ext netip.AddrPort
		if cur != nil {
			ext = cur.External
		}
		if ext != old {
			c.setMappedCandidate(ctx, old, ext)
		}
		signal()
		// No mapping: ask again after 30 s, doubling up to 32 min (a
		// gateway without PCP/NAT-PMP costs one datagram each time).
		wait := 30 * time.Second << min(failures, 6)
		failures++
		switch {
		case err == nil:
			failures = 0
			wait = max(m.Lifetime/2, time.Second)
		case cur != nil:
			wait = max(time.Until(got.Add(cur.Lifetime))/4, time.Second)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			continue
		}
		break
	}
	// Delete the mapping (lifetime 0); best effort, the gateway expires it anyway.
	pm.mu.Lock()
	m := pm.m
	pm.mu.Unlock()
	if m != nil {
		dctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		var drops PortMapDrops
		pm.mapOnce(dctx, 0, 0, 0, &drops)
		cancel()
	}
}

// mapOnce asks by PCP, or by NAT-PMP once the gateway has said it does
// not speak PCP (or did not answer PCP at all).
func (pm *portMapper) mapOnce(ctx context.Context, suggest uint16, lifetime time.Duration, minEpoch uint32, drops *PortMapDrops) (*PortMapping, error) {
	pm.mu.Lock()
	natpmp := pm.natpmp
	pm.mu.Unlock()
	if !natpmp {
		m, err := pcpMapUDP(ctx, pm.gw, pm.internal, suggest, lifetime, pm.nonce, minEpoch, drops)
		var pe *PCPError
		if err == nil || errors.As(err, &pe) || ctx.Err() != nil || !errors.Is(err, errPCPUnsupported) && !errors.Is(err, errNoPCPAnswer) {
			return m, err
		}
		pm.mu.Lock()
		pm.natpmp = true
		pm.mu.Unlock()
	}
	return mapUDPChecked(ctx, pm.gw, pm.internal, suggest, lifetime, minEpoch, drops)
}

func addDrops(to *PortMapDrops, d PortMapDrops) {
	to.Source += d.Source
	to.Malformed += d.Malformed
	to.Opcode += d.Opcode
	to.Epoch += d.Epoch
	to.Mapping += d.Mapping
}

// setMappedCandidate replaces the mapped candidate old (if valid) by ext
// (if valid), first in the list, and registers again if the client is
// registered already (an answer after MapPort stopped waiting, a new
// public port after a renewal, an expiry): the supernode hands out the
// candidates of the last registration.
func (c *Client) setMappedCandidate(ctx context.Context, old, ext netip.AddrPort) {
	c.mu.Lock()
	list := slices.DeleteFunc(slices.Clone(c.local.Slice()), func(a netip.AddrPort) bool { return a == old || a == ext })
	if ext.IsValid() {
		list = append([]netip.AddrPort{ext}, list...)
	}
	var cands wire.Candidates
	for _, a := range list {
		if int(cands.N) < wire.MaxCandidates {
			cands.Addr[cands.N] = a
			cands.N++
		}
	}
	c.local = cands
	registered := c.hasKey
	c.mu.Unlock()
	if registered {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c.Register(rctx)
		cancel()
	}
}

// stopPortMap deletes the mapping (Close).
func (c *Client) stopPortMap() {
	c.mu.Lock()
	pm := c.pm
	c.mu.Unlock()
	if pm != nil {
		pm.cancel()
		<-pm.done
	}
}

// hostCandidates is what we announce except the port mapping: the
// addresses our NAT guess compares with our reflexive address.
func (c *Client) hostCandidates() []netip.AddrPort {
	var ext netip.AddrPort
	if m := c.PortMap().Mapping; m != nil {
		ext = m.External
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(c.local.Slice()), func(a netip.AddrPort) bool { return a == ext })
}

// portMapNote says what our port mapping came to, for a failed punch's
// explanation ("" when none was asked for).
func (c *Client) portMapNote() string {
	c.mu.Lock()
	asked := c.pm != nil
	c.mu.Unlock()
	if !asked {
		return ""
	}
	s := c.PortMap()
	switch {
	case s.Mapping != nil:
		return fmt.Sprintf("our gateway mapped %s to us (%s), announced as a candidate", s.Mapping.External, s.Mapping.Protocol)
	case s.Err != nil:
		return fmt.Sprintf("our gateway gave no port mapping (%v)", s.Err)
	}
	return "our gateway has not answered the port-mapping request"
}
