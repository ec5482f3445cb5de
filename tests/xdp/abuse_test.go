package xdp

import (
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestSupernodeAbuseReportBlocksInDriver is the design's loop end to end:
// the real supernode judges a source abusive (it proved its address with a
// cookie, then kept sending registrations with broken signatures), reports
// it over the control socket, and from then on the XDP filter drops that
// source in the driver. Only proven abuse is reported: a spoofed source's
// datagrams never are (tests/supernode TestForgedFloodBlocksNobody).
func TestSupernodeAbuseReportBlocksInDriver(t *testing.T) {
	// XDP budgets off so the supernode, not the filter, sees the abuse.
	e := newEnv(t, "udp_rate = 0\n")
	snConf := filepath.Join(e.dir, "supernode.conf")
	writeFile(t, snConf, strings.Join([]string{
		"listen = 0.0.0.0:3478",
		"metrics_listen =",
		"abuse_threshold = 20",
		"abuse_window = 10s",
		"abuse_ttl = 120s",
		"abuse_socket = " + e.socket,
	}, "\n")+"\n")
	var snLog syncBuffer
	e.rcv.Start(t, func(c *exec.Cmd) { c.Stdout, c.Stderr = &snLog, &snLog }, filepath.Join(e.bin, "supernode"), "-config", snConf)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("supernode log:\n%s", snLog.String())
		}
	})
	time.Sleep(500 * time.Millisecond)

	obs := newObserver(t, e.rcv, e.rcvIf)
	tx := newRawSender(t, e.snd, e.sndIf)
	abuser := sndIP
	if err := e.snd.Do(func() error {
		return testenv.BadSignatures(netip.AddrPortFrom(rcvIP, stunPort), 60)
	}); err != nil {
		t.Fatal(err)
	}
	p := e.pkt(abuser, 17, 40000, stunPort, 0xAB01)
	p.payload = stunRequest(9)
	var blocked bool
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !blocked {
		bs, _ := e.client().List()
		for _, b := range bs {
			blocked = blocked || b.Addr == abuser
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !blocked {
		t.Fatalf("the supernode did not get %s blocked; controller log:\n%s", abuser, e.ctlLog.String())
	}
	if !strings.Contains(e.ctlLog.String(), `msg="dynamic block added"`) {
		t.Errorf("the controller did not log the block")
	}
	// From now on the driver drops it: none of a second burst reaches the
	// stack, and every frame is counted as a dynamic block.
	before := e.counters()
	p.id = 0xAB02
	for i := 0; i < 50; i++ {
		tx.send(t, p.frame())
	}
	waitFor(func() bool { return e.counters()["drop_dynamic"]-before["drop_dynamic"] >= 50 })
	if d := e.counters()["drop_dynamic"] - before["drop_dynamic"]; d != 50 || obs.seen(abuser, 0xAB02) != 0 {
		t.Errorf("after the report: drop_dynamic moved %d (want 50), %d frames reached the stack (want 0)", d, obs.seen(abuser, 0xAB02))
	}
}
