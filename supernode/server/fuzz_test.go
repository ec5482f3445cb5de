package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
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

// FuzzDiscovery feeds arbitrary datagrams to a worker of a server with
// RFC 5780 discovery (127.0.0.1 + 127.0.0.2) on an alternate and on the
// primary address: never a panic, never more than two datagrams, and no
// datagram that leaves from another socket (a CHANGE-REQUEST's answer) or
// carries OTHER-ADDRESS is larger than the datagram it answers.
func FuzzDiscovery(f *testing.F) {
	m := stun.New()
	for _, flags := range []byte{0, 2, 4, 6} {
		for _, pad := range []int{0, 100} {
			m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
			m.Add(stun.AttrChangeRequest, []byte{0, 0, 0, flags})
			if pad > 0 {
				m.AddPadding(pad)
			}
			m.AddFingerprint()
			f.Add(append([]byte(nil), m.Raw...), flags&2 != 0)
		}
	}
	f.Add([]byte("\x00\x01\x00\x0c\x11\x22\x33\x44"+"0123456789ab"+"\x00\x03\x00\x03\x00\x00\x06\x00"), false)
	f.Add([]byte("\x00\x01\x00\x70\x11\x22\x33\x44"+"0123456789ab"+"\x00\x03\x00\x04\x00\x00\x00\x06"+"\x00\x26\x00\x64"+string(make([]byte, 100))), true)

	cfg := Defaults()
	cfg.Listen, cfg.Sockets = []string{"127.0.0.1:0"}, 1
	cfg.AlternateAddress, cfg.AlternatePort = "127.0.0.2", 0
	cfg.RateLimit = 0
	s, err := New(cfg, quiet, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	var ws [2]*worker
	for i, c := range []*net.UDPConn{s.disc.conn[0][0], s.disc.conn[1][1]} {
		if ws[i], err = newWorker(s, c); err != nil {
			f.Fatal(err)
		}
	}
	src := netip.MustParseAddrPort("192.0.2.7:1234")
	f.Fuzz(func(t *testing.T, pkt []byte, alternate bool) {
		w := ws[0]
		if alternate {
			w = ws[1]
		}
		w.nout = 0
		w.handle(pkt, src, false)
		if w.nout > 2 {
			t.Fatalf("%d datagrams queued", w.nout)
		}
		for i := 0; i < w.nout; i++ {
			d := stun.New()
			if err := d.Decode(w.outs[i].Raw); err != nil {
				t.Fatalf("we sent invalid STUN: %v", err)
			}
			_, other := d.Get(stun.AttrOtherAddress)
			_, changed := d.Get(stun.AttrChangedAddress)
			if (w.vias[i] != nil || other || changed) && len(w.outs[i].Raw) > len(pkt) {
				t.Fatalf("amplification: %d-byte discovery answer to a %d-byte request", len(w.outs[i].Raw), len(pkt))
			}
			if w.vias[i] != nil && w.vias[i] == w.conn {
				t.Fatal("a changed answer queued on the socket that received the request")
			}
		}
	})
}
