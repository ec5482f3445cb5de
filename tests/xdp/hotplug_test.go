package xdp

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestNewInterfacePickedUp: with a pattern, an interface that appears later
// is attached (netlink notification, well before the 1 s rescan would
// matter much), and one that disappears loses its pin.
func TestNewInterfacePickedUp(t *testing.T) {
	e := newEnv(t, "interfaces = vb*\n")
	_, second := testenv.Veth(t, e.snd, "11.12.0.1/24", e.rcv, "11.12.0.2/24")
	var ifs []control.Interface
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		if ifs, err = e.client().Interfaces(); err == nil && len(ifs) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	found := false
	for _, i := range ifs {
		if i.Name == second {
			found = i.Mode == "native"
		}
	}
	if !found {
		t.Fatalf("new interface %s not attached natively: %+v", second, ifs)
	}
	pins, _ := os.ReadDir(filepath.Join(e.pinDir, "links"))
	if len(pins) != 2 {
		t.Errorf("%d pinned links, want 2", len(pins))
	}
	// The new interface's address becomes an own address: a spoof of it
	// arriving on the first interface is dropped as own-source.
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(e.status("own_addrs"), "11.12.0.2") {
		time.Sleep(20 * time.Millisecond)
	}
	if own := e.status("own_addrs"); !strings.Contains(own, "11.12.0.2") {
		t.Fatalf("own addresses %q lack the new interface's 11.12.0.2", own)
	}
	tx := newRawSender(t, e.snd, e.sndIf)
	spoof := e.pkt(netip.MustParseAddr("11.12.0.2"), 17, 40000, stunPort, 0xF101)
	spoof.payload = stunRequest(7)
	before := e.counters()
	for i := 0; i < 5; i++ {
		tx.send(t, spoof.frame())
	}
	waitFor(func() bool { return e.counters()["drop_own_source"]-before["drop_own_source"] >= 5 })
	if d := e.counters()["drop_own_source"] - before["drop_own_source"]; d != 5 {
		t.Errorf("spoofs of the new interface's address: drop_own_source moved %d, want 5", d)
	}

	e.rcv.Exec(t, "ip", "link", "del", second)
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ifs, _ = e.client().Interfaces(); len(ifs) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ifs) != 1 || ifs[0].Name != e.rcvIf {
		t.Errorf("after deleting %s the controller reports %+v", second, ifs)
	}
	if pins, _ := os.ReadDir(filepath.Join(e.pinDir, "links")); len(pins) != 1 {
		t.Errorf("%d pinned links after the interface went away, want 1", len(pins))
	}
}
