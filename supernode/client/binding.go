package client

import (
	"context"
	"errors"

	"net/netip"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// Binding asks the server (any STUN server) for our reflexive address with
// a plain RFC 8489 Binding request.
func (c *Client) Binding(ctx context.Context) (netip.AddrPort, error) {
	resp, err := c.transact(ctx, func(m *stun.Message, id [stun.TransactionIDSize]byte) {
		m.Build(stun.BindingRequest, stun.MagicCookie, id)
		m.AddFingerprint()
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	if resp.Type.Class == stun.ClassError {
		return netip.AddrPort{}, errorOf(resp)
	}
	if v, ok := resp.Get(stun.AttrXORMappedAddress); ok {
		return resp.XORAddress(v)
	}
	if v, ok := resp.Get(stun.AttrMappedAddress); ok {
		return resp.MappedAddress(v)
	}
	return netip.AddrPort{}, errors.New("binding response carries no mapped address")
}
