package server

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// benchWorker is a server with one worker whose packet path is driven
// directly (no sockets): these benchmarks measure the server's own cost per
// request. End-to-end throughput against coturn is tests/bench.
func benchWorker(b testing.TB) *worker {
	cfg := Defaults()
	cfg.Listen = []string{"127.0.0.1:0"}
	cfg.Sockets = 1
	cfg.RateLimit, cfg.RateBurst = 1e12, 1<<30
	cfg.IntroduceRate, cfg.IntroduceBurst = 1e12, 1<<30 // checked, never refusing
	s, err := New(cfg, quiet, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	w, err := newWorker(s, s.conns[0])
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func srcOf(i int) netip.AddrPort {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 0x0a000000+uint32(i))
	return netip.AddrPortFrom(netip.AddrFrom4(a), 40000)
}

// latencies runs op b.N times and reports ops/s, p50 and p99.
func latencies(b *testing.B, op func(i int)) {
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		op(i)
		lat[i] = time.Since(t0)
	}
	total := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/total.Seconds(), "ops/s")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkHandleBinding(b *testing.B) {
	w := benchWorker(b)
	m := stun.New()
	m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	m.AddFingerprint()
	src := srcOf(1)
	latencies(b, func(int) {
		w.handle(m.Raw, src, false)
		w.nout = 0
	})
}

type benchPeer struct {
	priv ed25519.PrivateKey
	id   wire.PeerID
	src  netip.AddrPort
	reg  []byte
}

// registrations pre-builds n signed registrations with valid cookies.
func registrations(b testing.TB, w *worker, n int) []benchPeer {
	ps := make([]benchPeer, n)
	now := time.Now()
	eph, _ := ecdh.X25519().GenerateKey(rand.Reader)
	for i := range ps {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		p := &ps[i]
		p.priv, p.id, p.src = priv, wire.PeerID(priv.Public().(ed25519.PublicKey)), srcOf(i)
		ck := w.s.cookies.Issue(p.src, now)
		r := wire.Registration{ID: p.id, Cookie: ck[:], Stamp: 1}
		r.Local.Addr[0], r.Local.N = netip.MustParseAddrPort("192.168.1.2:5000"), 1
		copy(r.Ephemeral[:], eph.PublicKey().Bytes())
		wire.BuildRegister(builder, stun.NewTransactionID(), priv, &r)
		p.reg = append([]byte(nil), builder.Raw...)
	}
	return ps
}

func BenchmarkHandleRegister(b *testing.B) {
	w := benchWorker(b)
	ps := registrations(b, w, b.N)
	latencies(b, func(i int) {
		w.handle(ps[i].reg, ps[i].src, false)
		if w.nout != 1 || w.outs[0].Type.Class != stun.ClassSuccess {
			b.Fatal("registration refused")
		}
		w.nout = 0
	})
}

// registered registers n peers and returns them with their session keys.
func registered(b testing.TB, w *worker, n int) ([]benchPeer, [][16]byte) {
	ps := registrations(b, w, n)
	keys := make([][16]byte, n)
	for i := range ps {
		w.handle(ps[i].reg, ps[i].src, false)
		w.nout = 0
		var p directory.Peer
		if !w.s.store.Lookup(ps[i].id, &p) {
			b.Fatal("not registered")
		}
		keys[i] = p.Session
	}
	return ps, keys
}

// builder is reused so pre-built requests cost only their own bytes (b.N
// can reach a million for keepalives).
var builder = stun.New()

func authRequest(method stun.Method, id wire.PeerID, stamp uint64, key []byte, target *wire.PeerID) []byte {
	m := builder
	m.Build(stun.MessageType{Method: method, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
	wire.AddPeerID(m, wire.AttrPeerID, id)
	if target != nil {
		wire.AddPeerID(m, wire.AttrTargetID, *target)
	}
	wire.AddStamp(m, stamp)
	m.AddMessageIntegritySHA256(key)
	m.AddFingerprint()
	return append([]byte(nil), m.Raw...)
}

const benchPeers = 1000

func BenchmarkHandleKeepalive(b *testing.B) {
	w := benchWorker(b)
	ps, keys := registered(b, w, benchPeers)
	reqs := make([][]byte, b.N)
	for i := range reqs {
		p := i % benchPeers
		reqs[i] = authRequest(wire.MethodKeepalive, ps[p].id, uint64(10+i), keys[p][:], nil)
	}
	latencies(b, func(i int) {
		w.handle(reqs[i], ps[i%benchPeers].src, false)
		if w.nout != 1 || w.outs[0].Type.Class != stun.ClassSuccess {
			b.Fatal("keepalive refused")
		}
		w.nout = 0
	})
}

func BenchmarkHandleLookup(b *testing.B) {
	w := benchWorker(b)
	ps, keys := registered(b, w, benchPeers)
	reqs := make([][]byte, b.N)
	for i := range reqs {
		p := i % benchPeers
		t := ps[(p+1)%benchPeers].id
		reqs[i] = authRequest(wire.MethodLookup, ps[p].id, uint64(10+i), keys[p][:], &t)
	}
	latencies(b, func(i int) {
		w.handle(reqs[i], ps[i%benchPeers].src, false)
		if w.nout != 2 { // reply + introduction
			b.Fatal("lookup did not answer and introduce")
		}
		w.nout = 0
	})
}
