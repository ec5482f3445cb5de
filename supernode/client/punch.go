package client

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Punching budget. An introduction costs its sender (a supernode, on behalf
// of whoever looked us up) one datagram of ~170 bytes; answering it with
// 5 candidates x 30 rounds once cost us 150 datagrams, ~40x the bytes,
// towards addresses someone else chose. Now:
//   - only candidates wire.CheckCandidate accepts, without duplicates, at
//     most 1 + wire.MaxCandidates of them;
//   - an introduction is answered with the rounds of punchSchedule: 5 to
//     the peer's reflexive address (which the supernode proved), 2 to each
//     host candidate (which the peer only claims; same-LAN paths need no
//     NAT to open and lose little), so at most 13 datagrams (~360 bytes of
//     STUN, ~2x the introduction), at most 2 per address the peer named;
//   - one introduction per peer is punched at a time (Listen);
//   - every punching datagram of this process, all clients together, takes
//     a token from one bucket of PunchRate per second, PunchBurst deep.
const (
	PunchRate  = 50
	PunchBurst = 50
)

// punchSchedule is when the rounds of one introduction go out, from its
// arrival: the first at once (both peers punch at the same moment), then
// backing off. A punch needs one datagram to get through to open our
// NAT's mapping; the repeats cover loss and the other side's delay. Host
// candidates get only the first hostRounds rounds.
var punchSchedule = [...]time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond}

const hostRounds = 2

// budget is a token bucket shared by every client of the process.
type budget struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
	rate   float64 // tokens per second
	burst  float64
}

var punchBudget = &budget{rate: PunchRate, burst: PunchBurst, tokens: PunchBurst}

// take takes one token at time now, if there is one.
func (b *budget) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = min(b.burst, b.tokens+dt*b.rate)
		}
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// punchTargets returns the candidates worth punching: valid for a peer that
// reaches our supernode at server's address (wire.CheckCandidate: no
// broadcast, multicast, link-local, port 0, loopback unless the supernode
// is on loopback), each once, at most 1 + wire.MaxCandidates.
func punchTargets(server netip.AddrPort, cands []netip.AddrPort) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, 1+wire.MaxCandidates)
	for _, a := range cands {
		a = unmap(a)
		if len(out) == cap(out) {
			break
		}
		if wire.CheckCandidate(a, server.Addr()) != wire.CandidateOK || a == server {
			continue
		}
		dup := false
		for _, b := range out {
			dup = dup || a == b
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// sendBudgeted sends one punching datagram if the process's budget allows.
func (c *Client) sendBudgeted(to netip.AddrPort, b []byte) bool {
	if !punchBudget.take(time.Now()) {
		return false
	}
	c.Send(to, b)
	return true
}

// Punch sends one round of hole-punching packets to the usable candidates
// (punchTargets): STUN Binding indications, which RFC 8489 section 6.3.2
// lets any receiver discard, so they open our NAT mapping towards the peer
// without being mistaken for data. Both sides punch at once after an
// introduction; the first packets usually die at the other NAT, the later
// ones get through. It returns how many datagrams went out (the budget may
// hold some back).
func (c *Client) Punch(cands []netip.AddrPort) int {
	m := stun.New()
	m.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassIndication}, stun.MagicCookie, stun.NewTransactionID())
	m.AddFingerprint()
	n := 0
	for _, a := range punchTargets(c.server, cands) {
		if c.sendBudgeted(a, m.Raw) {
			n++
		}
	}
	return n
}

// PunchFor punches every interval until d has passed or ctx ends (each
// round within the process's budget).
func (c *Client) PunchFor(ctx context.Context, cands []netip.AddrPort, d, interval time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		c.Punch(cands)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// punchIntroduction answers one introduction of a peer at reflexive with
// host candidates local: the rounds of punchSchedule.
func (c *Client) punchIntroduction(ctx context.Context, reflexive netip.AddrPort, local []netip.AddrPort) {
	all := append([]netip.AddrPort{reflexive}, local...)
	start := time.Now()
	for i, at := range punchSchedule {
		if wait := time.Until(start.Add(at)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		if i < hostRounds {
			c.Punch(all)
		} else {
			c.Punch(all[:1])
		}
	}
}
