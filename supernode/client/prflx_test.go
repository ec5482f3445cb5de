package client

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// loopClient is a client on 127.0.0.1 with its own key; the supernode
// address is a port nobody answers on: these tests are peer to peer.
func loopClient(t *testing.T) *Client {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := New(conn, netip.MustParseAddrPort("127.0.0.1:9"), priv, nil)
	t.Cleanup(func() { c.Close() })
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A probes B: B answers and probes back (triggered check); each adopts the
// other's address only once its own probe is answered.
func TestProbeAdoptsBothWays(t *testing.T) {
	a, b := loopClient(t), loopClient(t)
	b.track(a.ID()) // b was introduced to a
	a.probe(b.ID(), []netip.AddrPort{b.LocalAddr()})
	waitFor(t, "a adopts b", func() bool { return slices.Contains(a.Path(b.ID()).Valid, b.LocalAddr()) })
	waitFor(t, "b adopts a", func() bool { return slices.Contains(b.Path(a.ID()).Valid, a.LocalAddr()) })
	if got := a.Path(b.ID()).SeenAs; got != a.LocalAddr() {
		t.Errorf("a seen as %s, want %s", got, a.LocalAddr())
	}
	if h := b.Path(a.ID()).Heard; !slices.Contains(h, a.LocalAddr()) {
		t.Errorf("b heard %v, want a's address", h)
	}
}

// A probe under the wrong key (a third peer claiming to be A) gets no
// answer and adopts nothing.
func TestForgedProbeIgnored(t *testing.T) {
	a, b, mallory := loopClient(t), loopClient(t), loopClient(t)
	b.track(a.ID())
	// mallory builds a probe claiming a's PEER-ID with mallory's pair key.
	p := mallory.track(b.ID())
	forged := stun.New()
	forged.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
	wire.AddPeerID(forged, wire.AttrPeerID, a.ID())
	forged.AddMessageIntegritySHA256(p.key[:])
	forged.AddFingerprint()
	raw := rawConn(t)
	raw.WriteToUDPAddrPort(forged.Raw, b.LocalAddr())
	waitFor(t, "b counts the forged probe", func() bool { b.paths.mu.Lock(); defer b.paths.mu.Unlock(); return b.paths.dropped == 1 })
	raw.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := raw.ReadFromUDPAddrPort(make([]byte, 1500)); err == nil {
		t.Fatalf("b answered a forged probe (%d bytes)", n)
	}
	if r := b.Path(a.ID()); len(r.Heard) != 0 || len(r.Valid) != 0 {
		t.Fatalf("forged probe changed b's path: %+v", r)
	}
}

// A's genuine probe replayed from another address: B answers it (it cannot
// tell), with fewer bytes than the probe, and checks the new address, which
// cannot answer under the pair key: B never adopts it.
func TestReplayedProbeAdoptsNothing(t *testing.T) {
	a, b := loopClient(t), loopClient(t)
	b.track(a.ID())
	pa := a.track(b.ID())
	probe := stun.New()
	probe.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
	wire.AddPeerID(probe, wire.AttrPeerID, a.ID())
	probe.AddMessageIntegritySHA256(pa.key[:])
	probe.AddFingerprint()
	attacker := rawConn(t)
	attacker.WriteToUDPAddrPort(probe.Raw, b.LocalAddr())
	buf := make([]byte, 1500)
	attacker.SetReadDeadline(time.Now().Add(2 * time.Second))
	got := 0
	for got < 2 { // the answer and b's triggered probe
		n, _, err := attacker.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("attacker got %d datagrams from b: %v", got, err)
		}
		m := stun.New()
		if m.Decode(append([]byte(nil), buf[:n]...)) != nil {
			t.Fatal("b sent non-STUN")
		}
		if m.Type.Class == stun.ClassSuccess && n >= len(probe.Raw) {
			t.Errorf("answer %d bytes >= probe %d bytes: amplification", n, len(probe.Raw))
		}
		if m.Type.Class == stun.ClassRequest {
			// Echo b's probe back as an "answer" with the old probe's MAC:
			// it does not verify.
			fake := stun.New()
			fake.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassSuccess}, stun.MagicCookie, m.TransactionID)
			fake.AddXORAddress(stun.AttrXORMappedAddress, b.LocalAddr())
			fake.AddMessageIntegritySHA256(make([]byte, pairKeySize))
			fake.AddFingerprint()
			attacker.WriteToUDPAddrPort(fake.Raw, b.LocalAddr())
		}
		got++
	}
	time.Sleep(100 * time.Millisecond)
	if r := b.Path(a.ID()); len(r.Valid) != 0 {
		t.Fatalf("b adopted %v from a replayed probe", r.Valid)
	}
}

func rawConn(t *testing.T) *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A genuine probe replayed from many sources triggers at most maxPeerFlx
// probes back; every other source gets only the (smaller) answer.
func TestReplayFromManySourcesBounded(t *testing.T) {
	a, b := loopClient(t), loopClient(t)
	b.track(a.ID())
	pa := a.track(b.ID())
	probe := stun.New()
	probe.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassRequest}, stun.MagicCookie, stun.NewTransactionID())
	wire.AddPeerID(probe, wire.AttrPeerID, a.ID())
	probe.AddMessageIntegritySHA256(pa.key[:])
	probe.AddFingerprint()
	for range 3 * maxPeerFlx {
		rawConn(t).WriteToUDPAddrPort(probe.Raw, b.LocalAddr())
	}
	waitFor(t, "b answers every copy", func() bool { return len(b.Path(a.ID()).Heard) == maxPeerFlx })
	time.Sleep(100 * time.Millisecond)
	if r := b.Path(a.ID()); r.Sent != maxPeerFlx {
		t.Fatalf("b sent %d triggered probes for %d forged sources, want %d", r.Sent, 3*maxPeerFlx, maxPeerFlx)
	}
}
