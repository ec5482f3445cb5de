package xdp

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFleetOverlay: the fleet's data port is dropped by the filter until
// appliance-firewall's overlay (here written by hand in its format, which
// mgmt's tests produce with mgmt.Plan.Overlay) opens it for the members'
// prefix; members on a private prefix then pass the bogon check and are
// not held to a stranger's per-source budget. Removing the overlay and
// reloading closes the port again, without detaching.
func TestFleetOverlay(t *testing.T) {
	e := newEnv(t, "")
	obs := newObserver(t, e.rcv, e.rcvIf)
	tx := newRawSender(t, e.snd, e.sndIf)
	member := netip.MustParseAddr("10.77.0.5") // private: a bogon by default
	const fleetData = 7947
	burst := func(id uint16, n int) int {
		for i := 0; i < n; i++ {
			tx.send(t, e.pkt(member, 17, 40000, fleetData, id).frame())
		}
		waitFor(func() bool { return obs.seen(member, id) == n })
		time.Sleep(100 * time.Millisecond)
		return obs.seen(member, id)
	}
	if n := burst(0xF001, 5); n != 0 {
		t.Fatalf("without the overlay %d of 5 frames to the fleet's data port arrived", n)
	}

	path := filepath.Join(e.dir, "overlay.conf")
	writeFile(t, path, "udp_ports = 7946, 7947\ntcp_ports = 7946\nallow = 10.77.0.0/24\n")
	e.stopController(unix.SIGTERM)
	e.ctlArgs = []string{"-overlay", path}
	e.startController()
	e.waitAttached()
	// 300 frames: beyond udp_burst (200), so a budget would show.
	if n := burst(0xF002, 300); n != 300 {
		t.Fatalf("with the overlay %d of 300 frames from a member arrived", n)
	}

	prog := e.programID()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	e.hup(`msg="configuration reloaded"`)
	if n := burst(0xF003, 5); n != 0 {
		t.Errorf("after the overlay was removed and reloaded, %d of 5 frames arrived", n)
	}
	if e.programID() != prog {
		t.Error("the reload re-attached the filter")
	}

	// A hostile overlay is left out and said; the filter keeps running.
	writeFile(t, path, "udp_rate = 0\nblock = 0.0.0.0/0\n")
	e.hup(`msg="configuration reloaded"`)
	if n := burst(0xF004, 5); n != 0 {
		t.Errorf("a refused overlay opened the port: %d of 5 frames arrived", n)
	}
	if !strings.Contains(e.ctlLog.String(), "ignoring the overlay") {
		t.Errorf("the refused overlay was not reported:\n%s", e.ctlLog.String())
	}
}
