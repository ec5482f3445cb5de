package supernode

import (
	"bufio"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// fakeController is the XDP controller's control socket as the supernode
// sees it: it records every "block" line and answers "ok".
type fakeController struct {
	path  string
	mu    sync.Mutex
	lines []string
	got   chan struct{}
}

func newFakeController(t *testing.T) *fakeController {
	t.Helper()
	f := &fakeController{path: filepath.Join(t.TempDir(), "control.sock"), got: make(chan struct{}, 100)}
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					f.mu.Lock()
					f.lines = append(f.lines, strings.TrimSpace(l))
					f.mu.Unlock()
					c.Write([]byte("ok\n"))
					f.got <- struct{}{}
				}
			}()
		}
	}()
	return f
}

func (f *fakeController) blocks() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// TestForgedFloodBlocksNobody: issue #11 item 2, end to end with the
// daemon and a controller socket. An attacker forges 600 bad-FINGERPRINT
// Binding requests with the source address of a peer that is registered
// (proven) at the supernode, well over abuse_threshold. Before the fix the
// supernode asked the controller to block the victim; now the drops are
// counted and nobody is blocked. The control: the attacker's own proven
// abuse (valid cookie, bad signatures) is still reported, so the socket
// path works.
func TestForgedFloodBlocksNobody(t *testing.T) {
	bin := bins(t)
	n := newSpoofNet(t)
	ctl := newFakeController(t)
	sn := startSupernode(t, runner{n.sn}, bin, n.snIP,
		"abuse_socket = "+ctl.path, "abuse_threshold = 50", "rate_limit = 10000", "rate_burst = 10000")

	// The victim registers and stays online.
	key := filepath.Join(t.TempDir(), "victim.key")
	keygen(t, bin, key)
	victim := runner{n.victim}.start(t, "register", filepath.Join(bin, "supernode-client"), "register",
		"-key", key, "-bind", netip.AddrPortFrom(n.victimIP, 0).String(), sn.addr.String())
	l := victim.waitLine(t, "registered ", 10*time.Second)
	mapped, err := netip.ParseAddrPort(strings.TrimPrefix(strings.Fields(l)[1], "mapped="))
	if err != nil {
		t.Fatalf("victim printed %q", l)
	}

	m := stun.New()
	m.Build(stun.BindingRequest, stun.MagicCookie, stun.NewTransactionID())
	m.AddFingerprint()
	bad := append([]byte(nil), m.Raw...)
	bad[len(bad)-1] ^= 1
	const forged = 600
	if err := (runner{n.attacker}).do(func() error {
		for range forged {
			if err := sendForged(mapped, sn.addr, bad); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sn.metric(t, runner{n.sn}, "supernode_drops_total", `reason="bad_fingerprint"`) < forged {
		if time.Now().After(deadline) {
			t.Fatalf("only %v of %d forged datagrams were counted", sn.metric(t, runner{n.sn}, "supernode_drops_total", `reason="bad_fingerprint"`), forged)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The control: proven abuse from the attacker's own address.
	attackerIP := netip.MustParseAddr("100.64.1.2")
	if err := (runner{n.attacker}).do(func() error { return testenv.BadSignatures(sn.addr, 60) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctl.got:
	case <-time.After(10 * time.Second):
		t.Fatalf("the attacker's own proven abuse was never reported; blocks %v", ctl.blocks())
	}
	blocks := ctl.blocks()
	for _, b := range blocks {
		if strings.HasPrefix(b, "block "+n.victimIP.String()+" ") {
			t.Fatalf("the supernode asked to block the victim %s for forged datagrams: %q", n.victimIP, b)
		}
	}
	if len(blocks) != 1 || !strings.HasPrefix(blocks[0], "block "+attackerIP.String()+" 600 bad_signature") {
		t.Fatalf("blocks %q, want one for the attacker's own bad signatures", blocks)
	}
}
