package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/netip"
	"testing"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// FuzzHandle feeds arbitrary datagrams to the whole packet path: it must
// never panic, never queue more than two datagrams, and never send an
// unproven source more bytes than it sent (Binding aside, which is plain
// STUN and answers with at most a fixed-size reply).
func FuzzHandle(f *testing.F) {
	m := stun.New()
	m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	m.AddFingerprint()
	f.Add(append([]byte(nil), m.Raw...))
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := wire.Registration{ID: wire.PeerID(priv.Public().(ed25519.PublicKey))}
	wire.BuildRegister(m, stun.NewTransactionID(), nil, &r)
	f.Add(append([]byte(nil), m.Raw...))
	r.Cookie = make([]byte, wire.CookieSize)
	wire.BuildRegister(m, stun.NewTransactionID(), priv, &r)
	f.Add(append([]byte(nil), m.Raw...))
	f.Add([]byte("\x00\x01\x00\x08\x11\x22\x33\x44" + "0123456789ab" + "\x00\x03\x00\x04\x00\x00\x00\x00"))

	w := benchWorker(f)
	src := netip.MustParseAddrPort("192.0.2.7:1234")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		w.nout = 0
		w.handle(pkt, src, false)
		if w.nout > 2 {
			t.Fatalf("%d datagrams queued", w.nout)
		}
		for i := 0; i < w.nout; i++ {
			out := w.outs[i]
			d := stun.New()
			if err := d.Decode(out.Raw); err != nil {
				t.Fatalf("we sent invalid STUN: %v", err)
			}
			if d.Type.Method != stun.MethodBinding && w.dsts[i] == src && len(out.Raw) > len(pkt) {
				t.Fatalf("amplification: %d-byte reply to a %d-byte request", len(out.Raw), len(pkt))
			}
		}
	})
}
