package supernode

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestHolePunchThroughNATs: peer A (behind NAT A) listens, peer B (behind
// NAT B) asks the supernode for A and punches; B's message reaches A and A's
// echo reaches B directly between the two NATs' public addresses. Three
// witnesses prove no relay: the clients' own reports, tcpdump on the
// "internet" links and on the supernode's link, and the supernode's
// counters.
func TestHolePunchThroughNATs(t *testing.T) {
	t.Run("distinct LANs", func(t *testing.T) { testHolePunch(t, false) })
	t.Run("same LAN addresses", func(t *testing.T) { testHolePunch(t, true) })
}

func testHolePunch(t *testing.T, sameLAN bool) {
	bin := bins(t)
	n := newNATNet(t, sameLAN)
	capSN := startCapture(t, runner{n.sn}, n.snIf)
	capA := startCapture(t, runner{n.inet}, n.inetToA)
	capB := startCapture(t, runner{n.inet}, n.inetToB)
	sn := startSupernode(t, runner{n.sn}, bin, n.snIP)

	dir := t.TempDir()
	keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	pubA := keygen(t, bin, keyA)
	pubB := keygen(t, bin, keyB)

	listener := runner{n.peerA}.start(t, "listen", filepath.Join(bin, "supernode-client"), "listen", "-key", keyA, sn.addr.String())
	sn.waitPeers(t, runner{n.sn}, 1, listener)

	msg := "punch-" + randomHex(8)
	puncher := runner{n.peerB}.start(t, "punch", filepath.Join(bin, "supernode-client"), "punch",
		"-key", keyB, "-peer", pubA, "-message", msg, "-timeout", "15s", sn.addr.String())
	if code := puncher.exited(30 * time.Second); code != 0 {
		t.Fatalf("punch exited %d, want 0\n%s\n%s", code, puncher, listener)
	}

	// B's view: the answer came straight from NAT A's public address.
	direct := field(t, puncher.waitLine(t, "direct ", time.Second), 1)
	if d, err := netip.ParseAddrPort(direct); err != nil || d.Addr() != n.natAWAN {
		t.Fatalf("punch: direct %q, want NAT A's public address %s", direct, n.natAWAN)
	}
	if got := puncher.waitLine(t, "reply ", time.Second); got != "reply echo:"+msg {
		t.Fatalf("punch: %q, want %q", got, "reply echo:"+msg)
	}
	// A's view: introduced to B, then B's text arrived from NAT B.
	intro := listener.waitLine(t, "introduced "+pubB, 5*time.Second)
	if !strings.Contains(intro, "from=") {
		t.Fatalf("listen: %q lacks from=", intro)
	}
	recv := listener.waitLine(t, "received ", 5*time.Second)
	if f := strings.Fields(recv); len(f) != 3 || f[2] != msg || !strings.HasPrefix(f[1], n.natBWAN.String()+":") {
		t.Fatalf("listen: %q, want `received %s:PORT %s`", recv, n.natBWAN, msg)
	}

	// The supernode's view: it introduced the peers and never saw a
	// datagram that was not STUN-framed (the peers' text) or a method
	// other than its own: it relayed nothing.
	r := runner{n.sn}
	if v := sn.metric(t, r, "supernode_introductions_total"); v < 1 {
		t.Errorf("supernode_introductions_total = %v, want >= 1", v)
	}
	if v := sn.metric(t, r, "supernode_requests_total", `method="lookup"`, `result="ok"`); v < 1 {
		t.Errorf("supernode_requests_total{method=lookup,result=ok} = %v, want >= 1", v)
	}
	if v := sn.metric(t, r, "supernode_drops_total", `reason="not_stun"`); v != 0 {
		t.Errorf("supernode_drops_total{reason=not_stun} = %v: a peer datagram reached the supernode", v)
	}
	if v := sn.metric(t, r, "supernode_requests_total", `method="other"`); v != 0 {
		t.Errorf("supernode_requests_total{method=other} = %v, want 0", v)
	}

	// The wire: the text crossed the internet between the two NATs only.
	fromB := []byte(msg)
	fromA := []byte("echo:" + msg)
	for _, c := range []struct {
		name string
		cap  *capture
	}{{"NAT A link", capA}, {"NAT B link", capB}} {
		sawB, sawA := false, false
		for _, d := range c.cap.stop(t) {
			hasB, hasA := bytes.Contains(d.payload, fromB), bytes.Contains(d.payload, fromA)
			if (hasA || hasB) && (d.src.Addr() == n.snIP || d.dst.Addr() == n.snIP) {
				t.Errorf("%s: peer payload to or from the supernode: %s", c.name, d)
			}
			if hasB && !hasA && d.src.Addr() == n.natBWAN && d.dst.Addr() == n.natAWAN {
				sawB = true
			}
			if hasA && d.src.Addr() == n.natAWAN && d.dst.Addr() == n.natBWAN {
				sawA = true
			}
		}
		if !sawB || !sawA {
			t.Errorf("%s: want B's text NAT B > NAT A (seen %v) and A's echo NAT A > NAT B (seen %v)", c.name, sawB, sawA)
		}
	}
	methods := map[string]int{}
	introductions := 0 // indications from the supernode to NAT A
	for _, d := range capSN.stop(t) {
		// Everything on the supernode's port is STUN (DESIGN.md, wire
		// protocol): pion/stun, which nobody here wrote, must decode every
		// datagram, our custom methods included, with a valid FINGERPRINT.
		if d.src == sn.addr || d.dst == sn.addr {
			m := &stun.Message{Raw: d.payload}
			if err := m.Decode(); err != nil {
				t.Errorf("pion/stun cannot decode %s: %v", d, err)
			} else if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
				t.Errorf("%s: FINGERPRINT fails pion/stun's check", d)
			} else {
				methods[m.Type.String()]++
				if m.Type.Class == stun.ClassIndication && d.src == sn.addr && d.dst.Addr() == n.natAWAN {
					introductions++
				}
			}
		}
		if bytes.Contains(d.payload, fromB) {
			t.Errorf("supernode link carried the peers' text: %s", d)
		}
		if d.src.Addr() != n.snIP && d.dst.Addr() != n.snIP {
			t.Errorf("supernode link carried a datagram not to or from the supernode: %s", d)
		}
		if d.src.Addr() == n.snIP && d.src != sn.addr || d.dst.Addr() == n.snIP && d.dst != sn.addr {
			t.Errorf("supernode used a port other than its service port: %s", d)
		}
	}
	t.Logf("supernode link, by message type (pion/stun's names): %v", methods)
	if introductions == 0 {
		t.Errorf("no indication (the introduction of B) went from the supernode to NAT A")
	}
}

// keygen makes a key with the client and returns its public key (hex).
func keygen(t *testing.T, bin, path string) string {
	t.Helper()
	pub := strings.TrimSpace(client(t, runner{}, bin, "keygen", "-o", path))
	if b, err := hex.DecodeString(pub); err != nil || len(b) != 32 {
		t.Fatalf("keygen printed %q, want 64 hex digits", pub)
	}
	return pub
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// field returns the i-th space-separated field of line.
func field(t *testing.T, line string, i int) string {
	t.Helper()
	f := strings.Fields(line)
	if len(f) <= i {
		t.Fatalf("line %q has no field %d", line, i)
	}
	return f[i]
}
