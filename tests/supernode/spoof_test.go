package supernode

import (
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// spoofNet: an attacker and a victim on the internet with the supernode.
//
//	attacker 100.64.1.2 (also holds the victim's 100.64.2.2) ─┐
//	                                                           inet ── sn 192.0.2.1
//	victim   100.64.2.2 ──────────────────────────────────────┘
//
// The internet does no source-address validation (no BCP 38), so the
// attacker's datagrams with the victim's source reach the supernode and its
// replies go to the victim: the reflection/amplification setting.
type spoofNet struct {
	inet, sn, attacker, victim *testenv.NS
	snIP, victimIP             netip.Addr
	snIf, victimIf             string
}

func newSpoofNet(t *testing.T) *spoofNet {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip", "sysctl")
	n := &spoofNet{
		inet: testenv.NewNS(t, "sp-inet"), sn: testenv.NewNS(t, "sp-pub"),
		attacker: testenv.NewNS(t, "sp-att"), victim: testenv.NewNS(t, "sp-vic"),
		snIP: netip.MustParseAddr("192.0.2.1"), victimIP: netip.MustParseAddr("100.64.2.2"),
	}
	_, n.snIf = testenv.Veth(t, n.inet, "192.0.2.254/24", n.sn, "192.0.2.1/24")
	testenv.Veth(t, n.inet, "100.64.1.254/24", n.attacker, "100.64.1.2/24")
	_, n.victimIf = testenv.Veth(t, n.inet, "100.64.2.254/24", n.victim, "100.64.2.2/24")
	n.inet.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// Strict reverse-path filtering would be BCP 38 done for us; turn it
	// off to model the internet the supernode must survive.
	n.inet.Exec(t, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0")
	n.inet.Exec(t, "sysctl", "-qw", "net.ipv4.conf.default.rp_filter=0")
	n.sn.Exec(t, "ip", "route", "add", "default", "via", "192.0.2.254")
	n.attacker.Exec(t, "ip", "route", "add", "default", "via", "100.64.1.254")
	n.victim.Exec(t, "ip", "route", "add", "default", "via", "100.64.2.254")
	// The forged source: the attacker owns the victim's address locally,
	// so an unmodified client can bind it; packets leave via the internet.
	n.attacker.Exec(t, "ip", "addr", "add", n.victimIP.String()+"/32", "dev", "lo")
	return n
}

// TestSpoofedRegister: the real client, run by an attacker with the
// victim's address as source, never gets past the cookie: the supernode
// keeps no state (directory stays empty) and every reply the victim gets is
// no larger than the forged request it answers (no amplification).
func TestSpoofedRegister(t *testing.T) {
	bin := bins(t)
	n := newSpoofNet(t)
	capSN := startCapture(t, runner{n.sn}, n.snIf)
	capVictim := startCapture(t, runner{n.victim}, n.victimIf)
	sn := startSupernode(t, runner{n.sn}, bin, n.snIP)

	key := filepath.Join(t.TempDir(), "attacker.key")
	keygen(t, bin, key)
	reg := runner{n.attacker}.start(t, "register", filepath.Join(bin, "supernode-client"), "register",
		"-key", key, "-once", "-bind", netip.AddrPortFrom(n.victimIP, 0).String(), sn.addr.String())
	if code := reg.exited(4 * time.Second); code == 0 {
		t.Fatalf("a registration from a forged source succeeded\n%s", reg)
	}
	reg.stop()
	if l, ok := reg.out.wait("registered", 0, reg.done); ok {
		t.Fatalf("client claims a registration from a forged source: %q", l)
	}
	if v := sn.metric(t, runner{n.sn}, "supernode_directory_peers"); v != 0 {
		t.Fatalf("supernode_directory_peers = %v after spoofed registrations, want 0", v)
	}

	requests := map[[12]byte]int{} // transaction id -> request size
	var reqBytes, nreq int
	for _, d := range capSN.stop(t) {
		if d.src.Addr() == n.victimIP && d.dst == sn.addr {
			if tid, ok := transactionID(d.payload); ok {
				requests[tid] = len(d.payload)
			}
			reqBytes += len(d.payload)
			nreq++
		}
	}
	if nreq == 0 {
		t.Fatal("no forged request reached the supernode: the test proved nothing")
	}
	var respBytes, nresp int
	for _, d := range capVictim.stop(t) {
		if d.src != sn.addr {
			continue
		}
		nresp++
		respBytes += len(d.payload)
		tid, ok := transactionID(d.payload)
		req, found := requests[tid]
		switch {
		case !ok || !found:
			t.Errorf("victim got %s that answers no forged request", d)
		case len(d.payload) > req:
			t.Errorf("amplification: victim got a %d-byte reply to a %d-byte forged request", len(d.payload), req)
		}
	}
	if respBytes > reqBytes {
		t.Errorf("victim received %d bytes in %d replies for %d bytes in %d forged requests", respBytes, nresp, reqBytes, nreq)
	}
	t.Logf("%d forged requests (%d bytes) drew %d replies (%d bytes) to the victim", nreq, reqBytes, nresp, respBytes)
}

// transactionID returns the 96-bit transaction id of a STUN message
// (RFC 8489 §5), or false if b is not STUN-framed.
func transactionID(b []byte) ([12]byte, bool) {
	var tid [12]byte
	if len(b) < 20 || b[0]&0xc0 != 0 || binary.BigEndian.Uint32(b[4:8]) != 0x2112A442 {
		return tid, false
	}
	copy(tid[:], b[8:20])
	return tid, true
}

// TestForgedRawPackets checks the raw-socket forger itself against the
// wire, without the supernode: a datagram with a forged source sent from
// the attacker reaches the victim's side of the internet with that source
// and a valid UDP checksum (a listener in the sn namespace receives it).
func TestForgedRawPackets(t *testing.T) {
	n := newSpoofNet(t)
	sn := runner{n.sn}
	port := freeUDPPort(t, sn, n.snIP)
	var got []byte
	var from netip.AddrPort
	recvd := make(chan error, 1)
	ready := make(chan *net.UDPConn, 1)
	go func() {
		recvd <- sn.do(func() error {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.snIP, port)))
			if err != nil {
				ready <- nil
				return err
			}
			defer c.Close()
			ready <- c
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1500)
			k, a, err := c.ReadFromUDPAddrPort(buf)
			got, from = buf[:k], a
			return err
		})
	}()
	if <-ready == nil {
		t.Fatal(<-recvd)
	}
	forged := netip.AddrPortFrom(n.victimIP, 4242)
	if err := (runner{n.attacker}).do(func() error {
		return sendForged(forged, netip.AddrPortFrom(n.snIP, port), []byte("forged hello!"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-recvd; err != nil {
		t.Fatalf("forged datagram not received (bad checksum or routing?): %v", err)
	}
	if from != forged || string(got) != "forged hello!" {
		t.Fatalf("received %q from %s, want %q from %s", got, from, "forged hello!", forged)
	}
}

// TestReplayedRegisterFromForgedSource: an attacker who sniffed a peer's
// complete registration (cookie, signature and all) replays every datagram
// of it through a raw socket with the victim's address as source, while the
// cookie is still fresh. The cookie is bound to the peer's address, so the
// supernode must not move the peer's entry to the victim (hijack), must not
// add an entry, and must not send the victim more bytes than it was sent.
func TestReplayedRegisterFromForgedSource(t *testing.T) {
	bin := bins(t)
	n := newSpoofNet(t)
	sn := startSupernode(t, runner{n.sn}, bin, n.snIP)
	peerIP := netip.MustParseAddr("100.64.1.2") // the attacker namespace's own address

	// The peer registers honestly; the attacker's sniffer is tcpdump on the
	// supernode's link.
	sniff := startCapture(t, runner{n.sn}, n.snIf)
	dir := t.TempDir()
	key := filepath.Join(dir, "peer.key")
	pub := keygen(t, bin, key)
	// Not -once: the peer stays online (keepalives) through the attack.
	honest := runner{n.attacker}.start(t, "register", filepath.Join(bin, "supernode-client"), "register",
		"-key", key, "-bind", netip.AddrPortFrom(peerIP, 0).String(), sn.addr.String())
	if l := honest.waitLine(t, "registered ", 10*time.Second); !strings.HasPrefix(l, "registered mapped="+peerIP.String()+":") {
		t.Fatalf("honest register printed %q", l)
	}
	var sniffed []datagram
	for _, d := range sniff.stop(t) {
		if d.src.Addr() == peerIP && d.dst == sn.addr {
			sniffed = append(sniffed, d)
		}
	}
	if len(sniffed) < 2 {
		t.Fatalf("sniffed %d datagrams of the registration, want the cookie round trip (>= 2)", len(sniffed))
	}
	sn.waitPeers(t, runner{n.sn}, 1, nil)

	capSN := startCapture(t, runner{n.sn}, n.snIf)
	capVictim := startCapture(t, runner{n.victim}, n.victimIf)
	forged := netip.AddrPortFrom(n.victimIP, sniffed[0].src.Port())
	var reqBytes int
	for round := 0; round < 3; round++ {
		for _, d := range sniffed {
			if err := (runner{n.attacker}).do(func() error { return sendForged(forged, sn.addr, d.payload) }); err != nil {
				t.Fatal(err)
			}
			reqBytes += len(d.payload)
		}
	}
	time.Sleep(300 * time.Millisecond)
	arrived := 0
	for _, d := range capSN.stop(t) {
		if d.src == forged && d.dst == sn.addr {
			arrived++
		}
	}
	if arrived != 3*len(sniffed) {
		t.Fatalf("%d of %d forged datagrams reached the supernode's link", arrived, 3*len(sniffed))
	}
	var respBytes int
	for _, d := range capVictim.stop(t) {
		if d.src == sn.addr {
			respBytes += len(d.payload)
		}
	}
	if respBytes > reqBytes {
		t.Errorf("amplification: victim got %d bytes for %d forged bytes", respBytes, reqBytes)
	}
	if v := sn.metric(t, runner{n.sn}, "supernode_directory_peers"); v != 1 {
		t.Errorf("supernode_directory_peers = %v after the replay, want 1 (the honest peer)", v)
	}

	// The honest peer's entry still points at the honest peer.
	other := filepath.Join(dir, "other.key")
	keygen(t, bin, other)
	look := client(t, runner{n.victim}, bin, "lookup", "-key", other, "-peer", pub, sn.addr.String())
	want := "peer " + pub + " reflexive=" + peerIP.String() + ":"
	if !strings.HasPrefix(look, want) {
		t.Fatalf("lookup after the replay: %q, want it to start %q (entry hijacked?)", look, want)
	}
	t.Logf("replayed %d datagrams (%d bytes) x3 from %s: victim got %d bytes", len(sniffed), reqBytes/3, forged, respBytes)
}
