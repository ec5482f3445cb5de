package xdp

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
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
	secondPeer, second := testenv.Veth(t, e.snd, "11.12.0.1/24", e.rcv, "11.12.0.2/24")
	var ifs []control.Interface
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		if ifs, err = e.client().Interfaces(); err == nil && len(ifs) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	found, secondIndex := false, 0
	for _, i := range ifs {
		if i.Name == second {
			found, secondIndex = i.Mode == "native", i.Index
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

	// Each interface counts on its own: bogons sent into the second one
	// show up in its counters and its metrics, not in the first one's,
	// while the total covers both.
	bogon := e.pkt(netip.MustParseAddr("192.168.9.9"), 17, 40000, stunPort, 0xF102)
	bogon.payload = stunRequest(8)
	bogon.srcMAC, bogon.dstMAC = e.mac(e.snd, secondPeer), e.mac(e.rcv, second)
	tx2 := newRawSender(t, e.snd, secondPeer)
	firstBefore := e.ifaceCounters(e.rcvIf)
	totalBefore := e.counters()
	for i := 0; i < 6; i++ {
		tx2.send(t, bogon.frame())
	}
	waitFor(func() bool { return e.ifaceCounters(second)["drop_bogon"] >= 6 })
	if n := e.ifaceCounters(second)["drop_bogon"]; n != 6 {
		t.Errorf("%s counted %d bogons, want the 6 sent into it", second, n)
	}
	if d := e.ifaceCounters(e.rcvIf)["drop_bogon"] - firstBefore["drop_bogon"]; d != 0 {
		t.Errorf("%s counted %d of the bogons sent into %s", e.rcvIf, d, second)
	}
	if d := e.counters()["drop_bogon"] - totalBefore["drop_bogon"]; d != 6 {
		t.Errorf("total drop_bogon moved %d, want 6", d)
	}
	if own := e.ifaceCounters(e.rcvIf)["drop_own_source"]; own != 5 {
		t.Errorf("%s drop_own_source = %d, want the 5 spoofs sent into it", e.rcvIf, own)
	}
	metric := fmt.Sprintf(`supernode_xdp_packets_total{interface="%s",reason="bogon",verdict="drop"} 6`, second)
	if body := e.scrape("/metrics"); !strings.Contains(body, metric) {
		t.Errorf("/metrics lacks %s", metric)
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
	if _, err := os.Stat(filepath.Join(e.pinDir, "counters_"+strconv.Itoa(secondIndex))); !os.IsNotExist(err) {
		t.Errorf("the counters of %s are still pinned after it went away (%v)", second, err)
	}
}
