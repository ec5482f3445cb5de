package client

import (
	"net/netip"
	"time"
)

// HostRounds lets the external tests read the per-introduction bound.
const HostRounds = hostRounds

var MapUDPAt = mapUDP

func (c *Client) MapPortAt(gw netip.AddrPort, wait time.Duration) (*PortMapping, error) {
	return c.mapPortAt(gw, wait)
}

// Announced is the candidate list the next registration carries.
func (c *Client) Announced() []netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]netip.AddrPort(nil), c.local.Slice()...)
}
