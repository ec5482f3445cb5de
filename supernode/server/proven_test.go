package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// testWorker is benchWorker with a configuration of the test's own: one
// worker driven directly, no socket traffic, no timing.
func testWorker(t testing.TB, mod func(*Config)) *worker {
	t.Helper()
	cfg := Defaults()
	cfg.Listen = []string{"127.0.0.1:0"}
	cfg.Sockets = 1
	cfg.RateLimit, cfg.RateBurst = 1e12, 1<<30
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	w, err := newWorker(s, s.conns[0])
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// testPeer is a key with the requests a client would send for it.
type testPeer struct {
	priv ed25519.PrivateKey
	id   wire.PeerID
	src  netip.AddrPort
	key  [16]byte // session key, once registered
}

func newTestPeer(src string) *testPeer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return &testPeer{priv: priv, id: wire.PeerID(priv.Public().(ed25519.PublicKey)), src: netip.MustParseAddrPort(src)}
}

// signed returns a signed register for p with a cookie valid for p.src and
// the given local candidates.
func (p *testPeer) signed(w *worker, stamp uint64, local ...netip.AddrPort) []byte {
	ck := w.s.cookies.Issue(p.src, time.Now())
	r := wire.Registration{ID: p.id, Cookie: ck[:], Stamp: stamp}
	for _, a := range local {
		r.Local.Addr[r.Local.N] = a
		r.Local.N++
	}
	rand.Read(r.Ephemeral[:])
	m := stun.New()
	wire.BuildRegister(m, stun.NewTransactionID(), p.priv, &r)
	return append([]byte(nil), m.Raw...)
}

// register registers p through w's packet path and keeps its session key;
// it returns the response's class and error code (0 on success).
func (p *testPeer) register(t testing.TB, w *worker, stamp uint64, local ...netip.AddrPort) int {
	t.Helper()
	w.nout = 0
	w.handle(p.signed(w, stamp, local...), p.src, false)
	if w.nout != 1 {
		t.Fatalf("register from %s: %d replies", p.src, w.nout)
	}
	out := stun.New()
	if err := out.Decode(append([]byte(nil), w.outs[0].Raw...)); err != nil {
		t.Fatal(err)
	}
	w.nout = 0
	if out.Type.Class == stun.ClassError {
		v, _ := out.Get(stun.AttrErrorCode)
		code, _, _ := stun.ParseErrorCode(v)
		return code
	}
	var dp directory.Peer
	if !w.s.store.Lookup(p.id, &dp) {
		t.Fatal("registered peer not in the directory")
	}
	p.key = dp.Session
	return 0
}

// request returns an authenticated request of p (keepalive, lookup, leave).
func (p *testPeer) request(method stun.Method, stamp uint64, target *wire.PeerID) []byte {
	return authRequest(method, p.id, stamp, p.key[:], target)
}

func badFingerprintBinding() []byte {
	m := stun.New()
	m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	m.AddFingerprint()
	b := append([]byte(nil), m.Raw...)
	b[len(b)-1] ^= 1
	return b
}

// TestForgedDropsAreNeverReported: issue #11 item 2. Drops that any sender
// can cause with a forged source address (bad FINGERPRINT, rate limit) must
// never make the supernode ask the XDP controller to block that address,
// not even when it is the address of a registered (once proven) peer: the
// forger would choose whom the appliance blocks (the resolver, the gateway,
// a fleet member). Before the fix, abuse_threshold such datagrams reported
// the named source.
func TestForgedDropsAreNeverReported(t *testing.T) {
	rep := &captureReporter{}
	w := testWorker(t, func(c *Config) { c.AbuseThreshold, c.Abuse = 10, rep })
	bad := badFingerprintBinding()

	resolver := netip.MustParseAddrPort("198.51.100.53:53") // never sent us anything itself
	peer := newTestPeer("203.0.113.7:40000")
	if code := peer.register(t, w, 1); code != 0 {
		t.Fatalf("register: %d", code)
	}
	for _, src := range []netip.AddrPort{resolver, peer.src} {
		for range 1000 {
			w.handle(bad, src, false)
			w.nout = 0
		}
	}
	if got := w.s.Dropped("bad_fingerprint"); got != 2000 {
		t.Fatalf("bad_fingerprint drops %d, want 2000", got)
	}
	if len(rep.got) != 0 {
		t.Fatalf("forged bad-FINGERPRINT Bindings got %v reported", rep.got)
	}

	// The same for the rate limit.
	rl := testWorker(t, func(c *Config) { c.AbuseThreshold, c.Abuse, c.RateLimit, c.RateBurst = 10, rep, 0.001, 1 })
	ok := stun.New()
	ok.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	for range 1000 {
		rl.handle(ok.Raw, resolver, false)
		rl.nout = 0
	}
	if got := rl.s.Dropped("rate_limited"); got < 990 {
		t.Fatalf("rate_limited drops %d, want >= 990", got)
	}
	if len(rep.got) != 0 {
		t.Fatalf("a forged flood got %v reported", rep.got)
	}
}

// TestProvenAbuseIsReported: drops of datagrams that proved their source
// still lead to one report: registrations that carry a valid cookie for
// their source but a bad signature (each costs an Ed25519 verification),
// and replayed keepalives that verify under the session key and come from
// the registered address.
func TestProvenAbuseIsReported(t *testing.T) {
	t.Run("bad signature after a valid cookie", func(t *testing.T) {
		rep := &captureReporter{}
		w := testWorker(t, func(c *Config) { c.AbuseThreshold, c.Abuse = 10, rep })
		p := newTestPeer("203.0.113.9:5000")
		for i := range 30 {
			b := p.signed(w, uint64(i+1))
			b[len(b)-8-40] ^= 1 // inside SIGNATURE
			w.handle(refingerprint(b), p.src, false)
			w.nout = 0
		}
		if got := w.s.Dropped("bad_signature"); got != 30 {
			t.Fatalf("bad_signature drops %d, want 30", got)
		}
		if len(rep.got) != 1 || rep.got[0] != p.src.Addr() {
			t.Fatalf("reports %v, want exactly one for %s", rep.got, p.src.Addr())
		}
	})
	t.Run("replayed keepalive from the registered address", func(t *testing.T) {
		rep := &captureReporter{}
		w := testWorker(t, func(c *Config) { c.AbuseThreshold, c.Abuse = 10, rep })
		p := newTestPeer("[2001:db8::9]:5000")
		if code := p.register(t, w, 100); code != 0 {
			t.Fatalf("register: %d", code)
		}
		stale := p.request(wire.MethodKeepalive, 50, nil)
		for range 30 {
			w.handle(stale, p.src, false)
			w.nout = 0
		}
		if len(rep.got) != 1 || rep.got[0] != p.src.Addr() {
			t.Fatalf("reports %v, want exactly one for %s", rep.got, p.src.Addr())
		}
	})
}

// TestAbuseTTLCapped: the supernode may not ask for blocks longer than
// MaxAbuseTTL, whatever the configuration says.
func TestAbuseTTLCapped(t *testing.T) {
	cfg := Defaults()
	cfg.AbuseTTL = 30 * 24 * time.Hour
	if err := cfg.Validate(); err == nil {
		t.Fatal("abuse_ttl = 720h accepted")
	}
	cfg.AbuseTTL = MaxAbuseTTL
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := NewSocketReporter("/nonexistent", 30*24*time.Hour, quiet, nil)
	defer r.Close()
	if r.ttl != MaxAbuseTTL {
		t.Fatalf("reporter asks for %s, want at most %s", r.ttl, MaxAbuseTTL)
	}
}
