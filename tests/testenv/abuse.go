package testenv

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// BadSignatures earns a cookie from server with a real socket and sends n
// registrations that carry it but a broken signature.
func BadSignatures(server netip.AddrPort, n int) error {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return err
	}
	defer c.Close()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := wire.Registration{ID: wire.PeerID(priv.Public().(ed25519.PublicKey))}
	m := stun.New()
	wire.BuildRegister(m, stun.NewTransactionID(), nil, &r)
	buf := make([]byte, 1500)
	var cookie []byte
	for attempt := 0; attempt < 5 && cookie == nil; attempt++ {
		c.Write(m.Raw)
		c.SetReadDeadline(time.Now().Add(time.Second))
		k, err := c.Read(buf)
		if err != nil {
			continue
		}
		resp := stun.New()
		if resp.Decode(buf[:k]) == nil {
			if v, ok := resp.Get(wire.AttrCookie); ok {
				cookie = append([]byte(nil), v...)
			}
		}
	}
	if cookie == nil {
		return errors.New("no cookie challenge from " + server.String())
	}
	r.Cookie = cookie
	for i := range n {
		r.Stamp = uint64(i + 1)
		rand.Read(r.Ephemeral[:])
		wire.BuildRegister(m, stun.NewTransactionID(), priv, &r)
		b := append([]byte(nil), m.Raw...)
		b[len(b)-8-40] ^= 1 // inside SIGNATURE, as the unit tests do
		// Re-seal the fingerprint so only the signature is wrong.
		d := stun.New()
		d.Decode(b)
		out := stun.New()
		out.Build(d.Type, d.Cookie, d.TransactionID)
		for _, a := range d.Attributes {
			if a.Type != stun.AttrFingerprint {
				out.Add(a.Type, a.Value)
			}
		}
		out.AddFingerprint()
		if _, err := c.Write(out.Raw); err != nil {
			return err
		}
	}
	return nil
}
