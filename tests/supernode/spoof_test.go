package supernode

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
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
