package server

import (
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// counterValue reads a pre-resolved counter.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// decoded returns a decoded copy of an output message (built messages
// carry only their bytes).
func decoded(t testing.TB, m *stun.Message) *stun.Message {
	t.Helper()
	d := stun.New()
	if err := d.Decode(append([]byte(nil), m.Raw...)); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCandidatesFiltered: issue #11 item 6. A registration announcing
// candidates no peer can own (limited broadcast, loopback service, the
// cloud metadata address) keeps only its usable ones (an RFC 1918 address
// here), so a lookup or an introduction never tells another peer to punch
// them; each rejected one is counted by reason. Before the fix all four
// were stored and handed out.
func TestCandidatesFiltered(t *testing.T) {
	w := testWorker(t, nil)
	bad := newTestPeer("203.0.113.7:40000")
	private := netip.MustParseAddrPort("10.0.0.2:5000")
	if code := bad.register(t, w, 1,
		netip.MustParseAddrPort("255.255.255.255:9"),
		netip.MustParseAddrPort("127.0.0.1:22"),
		netip.MustParseAddrPort("169.254.169.254:80"),
		private); code != 0 {
		t.Fatalf("register: %d", code)
	}
	var p directory.Peer
	if !w.s.store.Lookup(bad.id, &p) || p.NLocal != 1 || p.Local[0] != private {
		t.Fatalf("stored candidates %v, want only %s", p.Local[:p.NLocal], private)
	}
	for f, want := range map[wire.CandidateFault]float64{wire.CandidateBroadcast: 1, wire.CandidateLoopback: 1, wire.CandidateLinkLocal: 1} {
		if got := counterValue(t, w.s.m.candidates[f]); got != want {
			t.Errorf("candidates_rejected{reason=%s} = %v, want %v", f, got, want)
		}
	}

	// What another peer is told.
	q := newTestPeer("198.51.100.8:41000")
	if code := q.register(t, w, 1); code != 0 {
		t.Fatalf("register: %d", code)
	}
	w.nout = 0
	w.handle(q.request(wire.MethodLookup, 2, &bad.id), q.src, false)
	if w.nout != 2 {
		t.Fatalf("lookup: %d datagrams, want reply and introduction", w.nout)
	}
	var c wire.Candidates
	if err := wire.GetCandidates(decoded(t, w.outs[0]), &c); err != nil || c.N != 1 || c.Addr[0] != private {
		t.Fatalf("lookup reply candidates %v (%v), want only %s", c.Slice(), err, private)
	}
	w.nout = 0
}

// TestTooManyCandidates: more than wire.MaxCandidates candidates make the
// registration malformed (dropped, no state).
func TestTooManyCandidates(t *testing.T) {
	w := testWorker(t, nil)
	p := newTestPeer("203.0.113.7:40000")
	m := stun.New()
	m.Build(stun.MessageType{Method: wire.MethodRegister, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
	wire.AddPeerID(m, wire.AttrPeerID, p.id)
	for i := range wire.MaxCandidates + 1 {
		m.AddXORAddress(wire.AttrLocalCandidate, netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(5000+i)))
	}
	m.Add(wire.AttrPadding, make([]byte, 64))
	m.AddFingerprint()
	w.handle(m.Raw, p.src, false)
	if w.nout != 0 || w.s.Dropped("malformed") != 1 || w.s.store.Len() != 0 {
		t.Fatalf("%d replies, %d malformed drops, %d peers", w.nout, w.s.Dropped("malformed"), w.s.store.Len())
	}
}

// TestIntroductionRateLimit: issue #11 item 6. Lookups that would
// introduce are budgeted per requester and per target (introduce_rate,
// introduce_burst); over budget the requester gets error 474 under its
// session key and the target gets no introduction (it does not punch).
// The rate is tiny so refills during the test do not matter.
func TestIntroductionRateLimit(t *testing.T) {
	w := testWorker(t, func(c *Config) { c.IntroduceRate, c.IntroduceBurst = 1e-6, 3 })
	a, b, c := newTestPeer("198.51.100.1:4000"), newTestPeer("198.51.100.2:4000"), newTestPeer("198.51.100.3:4000")
	for _, p := range []*testPeer{a, b, c} {
		if code := p.register(t, w, 1); code != 0 {
			t.Fatalf("register: %d", code)
		}
	}
	lookup := func(from, to *testPeer, stamp uint64) (datagrams, code int) {
		t.Helper()
		w.nout = 0
		w.handle(from.request(wire.MethodLookup, stamp, &to.id), from.src, false)
		defer func() { w.nout = 0 }()
		if w.nout == 0 {
			t.Fatal("no answer")
		}
		out := decoded(t, w.outs[0])
		if err := out.CheckMessageIntegritySHA256(from.key[:]); err != nil {
			t.Fatalf("answer not under the requester's session key: %v", err)
		}
		if v, ok := out.Get(stun.AttrErrorCode); ok {
			code, _, _ = stun.ParseErrorCode(v)
		}
		return w.nout, code
	}
	for i := range 3 {
		if n, code := lookup(a, b, uint64(10+i)); n != 2 || code != 0 {
			t.Fatalf("lookup %d: %d datagrams, code %d; want reply and introduction", i, n, code)
		}
	}
	// a's budget is spent: no 4th introduction, whoever the target.
	if n, code := lookup(a, c, 20); n != 1 || code != wire.CodeIntroLimited {
		t.Fatalf("a over budget: %d datagrams, code %d; want only error %d", n, code, wire.CodeIntroLimited)
	}
	// b's budget as a target is spent too: c cannot make b punch either.
	if n, code := lookup(c, b, 10); n != 1 || code != wire.CodeIntroLimited {
		t.Fatalf("b over budget: %d datagrams, code %d; want only error %d", n, code, wire.CodeIntroLimited)
	}
	if r, tg := counterValue(t, w.s.m.limited[limitedRequester]), counterValue(t, w.s.m.limited[limitedTarget]); r != 1 || tg != 1 {
		t.Fatalf("introductions_limited requester %v target %v, want 1 and 1", r, tg)
	}
	// c, never introduced and never a target, still reaches a.
	if n, code := lookup(c, a, 11); n != 2 || code != 0 {
		t.Fatalf("fresh pair: %d datagrams, code %d", n, code)
	}
}
