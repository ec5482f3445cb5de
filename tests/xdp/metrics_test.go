package xdp

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestMetrics scrapes the management listener (inside the receiver's
// namespace) after known traffic: drops by verdict and reason, the attached
// interface with its mode, dynamic blocks and control requests.
func TestMetrics(t *testing.T) {
	e := newEnv(t, "")
	tx := newRawSender(t, e.snd, e.sndIf)
	bogon := e.pkt(netip.MustParseAddr("192.168.1.1"), 17, 40000, stunPort, 0x7001)
	bogon.payload = stunRequest(1)
	for i := 0; i < 7; i++ {
		tx.send(t, bogon.frame())
	}
	if err := e.client().Block(netip.MustParseAddr("11.11.0.77"), time.Minute, "metrics test"); err != nil {
		t.Fatal(err)
	}
	waitFor(func() bool { return e.counters()["drop_bogon"] >= 7 })
	body := e.scrape("/metrics")
	for _, want := range []struct {
		re  string
		min float64
	}{
		{fmt.Sprintf(`supernode_xdp_packets_total\{interface="%s",reason="bogon",verdict="drop"\} (\S+)`, e.rcvIf), 7},
		{fmt.Sprintf(`supernode_xdp_bytes_total\{interface="%s",reason="bogon",verdict="drop"\} (\S+)`, e.rcvIf), 7 * 60},
		{fmt.Sprintf(`supernode_xdp_interface_attached\{interface="%s",mode="native"\} (\S+)`, e.rcvIf), 1},
		{`supernode_xdp_dynamic_blocks (\S+)`, 1},
		{`supernode_xdp_dynamic_blocks_added_total (\S+)`, 1},
		{`supernode_xdp_control_requests_total\{command="block",result="ok"\} (\S+)`, 1},
		{fmt.Sprintf(`supernode_xdp_packets_total\{interface="%s",reason="service",verdict="pass"\} (\S+)`, e.rcvIf), 0},
	} {
		m := regexp.MustCompile(`(?m)^` + want.re).FindStringSubmatch(body)
		if m == nil {
			t.Errorf("no %s in /metrics", want.re)
			continue
		}
		if v, _ := strconv.ParseFloat(m[1], 64); v < want.min {
			t.Errorf("%s = %v, want >= %v", want.re, v, want.min)
		}
	}
	if got := e.scrape("/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q", got)
	}
}

// scrape GETs path from the controller's management listener, connecting
// from inside the receiver's namespace.
func (e *env) scrape(path string) string {
	e.t.Helper()
	body, err := testenv.HTTPGet(e.rcv.Do, "127.0.0.1:9101", path)
	if err != nil {
		e.t.Fatal(err)
	}
	return body
}
