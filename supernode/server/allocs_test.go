package server

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// TestPacketPathAllocatesNothing: every method's packet path, from the
// datagram to the queued answer, allocates nothing (issue #17 item 3). The
// benchmarks report the same per operation; this makes it a failure.
func TestPacketPathAllocatesNothing(t *testing.T) {
	const runs = 200
	w := benchWorker(t)
	ps, keys := registered(t, w, 2)
	stamp := uint64(10)
	next := func(method stun.Method, target *wire.PeerID) []byte {
		stamp++
		return authRequest(method, ps[0].id, stamp, keys[0][:], target)
	}

	binding := stun.New()
	binding.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	binding.AddFingerprint()

	// Re-registrations of one peer from its address, each signed with a
	// higher timestamp (a new peer would grow the directory's table, which
	// is amortised, not per packet).
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	id, src := wire.PeerID(priv.Public().(ed25519.PublicKey)), netip.MustParseAddrPort("192.0.2.7:4000")
	eph, _ := ecdh.X25519().GenerateKey(rand.Reader)
	ck := w.s.cookies.Issue(src, time.Now())
	regs := make([][]byte, runs+1)
	for i := range regs {
		r := wire.Registration{ID: id, Cookie: ck[:], Stamp: uint64(i + 1)}
		r.Local.Addr[0], r.Local.N = netip.MustParseAddrPort("192.168.1.2:5000"), 1
		copy(r.Ephemeral[:], eph.PublicKey().Bytes())
		wire.BuildRegister(builder, stun.NewTransactionID(), priv, &r)
		regs[i] = append([]byte(nil), builder.Raw...)
	}
	probe := wire.Registration{ID: id}
	probe.Local.Addr[0], probe.Local.N = netip.MustParseAddrPort("192.168.1.2:5000"), 1
	wire.BuildRegister(builder, stun.NewTransactionID(), priv, &probe)
	challenge := append([]byte(nil), builder.Raw...)

	type op struct {
		name string
		req  func() []byte
		src  netip.AddrPort
		want stun.Class
	}
	for _, o := range []op{
		{"Binding", func() []byte { return binding.Raw }, srcOf(99), stun.ClassSuccess},
		{"register (cookie challenge)", func() []byte { return challenge }, src, stun.ClassError},
		{"register (signed)", func() []byte { r := regs[0]; regs = regs[1:]; return r }, src, stun.ClassSuccess},
		{"keepalive", func() []byte { return next(wire.MethodKeepalive, nil) }, ps[0].src, stun.ClassSuccess},
		{"lookup", func() []byte { return next(wire.MethodLookup, &ps[1].id) }, ps[0].src, stun.ClassSuccess},
	} {
		// Requests are built outside the measured call.
		reqs := make([][]byte, runs+1)
		for i := range reqs {
			reqs[i] = o.req()
		}
		i := 0
		allocs := testing.AllocsPerRun(runs, func() {
			w.handle(reqs[i], o.src, false)
			i++
			if w.nout == 0 || w.outs[0].Type.Class != o.want {
				t.Fatalf("%s: no %v answer", o.name, o.want)
			}
			w.nout = 0
		})
		if allocs != 0 {
			t.Errorf("%s allocates %.2f times per packet, want 0", o.name, allocs)
		}
	}
}
