package fleet

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestGossipOnlyFromFleetAllow (issue #11 item 3): a TCP connection to the
// gossip port from outside fleet_allow is closed before memberlist reads a
// byte of it.
func TestGossipOnlyFromFleetAllow(t *testing.T) {
	cfg := fastConfig(t, "solo", newKey(t), nil)
	cfg.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	m := startMember(t, cfg)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", cfg.Bind.String())
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	}
	defer c.Close()
	c.Write(make([]byte, 64<<10)) // memberlist would buffer this
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF && !isReset(err) {
		t.Fatalf("a stranger's connection stayed open: %v", err)
	}
	if v := value(m.met.gossipStreams.WithLabelValues("refused_source")); v != 1 {
		t.Fatalf("refused_source = %v, want 1", v)
	}
}

func isReset(err error) bool {
	op, ok := err.(*net.OpError)
	return ok && op.Err != nil && !op.Timeout()
}

// TestCappedConn: a gossip stream delivers at most its budget.
func TestCappedConn(t *testing.T) {
	a, b := net.Pipe()
	tr := &gossipTransport{met: newMetrics(nil)}
	tr.open.Add(1)
	c := &cappedConn{Conn: a, left: 10, t: tr}
	go b.Write(make([]byte, 100))
	n, err := io.ReadFull(c, make([]byte, 100))
	if n != 10 || err == nil {
		t.Fatalf("read %d bytes, err %v; want 10 and an error", n, err)
	}
	c.Close()
	c.Close()
	if tr.open.Load() != 0 {
		t.Fatalf("open streams %d after close", tr.open.Load())
	}
}
