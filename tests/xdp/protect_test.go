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

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/control"
)

// TestReportsCannotBlockProtected (issue #11 item 2, controller side): a
// block request, which is what the supernode's abuse report is and which a
// spoofed source can provoke, must never block the gateway, a resolver, an
// own address or subnet, or a never_block prefix; it blocks an IPv6
// source's whole /64 (another address of it is dropped in the driver,
// another /64 passes); its TTL is capped at report_max_ttl; and a flood of
// reports cannot grow the table past max_blocks. Refusals are counted.
func TestReportsCannotBlockProtected(t *testing.T) {
	e := newEnv(t, "never_block = 11.13.0.0/16\nmax_blocks = 20\n")
	// A gateway, and a resolver through ip-netns-exec's per-namespace
	// /etc/netns/NAME/resolv.conf; the controller restarts to see it.
	e.rcv.Exec(t, "ip", "route", "add", "default", "via", sndIP.String())
	etc := filepath.Join("/etc/netns", e.rcv.Name)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	writeFile(t, filepath.Join(etc, "resolv.conf"), "nameserver 11.12.0.53\n")
	e.stopController(unix.SIGTERM)
	e.redial()
	e.startController()
	e.waitAttached()

	report := func(a string, ttl time.Duration) (control.Blocked, error) {
		return e.client().BlockAs(netip.MustParseAddr(a), ttl, "protect test", false)
	}
	refused := 0
	for addr, why := range map[string]string{
		sndIP.String(): "default gateway",
		"11.12.0.53":   "resolver",
		rcvIP.String(): "address of " + e.rcvIf,
		"11.13.4.5":    "never_block",
		"2a00:1::77":   "address of " + e.rcvIf, // the /64 holds the receiver's address
	} {
		_, err := report(addr, time.Minute)
		refused++
		if err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "-force") {
			t.Errorf("report of %s: %v; want a refusal naming %q and -force", addr, err, why)
		}
	}
	// Connected subnets are protected once never_block_connected is on.
	if _, err := report("11.11.0.99", time.Minute); err != nil {
		t.Errorf("report of 11.11.0.99 with never_block_connected = false: %v", err)
	}
	e.writeConfig(overlay(e.baseConfig(), "never_block = 11.13.0.0/16\nmax_blocks = 20\nnever_block_connected = true\n"))
	e.hup(`msg="configuration reloaded"`)
	_, err := report("11.11.0.98", time.Minute)
	refused++
	if err == nil || !strings.Contains(err.Error(), "connected subnet of "+e.rcvIf) {
		t.Errorf("report of 11.11.0.98 in the connected subnet: %v; want a refusal", err)
	}
	// An operator may force (the test runs as root).
	if _, err := e.client().BlockAs(netip.MustParseAddr("11.13.4.6"), time.Hour, "operator", true); err != nil {
		t.Errorf("forced block of a never_block address: %v", err)
	}
	if got := e.status("refused_protected"); got != strconv.Itoa(refused) {
		t.Errorf("status refused_protected = %s, want %d", got, refused)
	}

	// IPv6: the /64 is blocked, in the driver.
	got, err := report("2a00:2::1", time.Minute)
	if err != nil || got.Prefix != netip.MustParsePrefix("2a00:2::/64") {
		t.Fatalf("report of 2a00:2::1: %+v, %v; want 2a00:2::/64 blocked", got, err)
	}
	obs := newObserver(t, e.rcv, e.rcvIf)
	tx := newRawSender(t, e.snd, e.sndIf)
	before := e.counters()
	same, other := netip.MustParseAddr("2a00:2::99"), netip.MustParseAddr("2a00:3::1")
	for i, src := range []netip.Addr{same, other} {
		p := e.pkt(src, 17, 40000, stunPort, uint16(0xC601+i))
		p.payload = stunRequest(uint64(i + 1))
		for range 5 {
			tx.send(t, p.frame())
		}
	}
	waitFor(func() bool { return obs.seen(other, 0xC602) == 5 })
	waitFor(func() bool { return e.counters()["drop_dynamic"]-before["drop_dynamic"] >= 5 })
	if d, s, o := e.counters()["drop_dynamic"]-before["drop_dynamic"], obs.seen(same, 0xC601), obs.seen(other, 0xC602); d != 5 || s != 0 || o != 5 {
		t.Errorf("after blocking 2a00:2::/64: drop_dynamic +%d (want 5), %d of 5 frames from %s arrived (want 0), %d of 5 from %s (want 5)", d, s, same, o, other)
	}

	// An over-long TTL is capped at report_max_ttl (10m by default).
	got, err = report("11.14.0.1", 24*time.Hour)
	if err != nil || got.TTL != 10*time.Minute {
		t.Errorf("report with a 24h TTL: %+v, %v; want a 10m block", got, err)
	}
	bs, _ := e.client().List()
	for _, b := range bs {
		if b.Addr == netip.MustParseAddr("11.14.0.1") && time.Until(b.Expires) > 10*time.Minute+time.Second {
			t.Errorf("11.14.0.1 blocked for %s, want at most 10m", time.Until(b.Expires))
		}
	}
	if e.status("ttl_capped") != "1" {
		t.Errorf("status ttl_capped = %s, want 1", e.status("ttl_capped"))
	}

	// A flood of reports stops at max_blocks (20); renewing one still works.
	bs, _ = e.client().List()
	inForce, full := len(bs), 0
	for i := 1; i <= 100; i++ {
		if _, err := report(fmt.Sprintf("11.20.0.%d", i), time.Minute); err != nil {
			if !strings.Contains(err.Error(), "max_blocks = 20") {
				t.Fatalf("report %d: %v", i, err)
			}
			full++
		}
	}
	bs, _ = e.client().List()
	if len(bs) != 20 || full != 100-(20-inForce) {
		t.Errorf("after 100 reports: %d blocks in force, %d refused; want 20 and %d", len(bs), full, 100-(20-inForce))
	}
	if got := e.status("refused_full"); got != strconv.Itoa(full) {
		t.Errorf("status refused_full = %s, want %d", got, full)
	}
	if _, err := report("11.20.0.1", time.Minute); err != nil {
		t.Errorf("renewing a block with the table full: %v", err)
	}
	if m := e.scrape("/metrics"); !strings.Contains(m, fmt.Sprintf(`supernode_xdp_block_refusals_total{cause="full"} %d`, full)) {
		t.Errorf("metrics lack the refusals:\n%s", m)
	}
}
