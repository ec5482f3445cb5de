package client

import (
	"context"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// Punch sends one round of hole-punching packets to every candidate: STUN
// Binding indications, which RFC 8489 section 6.3.2 lets any receiver
// discard, so they open our NAT mapping towards the peer without being
// mistaken for data. Both sides punch at once after an introduction; the
// first packets usually die at the other NAT, the later ones get through.
func (c *Client) Punch(cands []netip.AddrPort) {
	m := stun.New()
	m.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassIndication}, stun.MagicCookie, stun.NewTransactionID())
	m.AddFingerprint()
	for _, a := range cands {
		if a.IsValid() {
			c.Send(a, m.Raw)
		}
	}
}

// PunchFor punches every interval until d has passed or ctx ends.
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
